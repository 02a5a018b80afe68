package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"

	"storybot/retrieval"
)

var cacheMagic = [8]byte{'S', 'B', 'C', 'A', 'C', 'H', 'E', '1'}

// cacheVersion 2: the per-text vectors of version 1, then the story
// segments' int8 vectors: uvarint segment count; per segment the 32-byte
// key, then three blocks (chunks, sentences, the encoder's sentences), each
// uvarint rows, uvarint dimensions, the rows' float32 scales (little-endian)
// and the rows' int8 values. A restart reads a segment's vectors as they
// are, a quarter of version 1's float32s, without hashing a sentence.
//
// Version 1 (still read): uvarint group count; per group the embedder ID
// (uvarint length, bytes), uvarint entry count, then per entry the 32-byte
// text hash, uvarint dimensions and the float32s, little-endian.
const (
	cacheVersion   = 2
	cacheVersionV1 = 1
)

// maxDims bounds a vector's length on load; real models stay far below.
const maxDims = 1 << 16

// SaveCache writes every vector in c, replacing the stored cache only once
// the new one is complete and synced.
func (d *Dir) SaveCache(c *retrieval.EmbeddingCache) error { return d.saveCache(CacheFile, c) }

// SaveCacheFile is SaveCache to a file of the caller's naming (eval's
// --vector-cache), written the same crash-safe way beside it.
func SaveCacheFile(path string, c *retrieval.EmbeddingCache) error {
	return (&Dir{path: filepath.Dir(path)}).saveCache(filepath.Base(path), c)
}

// LoadCacheFile is LoadCache from a file SaveCacheFile wrote.
func LoadCacheFile(path string) (*retrieval.EmbeddingCache, error) {
	return (&Dir{path: filepath.Dir(path)}).loadCache(filepath.Base(path))
}

