package knowledge

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	stories, err := loadFS(context.Background(), embedFS{defaultFS}, "default")
	if err != nil {
		// The embedded file is part of the build; a failure here is a bug
		// that the package tests catch.
		panic(fmt.Sprintf("knowledge: embedded story: %v", err))
	}
	return stories
}

// LoadTimeout bounds LoadDir: reading a folder of news stories takes
// milliseconds; a file system that does not answer must not hang a reload.
const LoadTimeout = 30 * time.Second

// LoadDir is LoadDirContext with LoadTimeout.
func LoadDir(dir string) ([]*Story, error) {
	ctx, cancel := context.WithTimeout(context.Background(), LoadTimeout)
	defer cancel()
	return LoadDirContext(ctx, dir)
}

// LoadDirContext loads every .txt and .md file under dir (hidden files and
// folders are skipped), giving up when ctx ends. Reading goes through
// os.Root, so a symlink or path that escapes dir is refused instead of
// followed. Only regular files are read: a named pipe, device or socket
// is an error naming it (opening a pipe would wait for a writer forever).
// A file that changes while it is read is read again, and reported if it
// keeps changing (see readStable). If any file is broken, LoadDirContext
// returns no stories and an error that names each broken file and why: a
// reload must never swap in half a folder.
func LoadDirContext(ctx context.Context, dir string) ([]*Story, error) {
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
	stories, err := loadFS(ctx, rootFS{root}, ".")
	if err != nil {
		return nil, fmt.Errorf("knowledge folder %s: %w", dir, err)
	}
	return stories, nil
}

// storyFS is what loading reads from: a folder (rootFS) or the embedded
// story.
type storyFS interface {
	fs.FS
	// openFile opens p for reading without waiting on it (a pipe).
	openFile(p string) (fs.File, error)
	lstat(p string) (fs.FileInfo, error)
}

// rootFS reads a folder through os.Root.
type rootFS struct{ root *os.Root }

func (r rootFS) Open(p string) (fs.File, error) { return r.root.FS().Open(p) }

func (r rootFS) lstat(p string) (fs.FileInfo, error) { return r.root.Lstat(p) }

func (r rootFS) openFile(p string) (fs.File, error) { return r.root.OpenFile(p, openFlags, 0) }

// embedFS reads the story built into the binary.
type embedFS struct{ fs.FS }

func (e embedFS) lstat(p string) (fs.FileInfo, error) { return fs.Stat(e.FS, p) }

func (e embedFS) openFile(p string) (fs.File, error) { return e.FS.Open(p) }

func loadFS(ctx context.Context, fsys storyFS, dir string) ([]*Story, error) {
	var (
		paths []string
		errs  []error
	)
	walkErr := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("reading stopped at %s: %w", p, context.Cause(ctx))
		}
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
		paths = append(paths, p)
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	stories, readErrs := readStories(ctx, fsys, paths)
	errs = append(errs, readErrs...)
	for i, s := range stories {
		if s == nil {
			continue
		}
		rel := strings.TrimPrefix(paths[i], dir+"/")
		if s.ID == "" {
			s.ID = slug(strings.TrimSuffix(rel, path.Ext(rel)))
		}
		if s.Title == "" {
			s.Title = s.ID
		}
		s.Path = rel
	}
	stories = slices.DeleteFunc(stories, func(s *Story) bool { return s == nil })
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

