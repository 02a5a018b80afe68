package store

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"storybot/retrieval"
)

// testSegment is story i's segment at edit v: its vectors are a function
// of both.
func testSegment(i, v int) retrieval.SegmentVectors {
	s := retrieval.SegmentVectors{Key: sha256.Sum256(fmt.Appendf(nil, "story %d v%d", i, v))}
	for b, block := range []*retrieval.QuantisedRows{&s.Chunk, &s.Sentence, &s.Encoder} {
		dims, rows := []int{16, 16, 48}[b], 2+(i+v+b)%4
		*block = retrieval.QuantisedRows{Dims: dims, Scale: make([]float32, rows), Values: make([]int8, rows*dims)}
		for r := range block.Scale {
			block.Scale[r] = float32(r+1+v) / 300
		}
		for k := range block.Values {
			block.Values[k] = int8(k*7 + i + 3*v)
		}
	}
	return s
}

// archive is a cache of n stories, story i at edit version[i] (0 if
// absent from version).
func archive(n int, version map[int]int) *retrieval.EmbeddingCache {
	c := retrieval.NewEmbeddingCache()
	for i := range n {
		c.PutSegments(testSegment(i, version[i]))
	}
	return c
}

func segmentsOf(c *retrieval.EmbeddingCache) []retrieval.SegmentVectors {
	s := c.Segments()
	segmentsByKey(s)
	return s
}

func fileOf(t *testing.T, d *Dir) os.FileInfo {
	t.Helper()
	info, err := os.Stat(filepath.Join(d.Path(), CacheFile))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func mustLoad(t *testing.T, d *Dir, want *retrieval.EmbeddingCache, what string) {
	t.Helper()
	got, err := d.LoadCache()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !reflect.DeepEqual(segmentsOf(got), segmentsOf(want)) {
		t.Fatalf("%s: loaded %d segments, not the %d expected", what, len(got.Segments()), len(want.Segments()))
	}
}

// TestCacheSaveAppends: after a save, saving the cache with one story
// changed appends that story's segment (and the list of keys) to the same
// file instead of writing the archive again, and a new Dir (a restart)
// loads the changed cache.
func TestCacheSaveAppends(t *testing.T) {
	d := openTemp(t)
	first := archive(50, nil)
	if err := d.SaveCache(first); err != nil {
		t.Fatal(err)
	}
	whole := fileOf(t, d)
	changed := archive(50, map[int]int{7: 1})
	if err := d.SaveCache(changed); err != nil {
		t.Fatal(err)
	}
	after := fileOf(t, d)
	grew := after.Size() - whole.Size()
	one := int64(len(appendSegment(nil, testSegment(7, 1))))
	if !os.SameFile(whole, after) || grew <= one || grew > one+recordHeaderSize+50*sha256.Size+16 {
		t.Errorf("the save grew the file by %d bytes (same file: %v); want one segment (%d) and the keys appended", grew, os.SameFile(whole, after), one)
	}
	d2, err := Open(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	mustLoad(t, d2, changed, "after the append")
	// The loading Dir appends too.
	again := archive(50, map[int]int{7: 1, 9: 2})
	if err := d2.SaveCache(again); err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(after, fileOf(t, d2)) {
		t.Error("the Dir that loaded the file rewrote it instead of appending")
	}
	d3, _ := Open(d.Path())
	mustLoad(t, d3, again, "after the second append")
}

// TestTornAppendLoadsLastGoodState: an append cut short or damaged (a
// crash or a full disk mid-write) is detected by its length and checksum;
// the cache before it loads, and the next save rewrites the file whole.
func TestTornAppendLoadsLastGoodState(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func([]byte) []byte
	}{
		{"header only", func(b []byte) []byte { return b[:recordHeaderSize-1] }},
		{"half written", func(b []byte) []byte { return b[:len(b)/2] }},
		{"last byte missing", func(b []byte) []byte { return b[:len(b)-1] }},
		{"flipped data byte", func(b []byte) []byte { b[len(b)-3] ^= 4; return b }},
		{"flipped checksum", func(b []byte) []byte { b[5] ^= 1; return b }},
		{"length too large", func(b []byte) []byte { b[3] = 0x7f; return b }},
		{"zeros", func(b []byte) []byte { return make([]byte, len(b)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openTemp(t)
			base := archive(20, nil)
			good := archive(20, map[int]int{3: 1})
			for _, c := range []*retrieval.EmbeddingCache{base, good} {
				if err := d.SaveCache(c); err != nil {
					t.Fatal(err)
				}
			}
			testHookAppend = tc.tear
			err := d.SaveCache(archive(20, map[int]int{3: 1, 4: 1}))
			testHookAppend = nil
			if err != nil {
				t.Fatal(err) // the write itself went through
			}
			torn := fileOf(t, d)
			d2, _ := Open(d.Path())
			mustLoad(t, d2, good, "after a torn append")
			next := archive(20, map[int]int{3: 1, 5: 1})
			if err := d2.SaveCache(next); err != nil {
				t.Fatal(err)
			}
			if os.SameFile(torn, fileOf(t, d2)) {
				t.Error("the save after a torn append appended after it instead of rewriting the file")
			}
			d3, _ := Open(d.Path())
			mustLoad(t, d3, next, "after the rewrite")
		})
	}
	// A file cut inside its first record loads the payload's cache.
	d := openTemp(t)
	base := archive(20, nil)
	if err := d.SaveCache(base); err != nil {
		t.Fatal(err)
	}
	size := fileOf(t, d).Size()
	if err := d.SaveCache(archive(20, map[int]int{3: 1})); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d.Path(), CacheFile)
	if err := os.Truncate(p, size+10); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, d, base, "cut inside the first record")
}

