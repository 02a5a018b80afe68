package store

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"storybot/knowledge"
	"storybot/retrieval"
)

func testCache(n, dims int, embedders ...string) *retrieval.EmbeddingCache {
	c := retrieval.NewEmbeddingCache()
	for _, id := range embedders {
		for i := range n {
			v := make([]float32, dims)
			for j := range v {
				v[j] = float32(i*dims+j) / 7
			}
			c.Put(retrieval.CachedVector{Embedder: id, TextHash: sha256.Sum256(fmt.Appendf(nil, "%s %d", id, i)), Vector: v})
		}
	}
	return c
}

func sorted(c *retrieval.EmbeddingCache) []retrieval.CachedVector {
	e := c.Entries()
	slices.SortFunc(e, func(a, b retrieval.CachedVector) int {
		return cmp.Or(cmp.Compare(a.Embedder, b.Embedder), bytes.Compare(a.TextHash[:], b.TextHash[:]))
	})
	return e
}

func testStories() []*knowledge.Story {
	return []*knowledge.Story{
		{ID: "a", Title: "A story", Publisher: "Pub", Year: 2025, URL: "https://example.com/a", Body: "One. Two.\n\nThree — “quoted”.", Attribution: "© 2025 Pub", Path: "a.md", Hash: "abc"},
		{ID: "b", Title: "b", Body: "Just text.", Path: "sub/b.txt", Hash: "def"},
	}
}

func openTemp(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCacheRoundTrip(t *testing.T) {
	d := openTemp(t)
	c := testCache(50, 100, "glove", "ollama:nomic")
	// A zero-length vector and an all-zero one survive too.
	c.Put(retrieval.CachedVector{Embedder: "odd", TextHash: sha256.Sum256([]byte("x"))},
		retrieval.CachedVector{Embedder: "odd", TextHash: sha256.Sum256([]byte("y")), Vector: make([]float32, 3)})
	if err := d.SaveCache(c); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadCache()
	if err != nil {
		t.Fatal(err)
	}
	want := sorted(c)
	have := sorted(got)
	for i := range have {
		if len(have[i].Vector) == 0 {
			have[i].Vector = nil // nil and empty are the same vector
		}
	}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("loaded %d entries, saved %d; first differs: %v", len(have), len(want), firstDiff(have, want))
	}
	// Saving the same cache again gives the same bytes.
	first, _ := os.ReadFile(filepath.Join(d.Path(), CacheFile))
	if err := d.SaveCache(got); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(d.Path(), CacheFile))
	if !bytes.Equal(first, second) {
		t.Error("saving the loaded cache changed the file")
	}
}

// TestCacheSegmentsRoundTrip: story segments' int8 vectors (the encoder's
// at 4-bit levels) come back as they were saved, and a restart-sized cache of them is a quarter of its
// float32 size.
func TestCacheSegmentsRoundTrip(t *testing.T) {
	d := openTemp(t)
	c := retrieval.NewEmbeddingCache()
	var want []retrieval.SegmentVectors
	for i := range 5 {
		s := retrieval.SegmentVectors{Key: sha256.Sum256(fmt.Appendf(nil, "story %d", i))}
		for b, block := range []*retrieval.QuantisedRows{&s.Chunk, &s.Sentence, &s.Encoder} {
			dims := []int{100, 100, 512}[b]
			rows := 1 + i + b
			if i == 4 && b == 2 {
				dims, rows = 0, 0 // no encoder
			}
			*block = retrieval.QuantisedRows{Dims: dims, Scale: make([]float32, rows), Values: make([]int8, rows*dims)}
			for r := range block.Scale {
				block.Scale[r] = float32(r+1) / 300
			}
			for k := range block.Values {
				block.Values[k] = int8(k*7 + i)
				if b == 2 {
					// The cache holds encoder rows at 4 bits, saved as
					// int8 levels within ±7 (an int8 row is requantised).
					block.Values[k] = int8((k*7+i)%15 - 7)
				}
			}
		}
		want = append(want, s)
	}
	c.PutSegments(want...)
	if err := d.SaveCache(c); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadCache()
	if err != nil {
		t.Fatal(err)
	}
	bykey := func(a, b retrieval.SegmentVectors) int { return bytes.Compare(a.Key[:], b.Key[:]) }
	have := got.Segments()
	slices.SortFunc(have, bykey)
	slices.SortFunc(want, bykey)
	for i := range have {
		if have[i].Encoder.Dims == 0 {
			have[i].Encoder.Values, want[i].Encoder.Values = nil, nil
		}
	}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("loaded %d segments, saved %d; they differ", len(have), len(want))
	}
	if got.Len() != c.Len() || c.Len() == 0 {
		t.Errorf("Len %d after loading, %d saved", got.Len(), c.Len())
	}
}

