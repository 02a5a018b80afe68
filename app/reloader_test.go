package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"storybot/config"
	"storybot/knowledge"
	"storybot/retrieval"
)

// countingReloads is a reloadMetrics that counts.
type countingReloads struct {
	mu      sync.Mutex
	results map[string]int
}

func (c *countingReloads) Reload(result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[result]++
}
func (c *countingReloads) IndexSize(int, int) {}
func (c *countingReloads) count(result string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.results[result]
}

// testReloaderWith is a reloader over the built-in story whose load is
// load.
func testReloaderWith(t *testing.T, load func(ctx context.Context) ([]*knowledge.Story, error)) (*Reloader, *countingReloads) {
	t.Helper()
	ix, err := retrieval.Build(context.Background(), knowledge.Default(), retrieval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &countingReloads{results: map[string]int{}}
	r := newReloader(context.Background(), retrieval.NewLibrary(ix), config.Default(), nil, slog.New(slog.DiscardHandler), m)
	r.load = load
	t.Cleanup(r.Wait)
	return r, m
}

// TestReloaderJoinsARunningReload: a reload asked for while one runs joins
// it, gets its result, and the stories are read once and counted once:
// queued /reloads no longer pile up behind a lock.
func TestReloaderJoinsARunningReload(t *testing.T) {
	release := make(chan struct{})
	var loads atomic.Int32
	r, m := testReloaderWith(t, func(ctx context.Context) ([]*knowledge.Story, error) {
		loads.Add(1)
		<-release
		return knowledge.Default(), nil
	})
	type result struct {
		rep retrieval.ReloadReport
		err error
	}
	results := make(chan result, 2)
	go func() { rep, err := r.Reload(context.Background(), "first"); results <- result{rep, err} }()
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	go func() { rep, err := r.Reload(context.Background(), "second"); results <- result{rep, err} }()
	time.Sleep(50 * time.Millisecond) // the second is waiting (nothing to observe but its not returning)
	close(release)
	a, b := <-results, <-results
	if a.err != nil || b.err != nil || a.rep.Version != b.rep.Version {
		t.Errorf("results %+v and %+v, want the same one", a, b)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("the stories were read %d times, want 1", n)
	}
	if ok := m.count("ok"); ok != 1 {
		t.Errorf("counted %d reloads, want 1", ok)
	}
}

// TestReloaderHasATimeLimit: a reload that does not finish in its time is
// a failed reload, counted once; the next one works.
func TestReloaderHasATimeLimit(t *testing.T) {
	var hang atomic.Bool
	hang.Store(true)
	r, m := testReloaderWith(t, func(ctx context.Context) ([]*knowledge.Story, error) {
		if hang.Load() {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return knowledge.Default(), nil
	})
	r.timeout = 100 * time.Millisecond
	_, err := r.Reload(context.Background(), "test")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "took longer than 100ms") {
		t.Errorf("err = %v, want the time limit", err)
	}
	hang.Store(false)
	if _, err := r.Reload(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	if ok, failed := m.count("ok"), m.count("failed"); ok != 1 || failed != 1 {
		t.Errorf("counted %d ok and %d failed, want 1 and 1", ok, failed)
	}
}

// TestReloadThatEmbeddedNothingStillSavesTheCache: a reload that changed a
// story back (every vector still in memory, nothing embedded) stores the
// cache too, so the next start embeds nothing. Before, the stored cache
// kept the other version's vectors and the restart embedded again.
func TestReloadThatEmbeddedNothingStillSavesTheCache(t *testing.T) {
	folder := t.TempDir()
	story := filepath.Join(folder, "bridge.md")
	v1 := "# Bridge\n\nThe bridge reopened on Monday after eight months of repairs.\n"
	v2 := "# Bridge\n\nThe bridge stays closed until May, the city engineer said.\n"
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(story, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(v1)
	cfg := config.Default()
	cfg.Knowledge.Dir = folder
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Retrieval.SentenceEncoder = config.SentenceEncoderNone
	log := slog.New(slog.DiscardHandler)
	boot := func() (*retrieval.Library, Report, func(context.Context) (retrieval.ReloadReport, error)) {
		t.Helper()
		opts, err := RetrievalOptions(cfg)
		if err != nil {
			t.Fatal(err)
		}
		lib, dir, rep, err := (&boot{cfg: cfg, opts: opts, log: log, fallback: true}).start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return lib, rep, testReload(lib, cfg, dir, log)
	}
	_, first, reload := boot()
	if first.Embedded == 0 {
		t.Fatalf("the first start embedded nothing: %+v", first)
	}
	write(v2)
	if rep, err := reload(context.Background()); err != nil || rep.Embedded == 0 {
		t.Fatalf("reload to v2: %+v, %v", rep, err)
	}
	write(v1)
	rep, err := reload(context.Background())
	if err != nil || rep.Embedded != 0 || len(rep.Changed) != 1 {
		t.Fatalf("reload back to v1: %+v, %v; want a change that embedded nothing", rep, err)
	}
	if _, again, _ := boot(); again.Embedded != 0 {
		t.Errorf("the restart embedded %d chunks, want 0", again.Embedded)
	}
}
