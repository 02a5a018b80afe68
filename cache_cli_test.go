package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"storybot/store"
)

// envOf is a getenv over vars only: the real user cache directory and
// data_dir are never seen.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// tempHome points HOME and XDG_CACHE_HOME into the test's temp dir.
func tempHome(t *testing.T) map[string]string {
	t.Helper()
	home := t.TempDir()
	return map[string]string{"HOME": home, "XDG_CACHE_HOME": filepath.Join(home, "cache")}
}

func twoStoryFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bees.md"), []byte("---\ntitle: Bees\npublisher: Hive News\n---\nThe queen bee lays up to 2,000 eggs a day.\n\nWorker bees gather nectar from the valley's orchards.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bridge.txt"), []byte("The river bridge reopened on Monday after two years of repairs.\n\nThe mayor said the work cost 40 million dollars.\n"), 0o644)
	return dir
}

var indexedLine = regexp.MustCompile(`indexed (\d+) stories, (\d+) chunks: (\d+) embedded, (\d+) from the cache \(([^)]*)\)`)

type indexed struct {
	stories, chunks, embedded, cached int
	where                             string
}

func parseIndexed(t *testing.T, stderr string) indexed {
	t.Helper()
	m := indexedLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no \"indexed …\" line on stderr:\n%s", stderr)
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	return indexed{n(m[1]), n(m[2]), n(m[3]), n(m[4]), m[5]}
}

func runWith(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut, envOf(env))
	return out.String(), errOut.String(), err
}

func TestAskKnowledgeSecondCallIsServedFromTheCache(t *testing.T) {
	env := tempHome(t)
	dir := twoStoryFolder(t)
	q := []string{"ask", "--knowledge", dir, "How many eggs does the queen bee lay?"}

	out1, err1, err := runWith(t, env, q...)
	if err != nil {
		t.Fatal(err)
	}
	first := parseIndexed(t, err1)
	if first.stories != 2 || first.embedded == 0 || first.embedded != first.chunks || first.cached != 0 {
		t.Fatalf("first call: %+v, want every chunk of 2 stories embedded", first)
	}
	wantDir := filepath.Join(env["XDG_CACHE_HOME"], "storybot", "knowledge")
	if !strings.HasPrefix(first.where, "cache "+wantDir+string(filepath.Separator)) {
		t.Errorf("cache in %q, want under %s", first.where, wantDir)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(first.where, "cache "), "embeddings.cache")); err != nil {
		t.Errorf("no cache file stored: %v", err)
	}

	out2, err2, err := runWith(t, env, q...)
	if err != nil {
		t.Fatal(err)
	}
	second := parseIndexed(t, err2)
	if second.embedded != 0 || second.cached != first.chunks {
		t.Errorf("second call on the unchanged folder: %+v, want 0 embedded, %d from the cache", second, first.chunks)
	}
	if out1 != out2 || !strings.Contains(out2, "2,000") {
		t.Errorf("answers differ or miss the fact:\n%s\n---\n%s", out1, out2)
	}

	// One story changed: only its chunks are embedded again.
	os.WriteFile(filepath.Join(dir, "bridge.txt"), []byte("The river bridge reopened on Tuesday after three years of repairs.\n"), 0o644)
	_, err3, err := runWith(t, env, q...)
	if err != nil {
		t.Fatal(err)
	}
	if third := parseIndexed(t, err3); third.embedded == 0 || third.cached == 0 {
		t.Errorf("after one story changed: %+v, want some embedded and some cached", third)
	}

	_, errNC, err := runWith(t, env, append([]string{"sources", "--no-cache"}, q[1:3]...)...)
	if err != nil {
		t.Fatal(err)
	}
	if nc := parseIndexed(t, errNC); nc.embedded != nc.chunks || nc.cached != 0 || nc.where != "no cache" {
		t.Errorf("--no-cache: %+v, want everything embedded and no cache", nc)
	}
}