// TestCacheVersion1StillLoads: a cache file written before segments (per
// text, float32) is read, not refused.
func TestCacheVersion1StillLoads(t *testing.T) {
	d := openTemp(t)
	c := testCache(10, 8, "glove", "enc")
	if err := d.SaveCache(c); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d.Path(), CacheFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// Version 1's payload is version 2's without the trailing segment
	// count (0 here: one byte).
	payload := b[headerSize : len(b)-1]
	if b[len(b)-1] != 0 {
		t.Fatalf("the test cache has segments")
	}
	if err := d.writeFile(CacheFile, cacheMagic, cacheVersionV1, func(w io.Writer) error { _, err := w.Write(payload); return err }); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadCache()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sorted(got), sorted(c)) {
		t.Errorf("version 1 file: loaded %d entries, saved %d", got.Len(), c.Len())
	}
}

func firstDiff(a, b []retrieval.CachedVector) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("%d: %v vs %v", i, a[i], b[i])
		}
	}
	return "lengths"
}

func TestStoriesRoundTrip(t *testing.T) {
	d := openTemp(t)
	if err := d.SaveStories(testStories()); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadStories()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, testStories()) {
		t.Errorf("got %+v", got)
	}
	if err := d.SaveStories(nil); err == nil {
		t.Error("saved an empty snapshot")
	}
}

func TestMissingFiles(t *testing.T) {
	d := openTemp(t)
	if _, err := d.LoadCache(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadCache: %v, want not exist", err)
	}
	if _, err := d.LoadStories(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadStories: %v, want not exist", err)
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	// A data directory that is a file.
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := Open(f); err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("Open(file): %v", err)
	}
}

func TestDamageIsDetected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, "truncated"},
		{"cut in half", func(b []byte) []byte { return b[:len(b)/2] }, "truncated"},
		{"extended", func(b []byte) []byte { return append(b, 0) }, "truncated or extended"},
		{"header only", func(b []byte) []byte { return b[:headerSize] }, "truncated"},
		{"empty", func(b []byte) []byte { return nil }, "shorter than its"},
		{"flipped payload byte", func(b []byte) []byte { b[headerSize+len(b[headerSize:])/2] ^= 0x10; return b }, "checksum mismatch"},
		{"flipped last byte", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, "checksum mismatch"},
		{"flipped checksum", func(b []byte) []byte { b[headerSize-1] ^= 1; return b }, "checksum mismatch"},
		{"other magic", func(b []byte) []byte { copy(b, "NOTSTORY"); return b }, "not a storybot"},
		{"newer version", func(b []byte) []byte { b[8] += 5; return b }, "format version"},
		{"zeros", func(b []byte) []byte { return make([]byte, len(b)) }, "not a storybot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openTemp(t)
			if err := d.SaveCache(testCache(20, 16, "e")); err != nil {
				t.Fatal(err)
			}
			if err := d.SaveStories(testStories()); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{CacheFile, StoriesFile} {
				p := filepath.Join(d.Path(), name)
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, tc.damage(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := d.LoadCache()
			if tc.name == "extended" {
				// The cache file may go on after its payload (appended
				// records): bytes that are no good record end it there,
				// and the cache before them loads.
				if err != nil || !reflect.DeepEqual(sorted(c), sorted(testCache(20, 16, "e"))) {
					t.Errorf("LoadCache of a file with a stray byte after its payload: %v, want the saved cache", err)
				}
			} else if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), CacheFile) || c != nil {
				t.Errorf("LoadCache: %v, want ErrCorrupt naming %s and %q", err, CacheFile, tc.want)
			}
			s, err := d.LoadStories()
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) || s != nil {
				t.Errorf("LoadStories: %v, want ErrCorrupt and %q", err, tc.want)
			}
		})
	}
}

