package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	"storybot/retrieval"
)

var cacheMagic = [8]byte{'S', 'B', 'C', 'A', 'C', 'H', 'E', '1'}

// cacheVersion 1: uvarint group count; per group the embedder ID (uvarint
// length, bytes), uvarint entry count, then per entry the 32-byte text hash,
// uvarint dimensions and the float32s, little-endian.
const cacheVersion = 1

// maxDims bounds a vector's length on load; real models stay far below.
const maxDims = 1 << 16

// SaveCache writes every vector in c, replacing the stored cache only once
// the new one is complete and synced.
func (d *Dir) SaveCache(c *retrieval.EmbeddingCache) error {
	entries := c.Entries()
	// Sorted, so the same cache always gives the same bytes.
	slices.SortFunc(entries, func(a, b retrieval.CachedVector) int {
		return cmp.Or(cmp.Compare(a.Embedder, b.Embedder), bytes.Compare(a.TextHash[:], b.TextHash[:]))
	})
	return d.writeFile(CacheFile, cacheMagic, cacheVersion, func(w io.Writer) error {
		var groups [][]retrieval.CachedVector
		for i := 0; i < len(entries); {
			j := i + 1
			for j < len(entries) && entries[j].Embedder == entries[i].Embedder {
				j++
			}
			groups = append(groups, entries[i:j])
			i = j
		}
		buf := binary.AppendUvarint(nil, uint64(len(groups)))
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
				if len(buf) >= 1<<16 {
					if _, err := w.Write(buf); err != nil {
						return err
					}
					buf = buf[:0]
				}
			}
		}
		_, err := w.Write(buf)
		return err
	})
}

// LoadCache reads the stored cache. A missing file is an error wrapping
// fs.ErrNotExist; a damaged one wraps ErrCorrupt. Either way the caller
// starts with an empty cache: nothing from a bad file is used.
func (d *Dir) LoadCache() (*retrieval.EmbeddingCache, error) {
	var entries []retrieval.CachedVector
	err := d.readFile(CacheFile, cacheMagic, cacheVersion, func(r *payloadReader) error {
		groups, err := r.count(2)
		if err != nil {
			return err
		}
		for range groups {
			id, err := r.string()
			if err != nil {
				return err
			}
			n, err := r.count(32 + 1)
			if err != nil {
				return err
			}
			for range n {
				var e retrieval.CachedVector
				e.Embedder = id
				if err := r.full(e.TextHash[:]); err != nil {
					return err
				}
				dims, err := r.count(4)
				if err != nil {
					return err
				}
				if dims > maxDims {
					return fmt.Errorf("a vector of %d dimensions", dims)
				}
				raw := make([]byte, 4*dims)
				if err := r.full(raw); err != nil {
					return err
				}
				e.Vector = make([]float32, dims)
				for i := range e.Vector {
					e.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
				}
				entries = append(entries, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c := retrieval.NewEmbeddingCache()
	c.Put(entries...)
	return c, nil
}
