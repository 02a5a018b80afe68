package knowledge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultStory(t *testing.T) {
	stories := Default()
	if len(stories) != 1 {
		t.Fatalf("got %d default stories, want 1", len(stories))
	}
	s := stories[0]
	if s.ID != "latin-times-2025-cartel-strikes" || s.Publisher != "Latin Times" || s.Year != 2025 || s.Title == "" {
		t.Errorf("metadata: %+v", s)
	}
	if strings.Contains(s.Body, "©") || !strings.HasPrefix(s.Attribution, "© 2025 Latin Times") {
		t.Errorf("attribution not split off: body ends %q, attribution %q", s.Body[len(s.Body)-40:], s.Attribution)
	}
	if !strings.Contains(s.Body, "Sebastian Gorka") {
		t.Error("body lost the story")
	}
}

func TestDefaultStoryIsTheArticleByteForByte(t *testing.T) {
	raw, err := os.ReadFile("default/cartel-strikes.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, article, ok := strings.Cut(string(raw), "\n---\n")
	if !ok {
		t.Fatal("no front matter")
	}
	s := Default()[0]
	if article != s.Body+s.Attribution {
		t.Error("body + attribution differ from the file's text")
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b-story.txt", "---\ntitle: Bee\npublisher: Daily\nyear: 2024\nurl: https://example.com/bee\n---\nBees fly. They make honey.\n")
	write(t, dir, "World/A Story.md", "# Ants at work\n\nAnts carry leaves.\n")
	write(t, dir, ".hidden.txt", "\x00binary")
	write(t, dir, ".git/config.txt", "ignored")
	write(t, dir, "notes.json", "{}")
	stories, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(stories) != 2 {
		t.Fatalf("got %d stories, want 2", len(stories))
	}
	b := stories[0]
	if b.ID != "b-story" || b.Title != "Bee" || b.Publisher != "Daily" || b.Year != 2024 || b.URL != "https://example.com/bee" {
		t.Errorf("front matter story: %+v", b)
	}
	if strings.Contains(b.Body, "---") || !strings.HasPrefix(b.Body, "Bees fly.") {
		t.Errorf("front matter leaked into the body: %q", b.Body)
	}
	a := stories[1]
	if a.ID != "world-a-story" || a.Title != "Ants at work" || a.Path != "World/A Story.md" {
		t.Errorf("markdown story: id %q title %q path %q", a.ID, a.Title, a.Path)
	}
	// Stable: loading again gives the same IDs and hashes.
	again, _ := LoadDir(dir)
	if again[0].ID != b.ID || again[0].Hash != b.Hash {
		t.Error("IDs or hashes changed between loads")
	}
}

func TestLoadDirErrorsNameTheFile(t *testing.T) {
	tests := []struct {
		name, file, content, want string
	}{
		{"not utf-8", "latin1.txt", "caf\xe9 story", "latin1.txt: not UTF-8 text"},
		{"binary", "blob.txt", "PK\x03\x04\x00\x00", "blob.txt: not a text file"},
		{"empty", "empty.md", "", "empty.md: the story has no text"},
		{"only front matter", "fm.md", "---\ntitle: Nothing\n---\n", "fm.md: the story has no text"},
		{"only attribution", "c.txt", "© 2025 Someone. All rights reserved.", "c.txt: the story has no text"},
		{"unknown key", "typo.md", "---\ntilte: Oops\n---\nText.", "typo.md: front matter"},
		{"bad year", "year.md", "---\nyear: 25\n---\nText.", "year.md: front matter: year 25"},
		{"bad url", "url.md", "---\nurl: not a url\n---\nText.", "url.md: front matter: url"},
		{"bad yaml", "yaml.md", "---\ntitle: [unclosed\n---\nText.", "yaml.md: front matter"},
		{"bad id", "id.md", "---\nid: Has Spaces\n---\nText.", "id.md: front matter: id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "good.txt", "A good story.")
			write(t, dir, tt.file, tt.content)
			stories, err := LoadDir(dir)
			if err == nil {
				t.Fatalf("loaded %d stories, want an error", len(stories))
			}
			if stories != nil {
				t.Error("a broken folder returned some stories")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestUnknownKeyErrorGivesTheLine(t *testing.T) {
	_, err := Parse([]byte("---\ntitle: Fine\ntilte: Oops\n---\nText."))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "tilte") {
		t.Errorf("got %v, want the key and its line", err)
	}
}

func TestLoadDirDuplicateIDs(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "one.txt", "---\nid: same\n---\nOne.")
	write(t, dir, "two.txt", "---\nid: same\n---\nTwo.")
	_, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), `story id "same" is already used`) {
		t.Errorf("got %v", err)
	}
}

func TestLoadDirMissingOrEmpty(t *testing.T) {
	if _, err := LoadDir(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("missing folder loaded")
	}
	if _, err := LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no .txt or .md stories") {
		t.Errorf("empty folder: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file.txt")
	write(t, filepath.Dir(f), "file.txt", "x")
	if _, err := LoadDir(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as folder: %v", err)
	}
}

func TestLoadDirRefusesSymlinksOutOfTheFolder(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "secret.txt", "Secret text outside the knowledge folder.")
	dir := t.TempDir()
	write(t, dir, "good.txt", "A good story.")
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	stories, err := LoadDir(dir)
	if err == nil {
		for _, s := range stories {
			if strings.Contains(s.Body, "Secret") {
				t.Fatal("followed a symlink out of the folder")
			}
		}
		t.Fatal("want an error naming the escaping link")
	}
	if !strings.Contains(err.Error(), "link.txt") {
		t.Errorf("error does not name the link: %v", err)
	}
}

func TestLoadDirSizeLimit(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "huge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Sparse file: over the limit without writing 50 MB.
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "huge.txt: file is larger than the 50 MB limit") {
		t.Errorf("got %v", err)
	}
}

func TestParenCIsAttributionOnlyWhenItReadsLikeOne(t *testing.T) {
	tests := []struct {
		last        string
		attribution bool
	}{
		{"(c) The official scorer compares each answer with the reference.", false},
		{"(c) cats, (d) dogs.", false},
		{"(c) 2025 Latin Times", true},
		{"(C) Latin Times. All rights reserved.", true},
		{"(c) Copyright Latin Times", true},
		{"Copyright 2025 Latin Times", true},
		{"© Latin Times", true},
	}
	for _, tt := range tests {
		s, err := Parse([]byte("The scorer has three parts.\n\n" + tt.last))
		if err != nil {
			t.Fatalf("%q: %v", tt.last, err)
		}
		if got := s.Attribution != ""; got != tt.attribution {
			t.Errorf("%q: attribution %q, body %q", tt.last, s.Attribution, s.Body)
		}
		if !tt.attribution && !strings.Contains(s.Body, tt.last) {
			t.Errorf("%q: dropped from the body %q", tt.last, s.Body)
		}
	}
	// A story that is only such a line is a story, not "no text".
	if s, err := Parse([]byte("(c) The official scorer is strict.")); err != nil || s.Body == "" {
		t.Errorf("a lone (c) line: %v, body %q", err, s.Body)
	}
}