// A file whose checksum is right but whose contents do not parse was written
// wrong; it is refused all the same.
func TestBadPayloadWithGoodChecksum(t *testing.T) {
	d := openTemp(t)
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"cache count too large", "\xff\xff\xff\xff\x0f", "does not fit"},
		{"cache trailing bytes", "\x00junk", "bytes left"},
		{"stories not json", "{", "unexpected end"},
		{"stories empty list", "[]", "no stories"},
		{"stories duplicate", `[{"id":"a","body":"x"},{"id":"a","body":"y"}]`, "appears twice"},
		{"stories no body", `[{"id":"a"}]`, "no id or no text"},
	} {
		name, magic, version := CacheFile, cacheMagic, uint32(cacheVersion)
		if strings.HasPrefix(tc.name, "stories") {
			name, magic, version = StoriesFile, storiesMagic, storiesVersion
		}
		if err := d.writeFile(name, magic, version, func(w io.Writer) error { _, err := io.WriteString(w, tc.payload); return err }); err != nil {
			t.Fatal(err)
		}
		var err error
		if name == CacheFile {
			_, err = d.LoadCache()
		} else {
			_, err = d.LoadStories()
		}
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrCorrupt and %q", tc.name, err, tc.want)
		}
	}
}

// A writer that fails midway (say, a full disk) leaves the previous file
// and no temp file behind.
func TestFailedWriteKeepsPrevious(t *testing.T) {
	d := openTemp(t)
	good := testCache(10, 8, "e")
	if err := d.SaveCache(good); err != nil {
		t.Fatal(err)
	}
	errDiskFull := errors.New("disk full")
	err := d.writeFile(CacheFile, cacheMagic, cacheVersion, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte{1}, 100000))
		return errDiskFull
	})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("write error %v", err)
	}
	got, err := d.LoadCache()
	if err != nil || !reflect.DeepEqual(sorted(got), sorted(good)) {
		t.Errorf("previous cache lost: %v", err)
	}
	entries, _ := os.ReadDir(d.Path())
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

const crashDirEnv = "STORYBOT_STORE_CRASH_DIR"

// TestCrashHelper is the writer that TestKilledWriterKeepsPreviousFiles
// kills. It runs only in the subprocess.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs as a subprocess of TestKilledWriterKeepsPreviousFiles")
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	testHookWritten = func(n int64) {
		if n > 4<<20 {
			// Make sure the bytes so far are on disk, say so, and wait
			// to be killed.
			fmt.Println("midway")
			time.Sleep(time.Minute)
		}
	}
	d.SaveCache(testCache(40000, 100, "big"))
	t.Fatal("the write finished; it should have been killed")
}

// The crash test: a process writing the cache is killed with
// SIGKILL halfway; the next start loads the previous good files.
func TestKilledWriterKeepsPreviousFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	d := openTemp(t)
	good := testCache(100, 50, "good")
	if err := d.SaveCache(good); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveStories(testStories()); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+d.Path())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	midway := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "midway" {
				midway <- true
				return
			}
		}
		midway <- false
	}()
	select {
	case ok := <-midway:
		if !ok {
			cmd.Wait()
			t.Fatalf("the writer ended without reaching midway:\n%s", stderr.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the writer never reached midway")
	}
	// The temp file holds part of the new cache.
	temps, _ := filepath.Glob(filepath.Join(d.Path(), CacheFile+tempMarker+"*"))
	if len(temps) != 1 {
		t.Fatalf("temp files %v, want one being written", temps)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
		t.Fatal(err)
	}
	cmd.Wait()
	if info, err := os.Stat(temps[0]); err != nil || info.Size() < 1<<20 {
		t.Fatalf("the killed writer left %v, %v; want a partial temp file", info, err)
	}

	// The next start: the previous files load; the leftover is ignored.
	d2, err := Open(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	// A fresh temp file may be another process's write in progress, so
	// Open keeps it; once stale, it goes.
	if _, err := os.Stat(temps[0]); err != nil {
		t.Errorf("a fresh temp file was removed: %v", err)
	}
	old := time.Now().Add(-2 * staleTemp)
	os.Chtimes(temps[0], old, old)
	if _, err := Open(d.Path()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(temps[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp file not removed: %v", err)
	}
	got, err := d2.LoadCache()
	if err != nil {
		t.Fatalf("previous cache does not load: %v", err)
	}
	if !reflect.DeepEqual(sorted(got), sorted(good)) {
		t.Errorf("loaded cache is not the previous good one (%d entries)", got.Len())
	}
	if s, err := d2.LoadStories(); err != nil || !reflect.DeepEqual(s, testStories()) {
		t.Errorf("previous stories: %v", err)
	}
}
