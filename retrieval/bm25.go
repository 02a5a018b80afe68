package retrieval

import (
	"container/heap"
	"encoding/binary"
	"math"
	"slices"
	"sort"
)

// BM25 parameters. k1 bounds how much a repeated term counts; b how much a
// long document is penalised. Chosen on the eval sets (README).
const (
	DefaultK1 = 1.2
	DefaultB  = 0.5
)

// bm25 is an inverted index over the term IDs of a set of documents
// (chunks), scored with Okapi BM25. It is built once and only read after.
// The postings sit in one block, term by term: for term t,
// post[start[t]:start[t+1]] holds df[t] postings in document order, each a
// uvarint of the gap from the previous document (the first from -1) times
// 4 plus min(tf−1, 3), and when that is 3 a byte of tf (tf capped at 255,
// where BM25's saturation makes one more count worth nothing measurable).
// Most postings are a common term's, a small gap and tf 1: a byte, where a
// uint32 a posting was a fifth of a snapshot's heap (BenchmarkHeapPerChunk).
type bm25 struct {
	k1, b  float64
	dict   *termDict
	start  []uint32 // byte offsets; len = terms known at build + 1
	df     []uint32 // len = terms known at build
	post   []byte
	docLen []float32
	avgLen float64
}

// maxBM25Docs is what the postings' 24 bits of document number hold.
const maxBM25Docs = 1 << 24

// newBM25 indexes n documents; doc(d, buf) appends document d's term IDs
// to buf. Terms the dict gave IDs to after the build are unknown to it.
func newBM25(dict *termDict, n int, doc func(d int, buf []uint32) []uint32, k1, b float64) *bm25 {
	nterms := dict.size()
	ix := &bm25{k1: k1, b: b, dict: dict, start: make([]uint32, nterms+1), df: make([]uint32, nterms), docLen: make([]float32, n)}
	// Each document's distinct terms and counts, document by document,
	// then turned term by term.
	var bags []uint32 // term<<8 | tf
	bagEnd := make([]int, n)
	var buf []uint32
	var total float64
	for d := range n {
		buf = doc(d, buf[:0])
		bags = appendBag(bags, buf, ix.df)
		bagEnd[d] = len(bags)
		ix.docLen[d] = float32(len(buf))
		total += float64(len(buf))
	}
	// Term by term, in document order: the (document, tf) pairs laid out
	// by term, then each term's run encoded.
	first := make([]uint32, nterms+1)
	for t := range nterms {
		first[t+1] = first[t] + ix.df[t]
	}
	pairs := make([]uint32, len(bags))
	next := slices.Clone(first[:nterms])
	d := 0
	for i, p := range bags {
		for i >= bagEnd[d] {
			d++
		}
		t := p >> 8
		pairs[next[t]] = uint32(d)<<8 | p&0xff
		next[t]++
	}
	bags = nil
	ix.encode(first, pairs)
	if n > 0 {
		ix.avgLen = total / float64(n)
	}
	if ix.avgLen == 0 {
		ix.avgLen = 1
	}
	return ix
}

// appendBag appends a document's distinct terms, each term<<8 | tf (tf
// capped at 255), to bags and counts them in df. It sorts terms.
func appendBag(bags, terms, df []uint32) []uint32 {
	slices.Sort(terms)
	for i := 0; i < len(terms); {
		j := i + 1
		for j < len(terms) && terms[j] == terms[i] {
			j++
		}
		bags = append(bags, terms[i]<<8|uint32(min(j-i, 255)))
		df[terms[i]]++
		i = j
	}
	return bags
}