func TestKnowledgeCacheUsesTheDataDir(t *testing.T) {
	env := tempHome(t)
	data := t.TempDir()
	env["STORYBOT_DATA_DIR"] = data
	dir := twoStoryFolder(t)
	for i := range 2 {
		_, stderr, err := runWith(t, env, "sources", "--knowledge", dir)
		if err != nil {
			t.Fatal(err)
		}
		got := parseIndexed(t, stderr)
		if !strings.HasPrefix(got.where, "cache "+filepath.Join(data, "knowledge")) {
			t.Errorf("cache in %q, want under the data dir %s", got.where, data)
		}
		if i == 1 && got.embedded != 0 {
			t.Errorf("second call embedded %d chunks", got.embedded)
		}
	}
	// serve's own files in the data dir are not the CLI's to write.
	for _, name := range []string{"embeddings.cache", "stories.snapshot"} {
		if _, err := os.Stat(filepath.Join(data, name)); err == nil {
			t.Errorf("the CLI wrote serve's %s", name)
		}
	}
	if _, err := os.Stat(filepath.Join(env["XDG_CACHE_HOME"], "storybot")); err == nil {
		t.Error("the user cache directory was written although a data dir is set")
	}
}

func TestKnowledgeCacheCorruptIsAWarning(t *testing.T) {
	env := tempHome(t)
	dir := twoStoryFolder(t)
	q := []string{"ask", "--knowledge", dir, "When did the bridge reopen?"}
	_, stderr, err := runWith(t, env, q...)
	if err != nil {
		t.Fatal(err)
	}
	cacheFile := filepath.Join(strings.TrimPrefix(parseIndexed(t, stderr).where, "cache "), "embeddings.cache")
	raw, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	os.WriteFile(cacheFile, raw, 0o600)

	out, stderr, err := runWith(t, env, q...)
	if err != nil {
		t.Fatalf("a damaged cache failed the question: %v", err)
	}
	if !strings.Contains(stderr, "level=WARN") || !strings.Contains(stderr, "damaged") {
		t.Errorf("no warning about the damaged cache:\n%s", stderr)
	}
	if got := parseIndexed(t, stderr); got.embedded != got.chunks {
		t.Errorf("with a damaged cache %+v, want everything embedded again", got)
	}
	if !strings.Contains(out, "Monday") {
		t.Errorf("no answer: %s", out)
	}
	// The damaged file was replaced: the next call embeds nothing.
	_, stderr, err = runWith(t, env, q...)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseIndexed(t, stderr); got.embedded != 0 {
		t.Errorf("after the rewrite %+v, want 0 embedded", got)
	}
}

func TestKnowledgeCacheUnwritableIsAWarning(t *testing.T) {
	dir := twoStoryFolder(t)
	t.Run("cache path is a file", func(t *testing.T) {
		env := tempHome(t)
		os.WriteFile(env["XDG_CACHE_HOME"], []byte("not a directory"), 0o600)
		out, stderr, err := runWith(t, env, "ask", "--knowledge", dir, "When did the bridge reopen?")
		if err != nil {
			t.Fatalf("an unusable cache failed the question: %v", err)
		}
		if !strings.Contains(stderr, "level=WARN") || !strings.Contains(stderr, "cannot use the embedding cache") {
			t.Errorf("no warning:\n%s", stderr)
		}
		if got := parseIndexed(t, stderr); got.where != "no cache" {
			t.Errorf("cache %q, want none", got.where)
		}
		if !strings.Contains(out, "Monday") {
			t.Errorf("no answer: %s", out)
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root, which writes to read-only directories")
		}
		env := tempHome(t)
		os.MkdirAll(env["XDG_CACHE_HOME"], 0o500)
		t.Cleanup(func() { os.Chmod(env["XDG_CACHE_HOME"], 0o700) })
		out, stderr, err := runWith(t, env, "ask", "--knowledge", dir, "When did the bridge reopen?")
		if err != nil {
			t.Fatalf("a read-only cache failed the question: %v", err)
		}
		if !strings.Contains(stderr, "level=WARN") || !strings.Contains(out, "Monday") {
			t.Errorf("want a warning and the answer:\n%s\n%s", stderr, out)
		}
	})
	t.Run("read-only cache file's directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root, which writes to read-only directories")
		}
		env := tempHome(t)
		_, stderr, err := runWith(t, env, "ask", "--knowledge", dir, "When did the bridge reopen?")
		if err != nil {
			t.Fatal(err)
		}
		cacheDir := strings.TrimPrefix(parseIndexed(t, stderr).where, "cache ")
		os.WriteFile(filepath.Join(dir, "new.txt"), []byte("A new story about the harbour.\n"), 0o644)
		t.Cleanup(func() { os.Remove(filepath.Join(dir, "new.txt")) })
		os.Chmod(cacheDir, 0o500)
		t.Cleanup(func() { os.Chmod(cacheDir, 0o700) })
		out, stderr, err := runWith(t, env, "ask", "--knowledge", dir, "When did the bridge reopen?")
		if err != nil {
			t.Fatalf("an unwritable cache failed the question: %v", err)
		}
		if !strings.Contains(stderr, "could not store the index") || !strings.Contains(out, "Monday") {
			t.Errorf("want a warning and the answer:\n%s\n%s", stderr, out)
		}
	})
}

