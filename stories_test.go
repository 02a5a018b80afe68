package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"storybot/knowledge"
)

// writeStories splits the built-in story into n stories in a new folder,
// so tests have several files to change one of.
func writeStories(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	paras := strings.Split(strings.TrimSpace(knowledge.Default()[0].Body), "\n")
	if len(paras) < n {
		t.Fatalf("the built-in story has %d paragraphs, want at least %d", len(paras), n)
	}
	per := len(paras) / n
	for i := range n {
		part := paras[i*per : (i+1)*per]
		if i == n-1 {
			part = paras[i*per:]
		}
		text := "---\ntitle: Part " + string(rune('A'+i)) + "\n---\n" + strings.Join(part, "\n\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, "part-"+string(rune('a'+i))+".txt"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