// rebaseBM25 is newBM25 for a snapshot that shares most documents with
// base's, at the cost of a pass over base's postings instead of sorting
// every document's terms again: keep[d] is base document d's number in the
// new snapshot (-1: gone), kept documents stay in base's order, and fresh
// lists, ascending, the n documents' numbers that base does not hold, whose
// term IDs doc(d, buf) appends. The index is the one newBM25 builds over
// the same documents, posting for posting.
func rebaseBM25(base *bm25, keep []int32, n int, fresh []int, doc func(d int, buf []uint32) []uint32) *bm25 {
	dict := base.dict
	nterms := dict.size()
	ix := &bm25{k1: base.k1, b: base.b, dict: dict, start: make([]uint32, nterms+1), df: make([]uint32, nterms), docLen: make([]float32, n)}
	for d, nd := range keep {
		if nd >= 0 {
			ix.docLen[nd] = base.docLen[d]
		}
	}
	var bags []uint32 // term<<8 | tf, fresh document by fresh document
	bagEnd := make([]int, len(fresh))
	var buf []uint32
	for i, d := range fresh {
		buf = doc(d, buf[:0])
		bags = appendBag(bags, buf, ix.df)
		bagEnd[i] = len(bags)
		ix.docLen[d] = float32(len(buf))
	}
	baseTerms := len(base.df)
	for t := range baseTerms {
		base.each(uint32(t), func(d int, _ uint32) {
			if keep[d] >= 0 {
				ix.df[t]++
			}
		})
	}
	first := make([]uint32, nterms+1)
	for t := range nterms {
		first[t+1] = first[t] + ix.df[t]
	}
	pairs := make([]uint32, first[nterms])
	next := slices.Clone(first[:nterms])
	for t := range baseTerms {
		base.each(uint32(t), func(d int, tf uint32) {
			if nd := keep[d]; nd >= 0 {
				pairs[next[t]] = uint32(nd)<<8 | tf
				next[t]++
			}
		})
	}
	// Fresh postings go after the kept ones of their term; a term whose
	// kept documents come later is put back in document order.
	touched := map[uint32]bool{}
	i := 0
	for k, p := range bags {
		for k >= bagEnd[i] {
			i++
		}
		t := p >> 8
		pairs[next[t]] = uint32(fresh[i])<<8 | p&0xff
		next[t]++
		touched[t] = true
	}
	for t := range touched {
		if ps := pairs[first[t]:first[t+1]]; !slices.IsSorted(ps) {
			slices.Sort(ps)
		}
	}
	ix.encode(first, pairs)
	var total float64
	for _, l := range ix.docLen {
		total += float64(l)
	}
	if n > 0 {
		ix.avgLen = total / float64(n)
	}
	if ix.avgLen == 0 {
		ix.avgLen = 1
	}
	return ix
}

// encode lays out the postings: term t's are pairs[first[t]:first[t+1]],
// each document<<8 | tf, in document order.
func (ix *bm25) encode(first, pairs []uint32) {
	nterms := len(first) - 1
	var post []byte
	for t := range nterms {
		ix.start[t] = uint32(len(post))
		prev := -1
		for _, p := range pairs[first[t]:first[t+1]] {
			doc, tf := int(p>>8), p&0xff
			post = binary.AppendUvarint(post, uint64(doc-prev)<<2|uint64(min(tf-1, 3)))
			if tf-1 >= 3 {
				post = append(post, byte(tf))
			}
			prev = doc
		}
	}
	ix.start[nterms] = uint32(len(post))
	ix.post = slices.Clone(post) // no slack from appending
}

// each calls f with every document holding term ID t and its tf, in
// document order.
func (ix *bm25) each(t uint32, f func(doc int, tf uint32)) {
	ps := ix.post[ix.start[t]:ix.start[t+1]]
	doc := -1
	for k := 0; k < len(ps); {
		var gap int
		var tf uint32
		gap, tf, k = nextPosting(ps, k)
		doc += gap
		f(doc, tf)
	}
}

// nextPosting decodes the posting at ps[k:] (see bm25): its document gap,
// its tf, and the offset after it.
func nextPosting(ps []byte, k int) (gap int, tf uint32, next int) {
	v, k := termAt(ps, k) // a uvarint like a term ID; gaps < 2^24 fit
	tf = v&3 + 1
	if v&3 == 3 {
		tf = uint32(ps[k])
		k++
	}
	return int(v >> 2), tf, k
}

