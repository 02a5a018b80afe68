package wordvec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sync"

	_ "embed"
)

// The table is GloVe 6B 100-d as int8, made by ./internal/gen, whose doc
// comment describes the format. The bytes live in the binary's data, so
// importing the package allocates nothing; the index is built on first use.
//
//go:embed glove-100d-int8.bin
var tableData []byte

const (
	tableMagic   = "WORDVEC\x00"
	tableVersion = 1
	headerSize   = 8 + 4*4 + 2*8
)

// loadTable parses the embedded table once per process.
var loadTable = sync.OnceValues(func() (*table, error) {
	return parseTable(tableData)
})

// table is an immutable word-vector table; it is safe for concurrent use.
type table struct {
	dims  int
	index map[string]int32 // word -> row, rows in frequency-rank order
	words []string         // row -> word
	ranks []int32          // row -> 1-based rank in the source vocabulary
	// weight is the row's SIF weight a/(a+p(w)) times its quantisation
	// scale, so a sentence sum needs one multiply per word.
	weight []float32
	vecs   []byte    // rows × dims int8, aliasing the input
	comps  []float32 // ncomp × dims orthonormal common components
	ncomp  int
	sifA   float64
	zipfH  float64
	crc    uint32
}

// parseTable validates b (magic, version, bounds, CRC-32C) and indexes it.
// The returned table aliases b, which must not change afterwards.
func parseTable(b []byte) (*table, error) {
	t, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("wordvec: parse table: %w", err)
	}
	return t, nil
}

var errTruncated = errors.New("truncated")

func parse(b []byte) (*table, error) {
	if len(b) < headerSize+4 {
		return nil, errTruncated
	}
	body, trailer := b[:len(b)-4], b[len(b)-4:]
	le := binary.LittleEndian
	// Check the sum first: everything after it may trust the bytes.
	sum := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))
	if want := le.Uint32(trailer); sum != want {
		return nil, fmt.Errorf("checksum mismatch: got %08x, want %08x", sum, want)
	}
	if string(body[:8]) != tableMagic {
		return nil, fmt.Errorf("bad magic %q", body[:8])
	}
	if v := le.Uint32(body[8:]); v != tableVersion {
		return nil, fmt.Errorf("version %d, want %d", v, tableVersion)
	}
	dims := int(le.Uint32(body[12:]))
	count := int(le.Uint32(body[16:]))
	ncomp := int(le.Uint32(body[20:]))
	t := &table{
		dims:  dims,
		ncomp: ncomp,
		sifA:  math.Float64frombits(le.Uint64(body[24:])),
		zipfH: math.Float64frombits(le.Uint64(body[32:])),
		crc:   sum,
	}
	if dims <= 0 || dims > 4096 || count <= 0 || count > 1<<24 || ncomp > dims {
		return nil, fmt.Errorf("bad header: dims %d, count %d, components %d", dims, count, ncomp)
	}
	if !(t.sifA > 0) || !(t.zipfH > 0) {
		return nil, fmt.Errorf("bad SIF parameters a=%g H=%g", t.sifA, t.zipfH)
	}
	rest := body[headerSize:]
	take := func(n int) ([]byte, error) {
		if n < 0 || n > len(rest) {
			return nil, errTruncated
		}
		s := rest[:n]
		rest = rest[n:]
		return s, nil
	}

	raw, err := take(4 * ncomp * dims)
	if err != nil {
		return nil, fmt.Errorf("components: %w", err)
	}
	t.comps = make([]float32, ncomp*dims)
	for i := range t.comps {
		t.comps[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
	}

	lens, err := take(count)
	if err != nil {
		return nil, fmt.Errorf("word lengths: %w", err)
	}
	total := 0
	for _, n := range lens {
		total += int(n)
	}
	raw, err = take(total)
	if err != nil {
		return nil, fmt.Errorf("words: %w", err)
	}
	chars := string(raw) // one allocation; the words are substrings of it
	t.words = make([]string, count)
	t.index = make(map[string]int32, count)
	off := 0
	for i, n := range lens {
		w := chars[off : off+int(n)]
		off += int(n)
		if _, dup := t.index[w]; dup || w == "" {
			return nil, fmt.Errorf("word %d: empty or duplicate %q", i, w)
		}
		t.words[i] = w
		t.index[w] = int32(i)
	}

	t.ranks = make([]int32, count)
	rank := uint64(0)
	for i := range t.ranks {
		gap, n := binary.Uvarint(rest)
		if n <= 0 || gap == 0 {
			return nil, fmt.Errorf("rank of word %d: bad varint", i)
		}
		rest = rest[n:]
		rank += gap
		if rank > math.MaxInt32 {
			return nil, fmt.Errorf("rank of word %d: %d out of range", i, rank)
		}
		t.ranks[i] = int32(rank)
	}

	raw, err = take(4 * count)
	if err != nil {
		return nil, fmt.Errorf("scales: %w", err)
	}
	t.weight = make([]float32, count)
	for i := range t.weight {
		scale := float64(math.Float32frombits(le.Uint32(raw[4*i:])))
		t.weight[i] = float32(sifWeight(t.sifA, t.zipfH, t.ranks[i]) * scale)
	}

	t.vecs, err = take(count * dims)
	if err != nil {
		return nil, fmt.Errorf("vectors: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(rest))
	}
	return t, nil
}

// row returns word i's quantised vector.
func (t *table) row(i int32) []byte {
	o := int(i) * t.dims
	return t.vecs[o : o+t.dims : o+t.dims]
}
