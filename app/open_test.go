package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"storybot/config"
	"storybot/knowledge"
	"storybot/metrics"
	"storybot/retrieval"
	"storybot/store"
)

// countingEmbedder is the offline embedder with its calls counted. Its ID
// is the real one, so vectors it caches are the real vectors.
type countingEmbedder struct {
	retrieval.Embedder
	calls, texts atomic.Int64
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.calls.Add(1)
	c.texts.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts)
}

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

type testBoot struct {
	cfg *config.Config
	log bytes.Buffer
}

func newTestBoot(t *testing.T, knowledgeDir string) *testBoot {
	t.Helper()
	cfg := config.Default()
	cfg.Knowledge.Dir = knowledgeDir
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	return &testBoot{cfg: cfg}
}

// start is one process start with a fresh counting embedder.
func (tb *testBoot) start(t *testing.T, fallback bool) (*retrieval.Library, *store.Dir, Report, *countingEmbedder, error) {
	t.Helper()
	opts, err := RetrievalOptions(tb.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ce := &countingEmbedder{Embedder: opts.Embedder}
	opts.Embedder = ce
	b := &boot{cfg: tb.cfg, opts: opts, log: slog.New(slog.NewTextHandler(&tb.log, nil)), fallback: fallback}
	lib, dir, rep, err := b.start(context.Background())
	return lib, dir, rep, ce, err
}

func ask(t *testing.T, lib *retrieval.Library, q string) *retrieval.Answer {
	t.Helper()
	a, err := lib.Ask(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	a.Took = 0
	return a
}

// The restart test: with the knowledge folder unchanged, the second
// start loads from disk and calls the embedder zero times.
func TestRestartEmbedsNothing(t *testing.T) {
	tb := newTestBoot(t, writeStories(t, 3))
	lib1, _, rep1, ce1, err := tb.start(t, true)
	if err != nil {
		t.Fatal(err)
	}
	if ce1.calls.Load() == 0 || rep1.Embedded != rep1.Stats.Chunks || rep1.Stats.Stories != 3 || !rep1.Saved {
		t.Fatalf("first start: %d calls, report %+v", ce1.calls.Load(), rep1)
	}
	t.Logf("first start: %d stories, %d chunks, %d embedder calls (%d texts), %v", rep1.Stats.Stories, rep1.Stats.Chunks, ce1.calls.Load(), ce1.texts.Load(), rep1.Took)

	lib2, _, rep2, ce2, err := tb.start(t, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := ce2.calls.Load(); n != 0 {
		t.Errorf("restart called the embedder %d times, want 0", n)
	}
	if rep2.Embedded != 0 || rep2.Cached != rep2.Stats.Chunks {
		t.Errorf("restart report %+v, want everything cached", rep2)
	}
	t.Logf("restart with the folder unchanged: 0 embedder calls, %d chunks from the cache, %v", rep2.Cached, rep2.Took)

	// The restored index answers exactly as the one built from scratch.
	for _, q := range []string{"Who is the president of Mexico?", "who favors strikes?", "What is the capital of France?"} {
		a1, a2 := ask(t, lib1, q), ask(t, lib2, q)
		if !reflect.DeepEqual(a1, a2) {
			t.Errorf("%q answered differently after restart:\n%+v\n%+v", q, a1, a2)
		}
	}

	// Changing one story embeds that story's text only.
	f := filepath.Join(tb.cfg.Knowledge.Dir, "part-b.txt")
	data, _ := os.ReadFile(f)
	os.WriteFile(f, append(data, []byte("\nA new closing sentence was added to this part.\n")...), 0o600)
	_, _, rep3, ce3, err := tb.start(t, true)
	if err != nil {
		t.Fatal(err)
	}
	if ce3.calls.Load() == 0 || rep3.Embedded == 0 || rep3.Embedded >= rep3.Stats.Chunks {
		t.Errorf("after changing one story: %d calls, %d of %d chunks embedded; want some, not all", ce3.calls.Load(), rep3.Embedded, rep3.Stats.Chunks)
	}
}

func TestBrokenFolderServesLastGoodSnapshot(t *testing.T) {
	tb := newTestBoot(t, writeStories(t, 2))
	lib1, _, _, _, err := tb.start(t, true)
	if err != nil {
		t.Fatal(err)
	}
	// A moderator drops a binary file in the folder.
	if err := os.WriteFile(filepath.Join(tb.cfg.Knowledge.Dir, "broken.txt"), []byte("oops\x00\x01"), 0o600); err != nil {
		t.Fatal(err)
	}
	lib2, _, rep, ce, err := tb.start(t, true)
	if err != nil {
		t.Fatalf("start with a broken folder and a snapshot: %v", err)
	}
	if rep.LoadErr == nil || !strings.Contains(rep.LoadErr.Error(), "broken.txt") || !strings.Contains(rep.Source, "last good snapshot") {
		t.Errorf("report %+v, want the load error naming broken.txt", rep)
	}
	if !strings.Contains(tb.log.String(), "serving the last good snapshot") || !strings.Contains(tb.log.String(), "broken.txt") {
		t.Errorf("log does not say why:\n%s", tb.log.String())
	}
	if ce.calls.Load() != 0 {
		t.Errorf("serving the snapshot called the embedder %d times", ce.calls.Load())
	}
	q := "Who is the president of Mexico?"
	if a1, a2 := ask(t, lib1, q), ask(t, lib2, q); !reflect.DeepEqual(a1, a2) {
		t.Errorf("snapshot answers differently:\n%+v\n%+v", a1, a2)
	}
	// `storybot index` (no fallback) fails instead: its job is the folder.
	if _, _, _, _, err := tb.start(t, false); err == nil || !strings.Contains(err.Error(), "broken.txt") {
		t.Errorf("without fallback: %v, want the folder's error", err)
	}
	// The snapshot was not overwritten by the failed starts.
	dir, _ := store.Open(tb.cfg.DataDir)
	if s, err := dir.LoadStories(); err != nil || len(s) != 2 {
		t.Errorf("stored snapshot: %d stories, %v", len(s), err)
	}
}

func TestBrokenFolderWithoutSnapshotFails(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.md"), []byte("---\ntilte: x\n---\ntext"), 0o600)
	tb := newTestBoot(t, dir)
	_, _, _, _, err := tb.start(t, true)
	if err == nil || !strings.Contains(err.Error(), "bad.md") {
		t.Errorf("got %v, want an error naming bad.md", err)
	}
}

func TestDamagedCacheIsRebuilt(t *testing.T) {
	tb := newTestBoot(t, writeStories(t, 2))
	if _, _, _, _, err := tb.start(t, true); err != nil {
		t.Fatal(err)
	}
	cacheFile := filepath.Join(tb.cfg.DataDir, store.CacheFile)
	data, _ := os.ReadFile(cacheFile)
	os.WriteFile(cacheFile, data[:len(data)-100], 0o600) // truncated

	_, _, rep, ce, err := tb.start(t, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tb.log.String(), "damaged") || !strings.Contains(tb.log.String(), "truncated") {
		t.Errorf("the damage is not logged:\n%s", tb.log.String())
	}
	if ce.calls.Load() == 0 || rep.Embedded != rep.Stats.Chunks {
		t.Errorf("a damaged cache was trusted: %d calls, report %+v", ce.calls.Load(), rep)
	}
	// It was rewritten whole: the next start embeds nothing.
	if _, _, _, ce, err := tb.start(t, true); err != nil || ce.calls.Load() != 0 {
		t.Errorf("after the rebuild: %d calls, %v", ce.calls.Load(), err)
	}
}

// A writer killed mid-write leaves a temp file (the store test kills a real
// process to make one); the next start ignores it and serves the previous
// index without embedding.
func TestStartAfterKilledWriter(t *testing.T) {
	tb := newTestBoot(t, writeStories(t, 2))
	if _, _, _, _, err := tb.start(t, true); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(tb.cfg.DataDir, store.CacheFile+".tmp-123456")
	os.WriteFile(partial, []byte("SBCACHE1 half a cache"), 0o600)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(partial, old, old)
	_, _, rep, ce, err := tb.start(t, true)
	if err != nil || ce.calls.Load() != 0 || rep.Embedded != 0 {
		t.Errorf("start after a killed writer: %d calls, %+v, %v", ce.calls.Load(), rep, err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("the partial file is still there: %v", err)
	}
}

func TestNoDataDirPersistsNothing(t *testing.T) {
	tb := newTestBoot(t, "")
	tb.cfg.DataDir = ""
	lib, dir, rep, _, err := tb.start(t, true)
	if err != nil || lib == nil || dir != nil || rep.Saved {
		t.Errorf("got %v %v %+v %v", lib, dir, rep, err)
	}
	if rep.Source != "the built-in story" {
		t.Errorf("source %q", rep.Source)
	}
}

func TestOpenLibraryAndReload(t *testing.T) {
	folder := writeStories(t, 2)
	cfg := config.Default()
	cfg.Knowledge.Dir = folder
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var progress [][2]int
	lib, dir, err := openLibrary(context.Background(), cfg, log, func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{0, 2}, {1, 2}, {2, 2}, {2, 2}}; !reflect.DeepEqual(progress, want) {
		t.Errorf("progress %v, want %v", progress, want)
	}
	reload := testReload(lib, cfg, dir, log)

	// A new story: the reload adds it and stores it in the snapshot.
	os.WriteFile(filepath.Join(folder, "extra.md"), []byte("# Extra\n\nThe harbour reopened on Tuesday after the storm, officials said.\n"), 0o600)
	rep, err := reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Added, []string{"extra"}) || rep.Embedded == 0 {
		t.Errorf("reload report %+v", rep)
	}
	stored, err := dir.LoadStories()
	if err != nil || len(stored) != 3 {
		t.Fatalf("stored snapshot after reload: %d stories, %v", len(stored), err)
	}
	cache, err := dir.LoadCache()
	if err != nil || cache.Len() != lib.Current().Cache().Len() {
		t.Errorf("stored cache: %v vectors (in memory %d), %v", cache, lib.Current().Cache().Len(), err)
	}

	// A broken folder: the reload fails, the snapshot serving and the one
	// stored stay as they were.
	os.WriteFile(filepath.Join(folder, "bad.txt"), []byte{0xff, 0xfe}, 0o600)
	if _, err := reload(context.Background()); err == nil || !strings.Contains(err.Error(), "bad.txt") {
		t.Errorf("reload of a broken folder: %v", err)
	}
	if n := len(lib.Current().Stories()); n != 3 {
		t.Errorf("serving %d stories after a failed reload, want 3", n)
	}
	if stored, _ := dir.LoadStories(); len(stored) != 3 {
		t.Errorf("stored %d stories after a failed reload, want 3", len(stored))
	}
}

// Overlapping reloads (two moderators, or a moderator and the watcher)
// leave the stored snapshot equal to the one serving.
func TestConcurrentReloadsStoreTheLatest(t *testing.T) {
	folder := writeStories(t, 2)
	cfg := config.Default()
	cfg.Knowledge.Dir = folder
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	log := slog.New(slog.DiscardHandler)
	lib, dir, err := openLibrary(context.Background(), cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	reload := testReload(lib, cfg, dir, log)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			// Written aside and renamed in: another goroutine's reload
			// must not read a half-written file.
			name := filepath.Join(folder, "extra-"+string(rune('a'+i))+".md")
			tmp := filepath.Join(folder, ".tmp-"+string(rune('a'+i)))
			os.WriteFile(tmp, []byte("# Extra\n\nReport number "+string(rune('A'+i))+" says the bridge was closed for repairs.\n"), 0o600)
			os.Rename(tmp, name)
			if _, err := reload(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// A reload that found one running joined it, so it may not have seen
	// its own file; what is stored is what serves, whatever it holds.
	stored, err := dir.LoadStories()
	if err != nil {
		t.Fatal(err)
	}
	if !sameStories(stored, lib.Current().Stories()) {
		t.Errorf("stored %d stories, serving %d", len(stored), len(lib.Current().Stories()))
	}
	// The next reload sees all four files.
	if _, err := reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored, _ := dir.LoadStories(); !sameStories(stored, lib.Current().Stories()) || len(stored) != 6 {
		t.Errorf("stored %d stories, serving %d", len(stored), len(lib.Current().Stories()))
	}
}

// openLibrary is Open for tests that want the library and the directory.
func openLibrary(ctx context.Context, cfg *config.Config, log *slog.Logger, progress func(done, total int)) (*retrieval.Library, *store.Dir, error) {
	a, err := Open(ctx, cfg, log, Options{Progress: progress})
	if err != nil {
		return nil, nil, err
	}
	return a.Library, a.Dir, nil
}

// testReload is the reloader serve wires, for tests that call it alone.
func testReload(lib *retrieval.Library, cfg *config.Config, dir *store.Dir, log *slog.Logger) func(context.Context) (retrieval.ReloadReport, error) {
	rl := newReloader(context.Background(), lib, cfg, dir, log, metrics.New())
	return func(ctx context.Context) (retrieval.ReloadReport, error) { return rl.Reload(ctx, "test") }
}

// TestFailedSaveAtStartIsLogged: when the last good snapshot cannot be
// stored at start, the start goes on serving and the log says why (it used
// to be silent under serve).
func TestFailedSaveAtStartIsLogged(t *testing.T) {
	folder := writeStories(t, 1)
	cfg := config.Default()
	cfg.Knowledge.Dir = folder
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Retrieval.SentenceEncoder = config.SentenceEncoderNone
	// A directory where the snapshot file goes: writing it must fail.
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, store.StoriesFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Report.SaveErr == nil || a.Library.Current() == nil {
		t.Fatalf("report %+v", a.Report)
	}
	if !strings.Contains(logs.String(), "could not store the index") {
		t.Errorf("the failed save is not logged:\n%s", logs.String())
	}
}
