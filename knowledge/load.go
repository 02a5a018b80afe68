package knowledge

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds one story file. A news story is kilobytes; anything near
// this is a mistake (a dump, a binary) and is refused rather than indexed.
const MaxFileSize = 50 << 20

//go:embed default/*.txt
var defaultFS embed.FS

// Default returns the story embedded in the binary, so storybot answers out of
// the box with no files and no network.
func Default() []*Story {
	stories, err := loadFS(defaultFS, "default")
	if err != nil {
		// The embedded file is part of the build; a failure here is a bug
		// that the package tests catch.
		panic(fmt.Sprintf("knowledge: embedded story: %v", err))
	}
	return stories
}

// LoadDir loads every .txt and .md file under dir (hidden files and folders
// are skipped). Reading goes through os.Root, so a symlink or path that
// escapes dir is refused instead of followed. If any file is broken, LoadDir
// returns no stories and an error that names each broken file and why: a
// reload must never swap in half a folder.
func LoadDir(dir string) ([]*Story, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("knowledge folder: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("knowledge folder %s: not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("knowledge folder: %w", err)
	}
	defer root.Close()
	stories, err := loadFS(root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("knowledge folder %s: %w", dir, err)
	}
	return stories, nil
}

func loadFS(fsys fs.FS, dir string) ([]*Story, error) {
	var (
		stories []*Story
		errs    []error
	)
	walkErr := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			return nil
		}
		name := d.Name()
		if p != dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isStoryFile(name) {
			return nil
		}
		s, err := readStory(fsys, p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if s.ID == "" {
			s.ID = slug(strings.TrimSuffix(rel, path.Ext(rel)))
		}
		if s.Title == "" {
			s.Title = s.ID
		}
		s.Path = rel
		stories = append(stories, s)
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	if err := checkUniqueIDs(stories); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(stories) == 0 {
		return nil, errors.New("no .txt or .md stories found")
	}
	sort.Slice(stories, func(i, j int) bool { return stories[i].ID < stories[j].ID })
	return stories, nil
}

func isStoryFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".txt", ".md":
		return true
	}
	return false
}

func checkUniqueIDs(stories []*Story) error {
	seen := make(map[string]string, len(stories))
	var errs []error
	for _, s := range stories {
		if other, ok := seen[s.ID]; ok {
			errs = append(errs, fmt.Errorf("%s: story id %q is already used by %s", s.Path, s.ID, other))
			continue
		}
		seen[s.ID] = s.Path
	}
	return errors.Join(errs...)
}

// readStory reads one file with the size limit applied before the whole file
// is in memory.
func readStory(fsys fs.FS, p string) (*Story, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	tooBig := fmt.Errorf("%s: file is larger than the %d MB limit for a story", p, MaxFileSize>>20)
	if info, err := f.Stat(); err == nil && info.Size() > MaxFileSize {
		return nil, tooBig
	}
	// The limit applies while reading too: a file may grow after Stat.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(data) > MaxFileSize {
		return nil, tooBig
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

// frontMatter is the optional YAML header of a story file. Unknown keys are an
// error: a typo such as "tilte" should not silently lose the title.
type frontMatter struct {
	ID        string `yaml:"id"`
	Title     string `yaml:"title"`
	Publisher string `yaml:"publisher"`
	Year      int    `yaml:"year"`
	URL       string `yaml:"url"`
}

// Parse reads one story file: optional front matter between "---" lines, then
// the text. The returned story has no Path, and no ID unless the front matter
// gives one.
func Parse(data []byte) (*Story, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errors.New("not a text file (it contains NUL bytes)")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8 text")
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	var fm frontMatter
	body, header, hasHeader := cutFrontMatter(text)
	if hasHeader {
		dec := yaml.NewDecoder(strings.NewReader(header))
		dec.KnownFields(true)
		if err := dec.Decode(&fm); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("front matter: %w", err)
		}
		if err := fm.validate(); err != nil {
			return nil, fmt.Errorf("front matter: %w", err)
		}
	}
	body, attribution := splitAttribution(body)
	if strings.TrimSpace(body) == "" {
		return nil, errors.New("the story has no text")
	}
	s := &Story{
		ID:          fm.ID,
		Title:       fm.Title,
		Publisher:   fm.Publisher,
		Year:        fm.Year,
		URL:         fm.URL,
		Body:        body,
		Attribution: attribution,
		Hash:        hashBytes(data),
	}
	if s.Title == "" {
		s.Title = firstHeading(body)
	}
	return s, nil
}

// cutFrontMatter splits "---\nYAML\n---\nbody". Without an opening "---" line
// the whole text is the body.
func cutFrontMatter(text string) (body, header string, ok bool) {
	first, rest, found := strings.Cut(text, "\n")
	if !found || strings.TrimRight(first, " \t\r") != "---" {
		return text, "", false
	}
	for off := 0; off <= len(rest); {
		line, after, more := strings.Cut(rest[off:], "\n")
		if t := strings.TrimRight(line, " \t\r"); t == "---" || t == "..." {
			return after, rest[:off], true
		}
		if !more {
			break
		}
		off += len(line) + 1
	}
	// An opening "---" with no closing line is plain text, like a Markdown
	// horizontal rule at the top.
	return text, "", false
}

func (fm *frontMatter) validate() error {
	if fm.ID != "" && slug(fm.ID) != fm.ID {
		return fmt.Errorf("id %q must be lower-case letters, digits and dashes", fm.ID)
	}
	if fm.Year != 0 && (fm.Year < 1000 || fm.Year > 9999) {
		return fmt.Errorf("year %d is not a four-digit year", fm.Year)
	}
	if fm.URL != "" {
		u, err := url.Parse(fm.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q is not an absolute http(s) URL", fm.URL)
		}
	}
	return nil
}

// firstHeading gives Markdown stories without front matter a title.
func firstHeading(body string) string {
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	return ""
}
