package wordnet

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"

	_ "embed"
)

// The table is WordNet 3.0 cut to what storybot can match, made by
// ./internal/gen, whose doc comment gives the format and what is kept.
//
//go:embed wordnet.bin.gz
var tableData []byte

const (
	tableMagic   = "WORDNET\x00"
	tableVersion = 1
)

// coordinateLimit caps how many words may share a hypernym synset for it to
// make them coordinate terms: "attack, onslaught" (bombing, strike, raid) is
// specific, "act" or "person" is not.
const coordinateLimit = 60

// loadTable decodes the embedded table once per process.
var loadTable = sync.OnceValues(func() (*table, error) {
	t, err := parseTable(tableData)
	if err != nil {
		return nil, fmt.Errorf("wordnet: embedded table: %w", err)
	}
	return t, nil
})

// table is the decoded WordNet; it is immutable and safe for concurrent use.
// Lists are in CSR form: the items of row i are vals[off[i]:off[i+1]].
type table struct {
	index   map[string]int32 // word -> id
	words   []string         // id -> word
	posMask []uint8          // id -> parts of speech it has senses in, 1<<pos
	synPos  []uint8          // synset -> part of speech
	members csr              // synset -> member words
	senses  csr              // word -> synset<<1 | 1 for a first sense
	hyper   csr              // word -> hypernym synsets of its first senses
	deriv   csr              // word -> derivationally related words
	ant     csr              // word -> antonyms
	base    csr              // word -> base forms from the exception lists
	forms   csr              // word -> the irregular forms whose base it is: base's inverse
	// hyperWords and hypoWords are the hypernym relation between words:
	// the members of a word's hypernym synsets, and its inverse.
	hyperWords csr
	hypoWords  csr
	hypoSyn    csr // synset -> words it is a first-sense hypernym of
	memberOf   csr // word -> synsets it is a member of
	senseOf    csr // synset -> words it is a kept sense of
}

type csr struct {
	off  []uint32
	vals []uint32
}

func (c *csr) row(i int32) []uint32 { return c.vals[c.off[i]:c.off[i+1]] }

var errTruncated = errors.New("truncated")

// parseTable gunzips b, checks its checksum and version and indexes it.
func parseTable(b []byte) (*table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	// gzip's trailer gives the size (mod 2³²): read into one buffer of it.
	var out bytes.Buffer
	if len(b) >= 4 {
		if n := binary.LittleEndian.Uint32(b[len(b)-4:]); n <= 64<<20 {
			out.Grow(int(n) + bytes.MinRead)
		}
	}
	if _, err := out.ReadFrom(zr); err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	raw := out.Bytes()
	if len(raw) < len(tableMagic)+4 {
		return nil, errTruncated
	}
	body, trailer := raw[:len(raw)-4], raw[len(raw)-4:]
	sum := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))
	if want := binary.LittleEndian.Uint32(trailer); sum != want {
		return nil, fmt.Errorf("checksum mismatch: got %08x, want %08x", sum, want)
	}
	if string(body[:len(tableMagic)]) != tableMagic {
		return nil, fmt.Errorf("bad magic %q", body[:len(tableMagic)])
	}
	d := decoder{b: body[len(tableMagic):]}
	if v := d.uint(); v != tableVersion {
		return nil, fmt.Errorf("version %d, want %d", v, tableVersion)
	}
	t := &table{}

	nwords := d.count()
	lens := make([]int, nwords)
	var chars []byte
	for i := range lens {
		lens[i] = d.count()
		chars = append(chars, d.bytes(lens[i])...)
	}
	if d.err != nil {
		return nil, fmt.Errorf("words: %w", d.err)
	}
	all := string(chars)
	t.words = make([]string, nwords)
	t.index = make(map[string]int32, nwords)
	off := 0
	for i, n := range lens {
		w := all[off : off+n]
		off += n
		if w == "" || (i > 0 && w <= t.words[i-1]) {
			return nil, fmt.Errorf("word %d %q: empty or out of order", i, w)
		}
		t.words[i] = w
		t.index[w] = int32(i)
	}

	nsyn := d.count()
	t.synPos = make([]uint8, nsyn)
	t.members.off = make([]uint32, 1, nsyn+1)
	for i := range nsyn {
		pos := d.uint()
		if d.err != nil {
			return nil, fmt.Errorf("synset %d: %w", i, d.err)
		}
		if pos < 1 || pos > 4 {
			return nil, fmt.Errorf("synset %d: part of speech %d", i, pos)
		}
		t.synPos[i] = uint8(pos)
		d.list(&t.members, nwords)
	}
	t.posMask = make([]uint8, nwords)
	for _, c := range []*csr{&t.senses, &t.hyper, &t.deriv, &t.ant, &t.base} {
		c.off = make([]uint32, 1, nwords+1)
	}
	for i := range nwords {
		d.list(&t.senses, 2*nsyn)
		for _, s := range t.senses.row(int32(i)) {
			t.posMask[i] |= 1 << t.synPos[s>>1]
		}
		d.list(&t.hyper, nsyn)
		d.list(&t.deriv, nwords)
		d.list(&t.ant, nwords)
		d.list(&t.base, nwords)
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.pos != len(d.b) {
		return nil, fmt.Errorf("%d trailing bytes", len(d.b)-d.pos)
	}
	t.linkHypernyms()
	return t, nil
}