// TestAskKnowledgeBinaryUsesTheCache runs the built binary twice over a
// temp folder: the second run is served from the cache.
func TestAskKnowledgeBinaryUsesTheCache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	bin := filepath.Join(t.TempDir(), "storybot")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := t.TempDir()
	dir := twoStoryFolder(t)
	ask := func() (string, indexed) {
		cmd := exec.Command(bin, "ask", "--knowledge", dir, "How many eggs does the queen bee lay?")
		cmd.Env = []string{"HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "PATH=" + os.Getenv("PATH")}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, errOut.String())
		}
		if !strings.Contains(errOut.String(), "indexing stories: 2/2 (100%)") {
			t.Errorf("no progress line on a non-terminal stderr:\n%s", errOut.String())
		}
		return out.String(), parseIndexed(t, errOut.String())
	}
	out1, first := ask()
	out2, second := ask()
	if first.embedded == 0 || second.embedded != 0 || second.cached != first.chunks {
		t.Errorf("first %+v, second %+v: want the second served from the cache", first, second)
	}
	if out1 != out2 || !strings.Contains(out1, "2,000") {
		t.Errorf("answers:\n%s\n---\n%s", out1, out2)
	}
}

// timings are the eval report's times, which differ from run to run.
var timings = regexp.MustCompile(`"(median|p99)_ms": [0-9.e-]+`)

func TestEvalSecondRunIsServedFromTheCache(t *testing.T) {
	env := tempHome(t)
	set := squadFile(t)
	line := regexp.MustCompile(`embedding cache (\S+): (\d+) vectors stored, (\d+) new`)
	var outs []string
	for i := range 2 {
		out, stderr, err := runWith(t, env, "eval", "--json", set)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, timings.ReplaceAllString(out, ""))
		m := line.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("run %d: no cache line:\n%s", i+1, stderr)
		}
		if !strings.HasPrefix(m[1], filepath.Join(env["XDG_CACHE_HOME"], "storybot", "eval")) {
			t.Errorf("cache in %s, want under the user cache dir", m[1])
		}
		if i == 0 && (m[2] != "0" || m[3] == "0") {
			t.Errorf("first run: %s stored, %s new; want 0 and some", m[2], m[3])
		}
		if i == 1 && (m[2] == "0" || m[3] != "0") {
			t.Errorf("second run: %s stored, %s new; want some and 0", m[2], m[3])
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("the cached run's figures differ:\n%s\n---\n%s", outs[0], outs[1])
	}
	_, stderr, err := runWith(t, env, "eval", "--no-cache", set)
	if err != nil || strings.Contains(stderr, "embedding cache") {
		t.Errorf("--no-cache: %v, stderr:\n%s", err, stderr)
	}
}

// TestEvalVectorCacheIsTheStoreFormat: --vector-cache FILE keeps the
// vectors in the store's cache format, so a second run embeds nothing and
// gives the same figures; a file in the gob format of earlier versions is a
// warning and an empty cache, replaced at the end of the run.
func TestEvalVectorCacheIsTheStoreFormat(t *testing.T) {
	env := tempHome(t)
	set := squadFile(t)
	file := filepath.Join(t.TempDir(), "vectors.cache")
	if err := os.WriteFile(file, []byte("\x0e\xff\x81\x02\x01\x02\xff\x82\x00\x01\xff\x84\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	first, stderr, err := runWith(t, env, "eval", "--json", "--vector-cache", file, set)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "ignoring the vector cache") {
		t.Errorf("an old-format file gave no warning:\n%s", stderr)
	}
	c, err := store.LoadCacheFile(file)
	if err != nil || c.Len() == 0 {
		t.Fatalf("the vector cache after the run: %v, %v", c, err)
	}
	second, stderr, err := runWith(t, env, "eval", "--json", "--vector-cache", file, set)
	if err != nil || strings.Contains(stderr, "warning") {
		t.Fatalf("second run: %v\n%s", err, stderr)
	}
	if timings.ReplaceAllString(first, "") != timings.ReplaceAllString(second, "") {
		t.Errorf("the cached run's figures differ:\n%s\n---\n%s", first, second)
	}
}
