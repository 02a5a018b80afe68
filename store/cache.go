package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"storybot/retrieval"
)

var cacheMagic = [8]byte{'S', 'B', 'C', 'A', 'C', 'H', 'E', '1'}

// cacheVersion 3: version 2's payload, then appended records
// (cachelog.go).
//
// Version 2 (still read): the per-text vectors of version 1, then the
// story segments' int8 vectors: uvarint segment count; per segment the
// 32-byte key, then three blocks (chunks, sentences, the encoder's
// sentences), each uvarint rows, uvarint dimensions, the rows' float32
// scales (little-endian) and the rows' int8 values. A restart reads a
// segment's vectors as they are, a quarter of version 1's float32s, without
// hashing a sentence.
//
// Version 1 (still read): uvarint group count; per group the embedder ID
// (uvarint length, bytes), uvarint entry count, then per entry the 32-byte
// text hash, uvarint dimensions and the float32s, little-endian.
const (
	cacheVersion   = 3
	cacheVersionV2 = 2
	cacheVersionV1 = 1
)

// maxDims bounds a vector's length on load; real models stay far below.
const maxDims = 1 << 16

// SaveCache stores every vector in c: appended to the file this Dir last
// read or wrote when that file is unchanged since and c holds no per-text
// vectors, otherwise in a new file that replaces the stored cache only
// once it is complete and synced (cachelog.go).
func (d *Dir) SaveCache(c *retrieval.EmbeddingCache) error { return d.saveCache(CacheFile, c) }

// SaveCacheFile is SaveCache to a file of the caller's naming (eval's
// --vector-cache), always written whole, the same crash-safe way.
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
	segmentsByKey(segs)
	d.mu.Lock()
	defer d.mu.Unlock()
	log := d.cache
	if log != nil && log.name != name {
		log = nil
	}
	d.cache = nil // until this save is known to have left the file as it says
	if ok, err := d.appendSave(log, segs, len(entries)); ok {
		if err == nil {
			d.cache = log
		}
		return err
	}
	next := &cacheLog{name: name, seg: make(map[[32]byte]int64, len(segs)), live: make(map[[32]byte]bool, len(segs)), texts: len(entries) > 0}
	err := d.writeFile(name, cacheMagic, cacheVersion, func(w io.Writer) error {
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
			before := len(buf)
			buf = appendSegment(buf, s)
			next.seg[s.Key] = int64(len(buf) - before)
			next.live[s.Key] = true
			if err := flush(); err != nil {
				return err
			}
		}
		_, err := w.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	d.cache = d.track(next)
	return nil
}

// track completes what a Dir knows of the file it just wrote or read;
// nil if the file cannot be looked at (the next save rewrites it).
func (d *Dir) track(l *cacheLog) *cacheLog {
	info, err := os.Stat(filepath.Join(d.path, l.name))
	if err != nil {
		return nil
	}
	l.info, l.size = info, info.Size()
	return l
}

// LoadCache reads the stored cache, in the current format or version 1's.
// A missing file is an error wrapping fs.ErrNotExist; a damaged one wraps
// ErrCorrupt. Either way the caller starts with an empty cache: nothing from
// a bad file is used.
func (d *Dir) LoadCache() (*retrieval.EmbeddingCache, error) { return d.loadCache(CacheFile) }

func (d *Dir) loadCache(name string) (*retrieval.EmbeddingCache, error) {
	var entries []retrieval.CachedVector
	var segs []retrieval.SegmentVectors
	log := &cacheLog{name: name, seg: map[[32]byte]int64{}}
	torn, appendable := false, false
	parse := func(r *payloadReader, version uint32) error {
		appendable = version == cacheVersion
		var err error
		if entries, err = readTextVectors(r); err != nil {
			return err
		}
		if version == cacheVersionV1 {
			return nil
		}
		segs, err = readSegments(r)
		for _, s := range segs {
			log.seg[s.Key] = int64(len(appendSegment(nil, s)))
		}
		return err
	}
	tail := func(version uint32) func(f io.Reader, size int64) error {
		if version != cacheVersion {
			return nil
		}
		return func(f io.Reader, size int64) error {
			var good int64
			var err error
			segs, good, err = readRecords(f, size, segs, log)
			torn = good < size
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cache = nil
	if err := d.readFileTail(name, cacheMagic, []uint32{cacheVersion, cacheVersionV2, cacheVersionV1}, parse, tail); err != nil {
		return nil, err
	}
	log.texts = len(entries) > 0
	// A file ending in a torn record, or of an older version (which ends
	// with its payload), is rewritten by the next save, not appended to.
	if appendable && !torn {
		d.cache = d.track(log)
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