// linkHypernyms builds the word-level hypernym lists and the inverses the
// lookups need.
func (t *table) linkHypernyms() {
	n := len(t.words)
	t.hyperWords.off = make([]uint32, 1, n+1)
	var seen []uint32
	for i := range n {
		seen = seen[:0]
		for _, s := range t.hyper.row(int32(i)) {
			for _, m := range t.members.row(int32(s)) {
				if m != uint32(i) && !contains(seen, m) {
					seen = append(seen, m)
				}
			}
		}
		t.hyperWords.vals = append(t.hyperWords.vals, seen...)
		t.hyperWords.off = append(t.hyperWords.off, uint32(len(t.hyperWords.vals)))
	}
	t.hypoWords = invert(&t.hyperWords, n)
	t.forms = invert(&t.base, n)
	t.hypoSyn = invert(&t.hyper, len(t.synPos))
	t.memberOf = invert(&t.members, n)
	synsets := csr{off: t.senses.off, vals: make([]uint32, len(t.senses.vals))}
	for i, s := range t.senses.vals {
		synsets.vals[i] = s >> 1
	}
	t.senseOf = invert(&synsets, len(t.synPos))
}

// invert returns c's inverse over n targets, each row in ascending order.
func invert(c *csr, n int) csr {
	off := make([]uint32, n+1)
	for _, v := range c.vals {
		off[v+1]++
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	next := append([]uint32(nil), off[:n]...)
	vals := make([]uint32, len(c.vals))
	for i := 0; i+1 < len(c.off); i++ {
		for _, v := range c.row(int32(i)) {
			vals[next[v]] = uint32(i)
			next[v]++
		}
	}
	return csr{off: off, vals: vals}
}

func contains(s []uint32, x uint32) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// id returns w's word id, or -1.
func (t *table) id(w string) int32 {
	if i, ok := t.index[w]; ok {
		return i
	}
	return -1
}

// wordsOf returns the words of ids in byte order, which is id order. It
// sorts ids in place.
func (t *table) wordsOf(ids []uint32) []string {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.words[id]
	}
	return out
}

// decoder reads unsigned varints, remembering the first error.
type decoder struct {
	b   []byte
	pos int
	err error
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.pos += n
	return x
}

// count reads a length, which cannot exceed the bytes left.
func (d *decoder) count() int {
	x := d.uint()
	if x > uint64(len(d.b)) {
		d.err = fmt.Errorf("count %d exceeds the table", x)
		return 0
	}
	return int(x)
}

func (d *decoder) bytes(n int) []byte {
	if d.err == nil && n > len(d.b)-d.pos {
		d.err = errTruncated
	}
	if d.err != nil {
		return nil
	}
	d.pos += n
	return d.b[d.pos-n : d.pos]
}

// list appends one length-prefixed row of ids below limit to c.
func (d *decoder) list(c *csr, limit int) {
	n := d.count()
	for range n {
		x := d.uint()
		if d.err == nil && x >= uint64(limit) {
			d.err = fmt.Errorf("id %d out of range %d", x, limit)
		}
		if d.err != nil {
			break // keep only valid ids: the caller indexes with them
		}
		c.vals = append(c.vals, uint32(x))
	}
	c.off = append(c.off, uint32(len(c.vals)))
}
