package encoder

import (
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// separator is SentencePiece's word-boundary marker (U+2581).
const separator = "\u2581"

// reservedSymbols is the number of leading vocabulary entries (<unk>, <s>,
// </s>, extra ids) that the JS tokenizer never matches against the input.
const reservedSymbols = 6

// piece is one vocabulary entry as the tokenizer's trie sees it.
type piece struct {
	id    int32
	score float64
}

// Tokenizer is a port of the Viterbi SentencePiece tokenizer shipped with
// tfjs-models' universal-sentence-encoder (and @energetic-ai/embeddings).
// It reproduces that implementation's quirks, not SentencePiece's reference
// behaviour, because the model was validated against the JS.
type Tokenizer struct {
	pieces   map[string]piece // piece text -> id/score; later duplicates win, like the JS trie
	maxRunes int              // longest piece in code points; bounds the prefix search
	unitLen  []int            // UTF-16 length of each vocabulary entry, used by the JS backtrack
}

// NewTokenizer builds a tokenizer from the vocabulary pieces and their scores
// (index = token id).
func NewTokenizer(pieces []string, scores []float64) *Tokenizer {
	t := &Tokenizer{pieces: make(map[string]piece, len(pieces)), unitLen: make([]int, len(pieces))}
	for i, p := range pieces {
		// JS String.length counts UTF-16 code units.
		t.unitLen[i] = len(utf16.Encode([]rune(p)))
		if i < reservedSymbols {
			continue
		}
		t.pieces[p] = piece{id: int32(i), score: scores[i]}
		if n := utf8.RuneCountInString(p); n > t.maxRunes {
			t.maxRunes = n
		}
	}
	return t
}

// match is a lattice edge: a piece covering runes [start, end).
type match struct {
	start int32
	id    int32
	score float64
}

// tokScratch holds per-call buffers so Encode does not allocate in steady state.
type tokScratch struct {
	norm    []rune
	text    []byte
	offs    []int // byte offset of each rune in text, plus the end
	ends    [][]match
	best    []float64
	words   []int32
	results []int32
}

var tokPool = sync.Pool{New: func() any { return new(tokScratch) }}

// Encode returns the token ids for text, exactly as the JS Tokenizer.encode.
func (t *Tokenizer) Encode(text string) []int32 {
	s := tokPool.Get().(*tokScratch)
	defer tokPool.Put(s)
	return append([]int32(nil), t.encode(text, s)...)
}

// encode is Encode writing into scratch; the result aliases s.results.
func (t *Tokenizer) encode(text string, s *tokScratch) []int32 {
	// processInput: NFKC, then "▁" + text with every ' ' replaced by "▁".
	s.norm = append(s.norm[:0], []rune(norm.NFKC.String(text))...)
	if len(s.norm) == 0 {
		return s.results[:0]
	}
	s.text = append(s.text[:0], separator...)
	s.offs = append(s.offs[:0], 0)
	for _, r := range s.norm {
		s.offs = append(s.offs, len(s.text))
		if r == ' ' {
			s.text = append(s.text, separator...)
		} else {
			s.text = utf8.AppendRune(s.text, r)
		}
	}
	str := s.text // indexed as string(str[a:b]) for allocation-free map lookups
	s.offs = append(s.offs, len(str))
	n := len(s.offs) - 1 // number of symbols (code points)

	// Build the lattice. Edges are appended in increasing start order, which
	// is the order the JS visits them (for..in over integer keys).
	if cap(s.ends) < n+1 {
		s.ends = make([][]match, n+1)
	}
	s.ends = s.ends[:n+1]
	for i := range s.ends {
		s.ends[i] = s.ends[i][:0]
	}
	for i := 0; i < n; i++ {
		found := false
		for l := 1; l <= t.maxRunes && i+l <= n; l++ {
			if p, ok := t.pieces[string(str[s.offs[i]:s.offs[i+l]])]; ok {
				s.ends[i+l] = append(s.ends[i+l], match{start: int32(i), id: p.id, score: p.score})
				found = true
			}
		}
		if !found {
			// Unknown symbol: one code point, id 0, score 0.
			s.ends[i+1] = append(s.ends[i+1], match{start: int32(i)})
		}
	}

	// Viterbi. The JS treats best == 0 as "unset" and breaks ties towards
	// the later candidate (>=); both are kept deliberately.
	s.best = resize(s.best, n+1)
	s.words = resize(s.words, n+1)
	clear(s.best)
	clear(s.words)
	for end := 0; end <= n; end++ {
		for _, m := range s.ends[end] {
			score := m.score + s.best[m.start]
			if s.best[end] == 0 || score >= s.best[end] {
				s.best[end] = score
				s.words[end] = m.id
			}
		}
	}

	// Backtrack by the chosen piece's UTF-16 length, as the JS does, then
	// collapse runs of unknowns into one.
	s.results = s.results[:0]
	for it := n; it > 0; it -= t.unitLen[s.words[it]] {
		s.results = append(s.results, s.words[it])
	}
	out := s.results[:0]
	prevUnk := false
	for _, id := range s.results {
		if !(prevUnk && id == 0) {
			out = append(out, id)
		}
		prevUnk = id == 0
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	s.results = out
	return out
}

// resize returns b with length n, reallocating only when capacity is short.
func resize[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}