func (d *Dir) saveCache(name string, c *retrieval.EmbeddingCache) error {
	entries := c.TextEntries()
	// Sorted, so the same cache always gives the same bytes.
	slices.SortFunc(entries, func(a, b retrieval.CachedVector) int {
		return cmp.Or(cmp.Compare(a.Embedder, b.Embedder), bytes.Compare(a.TextHash[:], b.TextHash[:]))
	})
	segs := c.Segments()
	slices.SortFunc(segs, func(a, b retrieval.SegmentVectors) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	return d.writeFile(name, cacheMagic, cacheVersion, func(w io.Writer) error {
		var groups [][]retrieval.CachedVector
		for i := 0; i < len(entries); {
			j := i + 1
			for j < len(entries) && entries[j].Embedder == entries[i].Embedder {
				j++
			}
			groups = append(groups, entries[i:j])
			i = j
		}
		var buf []byte
		flush := func() error {
			if len(buf) < 1<<16 {
				return nil
			}
			_, err := w.Write(buf)
			buf = buf[:0]
			return err
		}
		buf = binary.AppendUvarint(buf, uint64(len(groups)))
		for _, g := range groups {
			buf = binary.AppendUvarint(buf, uint64(len(g[0].Embedder)))
			buf = append(buf, g[0].Embedder...)
			buf = binary.AppendUvarint(buf, uint64(len(g)))
			for _, e := range g {
				buf = append(buf, e.TextHash[:]...)
				buf = binary.AppendUvarint(buf, uint64(len(e.Vector)))
				for _, f := range e.Vector {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
				}
				if err := flush(); err != nil {
					return err
				}
			}
		}
		buf = binary.AppendUvarint(buf, uint64(len(segs)))
		for _, s := range segs {
			buf = append(buf, s.Key[:]...)
			for _, b := range []retrieval.QuantisedRows{s.Chunk, s.Sentence, s.Encoder} {
				buf = binary.AppendUvarint(buf, uint64(len(b.Scale)))
				buf = binary.AppendUvarint(buf, uint64(b.Dims))
				for _, f := range b.Scale {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
				}
				for _, v := range b.Values {
					buf = append(buf, byte(v))
				}
			}
			if err := flush(); err != nil {
				return err
			}
		}
		_, err := w.Write(buf)
		return err
	})
}

// LoadCache reads the stored cache, in the current format or version 1's.
// A missing file is an error wrapping fs.ErrNotExist; a damaged one wraps
// ErrCorrupt. Either way the caller starts with an empty cache: nothing from
// a bad file is used.
func (d *Dir) LoadCache() (*retrieval.EmbeddingCache, error) { return d.loadCache(CacheFile) }

func (d *Dir) loadCache(name string) (*retrieval.EmbeddingCache, error) {
	var entries []retrieval.CachedVector
	var segs []retrieval.SegmentVectors
	err := d.readFileOf(name, cacheMagic, []uint32{cacheVersion, cacheVersionV1}, func(r *payloadReader, version uint32) error {
		var err error
		if entries, err = readTextVectors(r); err != nil {
			return err
		}
		if version == cacheVersionV1 {
			return nil
		}
		segs, err = readSegments(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	c := retrieval.NewEmbeddingCache()
	c.Put(entries...)
	c.PutSegments(segs...)
	return c, nil
}

func readTextVectors(r *payloadReader) ([]retrieval.CachedVector, error) {
	var entries []retrieval.CachedVector
	groups, err := r.count(2)
	if err != nil {
		return nil, err
	}
	for range groups {
		id, err := r.string()
		if err != nil {
			return nil, err
		}
		n, err := r.count(32 + 1)
		if err != nil {
			return nil, err
		}
		for range n {
			var e retrieval.CachedVector
			e.Embedder = id
			if err := r.full(e.TextHash[:]); err != nil {
				return nil, err
			}
			dims, err := r.count(4)
			if err != nil {
				return nil, err
			}
			if dims > maxDims {
				return nil, fmt.Errorf("a vector of %d dimensions", dims)
			}
			raw := make([]byte, 4*dims)
			if err := r.full(raw); err != nil {
				return nil, err
			}
			e.Vector = make([]float32, dims)
			for i := range e.Vector {
				e.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			entries = append(entries, e)
		}
	}
	return entries, nil
}

func readSegments(r *payloadReader) ([]retrieval.SegmentVectors, error) {
	n, err := r.count(32 + 6)
	if err != nil {
		return nil, err
	}
	segs := make([]retrieval.SegmentVectors, n)
	for i := range segs {
		s := &segs[i]
		if err := r.full(s.Key[:]); err != nil {
			return nil, err
		}
		for _, b := range []*retrieval.QuantisedRows{&s.Chunk, &s.Sentence, &s.Encoder} {
			if *b, err = readRows(r); err != nil {
				return nil, err
			}
		}
	}
	return segs, nil
}

// readRows reads one block of int8 rows, refusing sizes the bytes left
// cannot hold.
func readRows(r *payloadReader) (retrieval.QuantisedRows, error) {
	rows, err := r.count(4)
	if err != nil {
		return retrieval.QuantisedRows{}, err
	}
	dims, err := r.count(0)
	if err != nil {
		return retrieval.QuantisedRows{}, err
	}
	if dims > maxDims {
		return retrieval.QuantisedRows{}, fmt.Errorf("a vector of %d dimensions", dims)
	}
	if uint64(rows)*uint64(4+dims) > r.left {
		return retrieval.QuantisedRows{}, fmt.Errorf("%d rows of %d dimensions do not fit in the %d bytes left", rows, dims, r.left)
	}
	raw := make([]byte, rows*(4+dims))
	if err := r.full(raw); err != nil {
		return retrieval.QuantisedRows{}, err
	}
	b := retrieval.QuantisedRows{Dims: dims, Scale: make([]float32, rows), Values: make([]int8, rows*dims)}
	for i := range b.Scale {
		b.Scale[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	for i, v := range raw[4*rows:] {
		b.Values[i] = int8(v)
	}
	return b, nil
}
