package knowledge

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestFIFOIsAnErrorNamingIt: a named pipe in the folder (which nobody
// writes) is an error naming it, at once; before, opening it waited for a
// writer forever, holding the reload lock and ignoring signals.
func TestFIFOIsAnErrorNamingIt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good.txt"), []byte("A story.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.txt"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := LoadDir(dir)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "pipe.txt") || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("err = %v, want one naming pipe.txt as a named pipe", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadDir still reading the FIFO after 5s")
	}
}

// TestSocketIsAnErrorNamingIt: the same for a Unix socket.
func TestSocketIsAnErrorNamingIt(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.md")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	defer ln.Close()
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "s.md") || !strings.Contains(err.Error(), "socket") {
		t.Errorf("err = %v, want one naming s.md as a socket", err)
	}
}

// TestLoadStopsWithItsContext: a load whose context has ended stops and
// says why.
func TestLoadStopsWithItsContext(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A story.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadDirContext(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestRewriteDuringLoadNeverYieldsATruncatedStory: a file rewritten in
// place (truncated, then written in pieces, as a careless editor or a
// copy does) while the folder is loaded over and over is either read
// whole, old or new, or reported as changing; never half.
func TestRewriteDuringLoadNeverYieldsATruncatedStory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "story.txt")
	versions := []string{
		strings.Repeat("The first version says the bridge reopened on Monday.\n\n", 200),
		strings.Repeat("The second version says the bridge stays closed until May.\n\n", 200),
	}
	if err := os.WriteFile(p, []byte(versions[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
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
	}()
	deadline := time.Now().Add(6 * time.Second)
	var whole, reported int
	for time.Now().Before(deadline) {
		stories, err := LoadDir(dir)
		if err != nil {
			// Named, and the old stories keep serving; which error
			// depends on where the writer was.
			if !strings.Contains(err.Error(), "story.txt") {
				t.Errorf("unexpected error: %v", err)
			}
			reported++
			continue
		}
		body := stories[0].Body
		if body != strings.TrimRight(versions[0], "\n")+"\n" && body != strings.TrimRight(versions[1], "\n")+"\n" &&
			body != versions[0] && body != versions[1] {
			t.Fatalf("a truncated or mixed story was loaded: %d bytes, want %d or %d", len(body), len(versions[0]), len(versions[1]))
		}
		whole++
	}
	close(stop)
	wg.Wait()
	t.Logf("%d loads read the story whole, %d reported it changing", whole, reported)
	if whole == 0 {
		t.Error("no load read the story whole")
	}
}