// TestCacheRewritesWhenMostlyDead: appends stop once the file's dead
// segments outweigh its live ones; the rewrite holds only the live ones.
func TestCacheRewritesWhenMostlyDead(t *testing.T) {
	d := openTemp(t)
	version := map[int]int{}
	if err := d.SaveCache(archive(10, version)); err != nil {
		t.Fatal(err)
	}
	first := fileOf(t, d)
	rewrites, prev := 0, first
	for edit := 1; edit <= 40; edit++ {
		version[edit%10] = edit
		c := archive(10, version)
		if err := d.SaveCache(c); err != nil {
			t.Fatal(err)
		}
		cur := fileOf(t, d)
		if !os.SameFile(prev, cur) {
			rewrites++
			if cur.Size() > first.Size()+first.Size()/2 {
				t.Errorf("edit %d: the rewritten file is %d bytes, the live cache about %d", edit, cur.Size(), first.Size())
			}
		}
		if cur.Size() > 3*first.Size()+1024 {
			t.Fatalf("edit %d: the file grew to %d bytes for a live cache of about %d", edit, cur.Size(), first.Size())
		}
		prev = cur
		d2, _ := Open(d.Path())
		mustLoad(t, d2, c, fmt.Sprintf("edit %d", edit))
	}
	if rewrites == 0 || rewrites > 20 {
		t.Errorf("%d rewrites in 40 edits of one story in ten; want a few", rewrites)
	}
}

// TestCacheFromAnotherWriterIsRewritten: a file replaced behind the Dir's
// back (storybot index while the bot runs) is not appended to.
func TestCacheFromAnotherWriterIsRewritten(t *testing.T) {
	d := openTemp(t)
	if err := d.SaveCache(archive(10, nil)); err != nil {
		t.Fatal(err)
	}
	other, _ := Open(d.Path())
	theirs := archive(12, map[int]int{1: 1})
	if err := other.SaveCache(theirs); err != nil {
		t.Fatal(err)
	}
	before := fileOf(t, d)
	ours := archive(10, map[int]int{2: 1})
	if err := d.SaveCache(ours); err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, fileOf(t, d)) {
		t.Error("appended to a file another writer replaced")
	}
	mustLoad(t, d, ours, "after the rewrite")
}