// postings are term t's encoded postings and how many there are; none for
// a term the index does not hold.
func (ix *bm25) postings(term string) ([]byte, int) {
	id, ok := ix.dict.lookup(term)
	if !ok || int(id) >= len(ix.df) {
		return nil, 0
	}
	return ix.post[ix.start[id]:ix.start[id+1]], int(ix.df[id])
}

// idf is the BM25+ form that stays positive for terms in most documents. A
// term no document holds gets the largest value: it is the most surprising.
func (ix *bm25) idf(term string) float64 {
	_, df := ix.postings(term)
	return bm25IDF(df, len(ix.docLen))
}

func bm25IDF(df, docs int) float64 {
	n, N := float64(df), float64(docs)
	return math.Log(1 + (N-n+0.5)/(n+0.5))
}

// scoreAll adds the BM25 score of every document that holds a query term to
// scores (len = number of documents). Repeated query terms count once.
func (ix *bm25) scoreAll(query []string, scores []float64) {
	seen := make(map[string]bool, len(query))
	for _, t := range query {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps, df := ix.postings(t)
		if df == 0 {
			continue
		}
		idf := bm25IDF(df, len(ix.docLen))
		doc := -1
		for k := 0; k < len(ps); {
			var gap int
			var n uint32
			gap, n, k = nextPosting(ps, k)
			doc += gap
			tf := float64(n)
			norm := ix.k1 * (1 - ix.b + ix.b*float64(ix.docLen[doc])/ix.avgLen)
			scores[doc] += idf * tf * (ix.k1 + 1) / (tf + norm)
		}
	}
}

// docFreq is how many sentences hold each term: all the sentence-level
// statistics the answerer reads (IDF, and whether a word occurs at all).
type docFreq struct {
	dict *termDict
	df   []uint32 // by term ID, for the terms known at build
	docs int
}

func (f *docFreq) count(term string) int {
	id, ok := f.dict.lookup(term)
	if !ok || int(id) >= len(f.df) {
		return 0
	}
	return int(f.df[id])
}

// add counts the terms of seg's sentences, each once a sentence, delta
// times (1 to add the story, -1 to take it away).
func (f *docFreq) add(seg *segment, delta int) {
	var buf []uint32
	for i := range seg.sents {
		buf = seg.appendTerms(buf[:0], i, i+1)
		slices.Sort(buf)
		for j, t := range buf {
			if (j == 0 || buf[j-1] != t) && int(t) < len(f.df) {
				f.df[t] += uint32(delta)
			}
		}
	}
}

// rebase is the counts of a snapshot with base's stories but gone, and
// with fresh: nterms terms, over docs sentences.
func (f *docFreq) rebase(nterms, docs int, gone, fresh []*segment) *docFreq {
	out := &docFreq{dict: f.dict, df: make([]uint32, nterms), docs: docs}
	copy(out.df, f.df)
	for _, seg := range gone {
		out.add(seg, -1)
	}
	for _, seg := range fresh {
		out.add(seg, 1)
	}
	return out
}

// idf is as bm25's, over sentences.
func (f *docFreq) idf(term string) float64 { return bm25IDF(f.count(term), f.docs) }

// scored is a document and its score in one ranking.
type scored struct {
	doc   int
	score float64
}

// search returns the k best documents, best first. Documents that share no
// term with the query are never returned.
func (ix *bm25) search(query []string, k int) []scored {
	scores := make([]float64, len(ix.docLen))
	ix.scoreAll(query, scores)
	return topK(scores, k)
}

// topK keeps the k highest positive scores in a bounded min-heap: O(n log k)
// rather than sorting every document.
func topK(scores []float64, k int) []scored {
	if k <= 0 {
		return nil
	}
	h := make(minHeap, 0, k)
	for d, s := range scores {
		if s <= 0 {
			continue
		}
		if len(h) < k {
			heap.Push(&h, scored{d, s})
		} else if s > h[0].score {
			h[0] = scored{d, s}
			heap.Fix(&h, 0)
		}
	}
	sort.Slice(h, func(i, j int) bool {
		if h[i].score != h[j].score {
			return h[i].score > h[j].score
		}
		return h[i].doc < h[j].doc
	})
	return h
}

type minHeap []scored

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].doc > h[j].doc
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