// readStories reads the files at paths on a few goroutines (reading and
// parsing a folder of thousands of stories is CPU, and a reload waits for
// it): stories[i] is paths[i]'s, nil where it failed, and the errors come
// in the order of paths.
func readStories(ctx context.Context, fsys storyFS, paths []string) ([]*Story, []error) {
	stories := make([]*Story, len(paths))
	fail := make([]error, len(paths))
	workers := min(runtime.GOMAXPROCS(0), 4, (len(paths)+63)/64)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				if ctx.Err() != nil {
					fail[i] = fmt.Errorf("reading stopped at %s: %w", paths[i], context.Cause(ctx))
					return
				}
				stories[i], fail[i] = readStory(ctx, fsys, paths[i])
			}
		})
	}
	wg.Wait()
	var errs []error
	for _, err := range fail {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return stories, errs
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

// How a story file is read stably: a file written in place (truncated,
// then written) is caught by its size or modification time changing
// across the read, or by a modification younger than settle, which is
// waited out first (as the folder watcher waits for a second of quiet). Each try
// starts over; after readTries the file is reported. A writer that stops
// for longer than settle in the middle of a file cannot be told from one
// that finished. An editor's atomic rename needs none of this: the open
// file is the old one, whole.
const (
	settle    = time.Second
	readTries = 4
	readChunk = 64 << 10
)

// readStory reads one regular file (checked with Lstat before opening and
// on the open file after), stably, with the size limit applied before the
// whole file is in memory.
func readStory(ctx context.Context, fsys storyFS, p string) (*Story, error) {
	info, err := fsys.lstat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		// Followed inside the folder only (os.Root refuses the rest).
		if info, err = fs.Stat(fsys, p); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := regular(p, info); err != nil {
		return nil, err
	}
	f, err := fsys.openFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	data, err := readStable(ctx, f, p)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

// regular refuses anything but a regular file, naming what it is.
func regular(p string, info fs.FileInfo) error {
	m := info.Mode()
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		what = "a device"
	case m.IsDir():
		what = "a directory"
	default:
		what = "not a regular file (" + m.Type().String() + ")"
	}
	return fmt.Errorf("%s: %s, not a story file; only regular files are read", p, what)
}

// readStable reads f whole, again if it changed meanwhile (see settle).
func readStable(ctx context.Context, f fs.File, p string) ([]byte, error) {
	tooBig := fmt.Errorf("%s: file is larger than the %d MB limit for a story", p, MaxFileSize>>20)
	for try := 1; ; try++ {
		before, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if err := regular(p, before); err != nil {
			return nil, err
		}
		if age := time.Since(before.ModTime()); age >= 0 && age < settle {
			// Just written, maybe still being written: wait, then look
			// again from the start.
			if try == readTries {
				return nil, fmt.Errorf("%s: the file kept changing while it was read; try again once it is written", p)
			}
			if err := sleep(ctx, settle-age); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			continue
		}
		if before.Size() > MaxFileSize {
			return nil, tooBig
		}
		if try > 1 {
			seeker, ok := f.(io.Seeker)
			if !ok {
				return nil, fmt.Errorf("%s: changed while it was read", p)
			}
			if _, err := seeker.Seek(0, io.SeekStart); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		data, err := readAll(ctx, f, MaxFileSize+1, int(before.Size()))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(data) > MaxFileSize {
			return nil, tooBig
		}
		after, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()) && int64(len(data)) == after.Size() {
			return data, nil
		}
		if try == readTries {
			return nil, fmt.Errorf("%s: the file kept changing while it was read; try again once it is written", p)
		}
	}
}

// readAll reads up to limit bytes, in chunks, stopping when ctx ends. size
// is what the file is expected to hold: reading goes straight into a
// buffer of that size (and one byte more, to see the end), rather than
// through a chunk buffer of its own, which for a folder of news stories
// would allocate many times the text.
func readAll(ctx context.Context, r io.Reader, limit, size int) ([]byte, error) {
	out := make([]byte, 0, min(max(size, 0), limit)+1)
	for len(out) < limit {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		if len(out) == cap(out) {
			out = slices.Grow(out, min(readChunk, limit-len(out)))
		}
		n, err := r.Read(out[len(out):min(cap(out), len(out)+readChunk, limit)])
		out = out[:len(out)+n]
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
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
	if hasHeader {
		// The strings would hold the whole file, front matter included,
		// for as long as the story is served.
		body, attribution = strings.Clone(body), strings.Clone(attribution)
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
