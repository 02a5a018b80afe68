package store

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"storybot/retrieval"
)

// BenchmarkSaveCache is the save after a reload that changed one story of
// an archive (3,000 stories, segments of BenchmarkScale's shape: 5 chunks
// and 18 sentences, 100 word and 512 encoder dimensions, about 12 KB each),
// side by side: the file written whole, as every save did before appends,
// and the append. Each iteration changes one story.
//
//	go test ./store -run XXX -bench SaveCache -benchtime 20x
func BenchmarkSaveCache(b *testing.B) {
	const stories = 3000
	seg := func(i, v int) retrieval.SegmentVectors {
		s := retrieval.SegmentVectors{Key: sha256.Sum256(fmt.Appendf(nil, "story %d v%d", i, v))}
		for k, block := range []*retrieval.QuantisedRows{&s.Chunk, &s.Sentence, &s.Encoder} {
			dims, rows := []int{100, 100, 512}[k], []int{5, 18, 18}[k]
			*block = retrieval.QuantisedRows{Dims: dims, Scale: make([]float32, rows), Values: make([]int8, rows*dims)}
			for r := range block.Scale {
				block.Scale[r] = float32(r+1) / 300
			}
			for j := range block.Values {
				block.Values[j] = int8(j + i + v)
			}
		}
		return s
	}
	segs := make([]retrieval.SegmentVectors, stories)
	for i := range segs {
		segs[i] = seg(i, 0)
	}
	for _, mode := range []string{"whole", "append"} {
		b.Run(mode, func(b *testing.B) {
			d, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			c := retrieval.NewEmbeddingCache()
			c.PutSegments(segs...)
			if err := d.SaveCache(c); err != nil {
				b.Fatal(err)
			}
			v := 0
			for b.Loop() {
				b.StopTimer()
				v++
				segs[v%stories] = seg(v%stories, v)
				c := retrieval.NewEmbeddingCache()
				c.PutSegments(segs...)
				if mode == "whole" {
					d.mu.Lock()
					d.cache = nil // as if nothing were known of the file
					d.mu.Unlock()
				}
				b.StartTimer()
				if err := d.SaveCache(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
