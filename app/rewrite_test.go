package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"storybot/config"
)

// TestRewriteDuringReloadNeverYieldsATruncatedStory: reloads (as /reload
// runs them) while a story is rewritten in place, in pieces, either swap
// in and store the whole story, old or new, or fail naming the file; the
// story serving and the last good snapshot are never half of it.
func TestRewriteDuringReloadNeverYieldsATruncatedStory(t *testing.T) {
	folder := t.TempDir()
	p := filepath.Join(folder, "story.txt")
	versions := []string{
		strings.Repeat("The first version says the bridge reopened on Monday.\n\n", 150),
		strings.Repeat("The second version says the bridge stays closed until May.\n\n", 150),
	}
	whole := func(body string) bool {
		for _, v := range versions {
			if strings.TrimSpace(body) == strings.TrimSpace(v) {
				return true
			}
		}
		return false
	}
	if err := os.WriteFile(p, []byte(versions[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Knowledge.Dir = folder
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Retrieval.SentenceEncoder = config.SentenceEncoderNone
	cfg.Embedder.Kind = config.EmbedderNone
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Error(err)
				return
			}
			text := versions[i%2]
			for off := 0; off < len(text); off += len(text) / 4 {
				_, _ = f.WriteString(text[off:min(len(text), off+len(text)/4)])
				time.Sleep(time.Millisecond) // a writer that writes on, in pieces
			}
			_ = f.Close()
			time.Sleep(time.Duration(i%4) * 500 * time.Millisecond) // quiet, sometimes long enough to read
		}
	})
	deadline := time.Now().Add(6 * time.Second)
	var ok, failed int
	for time.Now().Before(deadline) {
		if _, err := a.Reloader.Reload(context.Background(), "test"); err != nil {
			if !strings.Contains(err.Error(), "story.txt") {
				t.Errorf("reload failed without naming the file: %v", err)
			}
			failed++
		} else {
			ok++
		}
		if body := a.Library.Current().Stories()[0].Body; !whole(body) {
			t.Fatalf("serving a truncated story: %d bytes", len(body))
		}
		stored, err := a.Dir.LoadStories()
		if err != nil || len(stored) != 1 || !whole(stored[0].Body) {
			t.Fatalf("the last good snapshot is not whole: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d reloads swapped the story in whole, %d failed naming it", ok, failed)
	if ok == 0 {
		t.Error("no reload succeeded")
	}
}
