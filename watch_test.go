package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"storybot/app"
	"storybot/config"
	"storybot/retrieval"
)

// syncBuffer is a log destination safe to read while the watcher writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatchDebounces(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("One."), 0o600)
	reloads := make(chan time.Time, 10)
	reload := func(context.Context) (retrieval.ReloadReport, error) {
		reloads <- time.Now()
		return retrieval.ReloadReport{}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := watchFolder(dir)
	go func() {
		w.run(ctx, 10*time.Millisecond, 250*time.Millisecond, reload, slog.New(slog.DiscardHandler))
		close(done)
	}()
	defer func() { cancel(); <-done }()

	// Nothing changes: nothing reloads.
	select {
	case <-reloads:
		t.Fatal("reloaded an unchanged folder")
	case <-time.After(200 * time.Millisecond):
	}
	// A burst of writes, 20 ms apart, is one reload, after the quiet.
	var lastWrite time.Time
	for i := range 5 {
		os.WriteFile(filepath.Join(dir, "b.txt"), []byte(strings.Repeat("Two. ", i+1)), 0o600)
		lastWrite = time.Now()
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case at := <-reloads:
		if at.Sub(lastWrite) < 250*time.Millisecond {
			t.Errorf("reloaded %v after the last write, before the quiet period", at.Sub(lastWrite))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reload after the folder changed")
	}
	select {
	case <-reloads:
		t.Fatal("a burst of writes gave more than one reload")
	case <-time.After(500 * time.Millisecond):
	}
	// Hidden files are not stories; touching one is not a change.
	os.WriteFile(filepath.Join(dir, ".swp"), []byte("x"), 0o600)
	select {
	case <-reloads:
		t.Fatal("a hidden file triggered a reload")
	case <-time.After(500 * time.Millisecond):
	}
	// A removal is a change too.
	os.Remove(filepath.Join(dir, "a.txt"))
	select {
	case <-reloads:
	case <-time.After(5 * time.Second):
		t.Fatal("no reload after a file was removed")
	}
}

// With the real reload: a new story appears in the index by itself, and a
// broken file changes nothing but is logged.
func TestWatchReloadsLibrary(t *testing.T) {
	folder := writeStories(t, 2)
	cfg := config.Default()
	cfg.Knowledge.Dir = folder
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	w := watchFolder(folder)
	svc, err := app.Open(context.Background(), cfg, log, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lib := svc.Library
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.run(ctx, 10*time.Millisecond, 50*time.Millisecond, func(ctx context.Context) (retrieval.ReloadReport, error) { return svc.Reloader.Reload(ctx, "watch") }, log)
		close(done)
	}()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	os.WriteFile(filepath.Join(folder, "harbour.md"), []byte("# Harbour\n\nThe harbour reopened on Tuesday after the storm, officials said.\n"), 0o600)
	waitFor("the new story", func() bool { return len(lib.Current().Stories()) == 3 })
	a, err := lib.Ask(ctx, "When did the harbour reopen?")
	if err != nil || !a.Found || !strings.Contains(a.Text, "Tuesday") {
		t.Errorf("the watched-in story does not answer: %+v, %v", a, err)
	}

	os.WriteFile(filepath.Join(folder, "broken.txt"), []byte{0, 1, 2}, 0o600)
	waitFor("the failed reload to be logged", func() bool { return strings.Contains(logs.String(), "broken.txt") })
	if n := len(lib.Current().Stories()); n != 3 {
		t.Errorf("serving %d stories after a broken change, want 3", n)
	}
}
