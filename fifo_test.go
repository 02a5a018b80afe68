package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAskWithAFIFOInTheFolder: `ask --knowledge` on a folder holding a
// named pipe fails within 5 s with an error naming it; before, it hung
// and ignored SIGINT and SIGTERM.
func TestAskWithAFIFOInTheFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good.md"), []byte("The bridge reopened on Monday.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "feed.txt"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := runCLI(t, "ask", "--knowledge", dir, "when did the bridge reopen?")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "feed.txt") || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("err = %v, want one naming feed.txt as a named pipe", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ask still running after 5s")
	}
}
