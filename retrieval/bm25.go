package retrieval

import (
	"container/heap"
	"math"
	"sort"
)

// BM25 parameters. k1 bounds how much a repeated term counts; b how much a
// long document is penalised. Chosen on the eval sets (README).
const (
	DefaultK1 = 1.2
	DefaultB  = 0.5
)

// bm25 is an inverted index over the terms of a set of documents (chunks, or
// sentences), scored with Okapi BM25. It is built once and only read after.
type bm25 struct {
	k1, b    float64
	postings map[string][]posting
	docLen   []float64
	avgLen   float64
}

type posting struct {
	doc int32
	tf  int32
}

func newBM25(docs [][]string, k1, b float64) *bm25 {
	ix := &bm25{k1: k1, b: b, postings: make(map[string][]posting), docLen: make([]float64, len(docs))}
	var total float64
	tf := make(map[string]int32)
	for d, terms := range docs {
		clear(tf)
		for _, t := range terms {
			tf[t]++
		}
		for t, n := range tf {
			ix.postings[t] = append(ix.postings[t], posting{int32(d), n})
		}
		ix.docLen[d] = float64(len(terms))
		total += float64(len(terms))
	}
	if len(docs) > 0 {
		ix.avgLen = total / float64(len(docs))
	}
	if ix.avgLen == 0 {
		ix.avgLen = 1
	}
	return ix
}

// idf is the BM25+ form that stays positive for terms in most documents. A
// term no document holds gets the largest value: it is the most surprising.
func (ix *bm25) idf(term string) float64 {
	n := float64(len(ix.postings[term]))
	N := float64(len(ix.docLen))
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
		ps := ix.postings[t]
		if len(ps) == 0 {
			continue
		}
		idf := ix.idf(t)
		for _, p := range ps {
			tf := float64(p.tf)
			norm := ix.k1 * (1 - ix.b + ix.b*ix.docLen[p.doc]/ix.avgLen)
			scores[p.doc] += idf * tf * (ix.k1 + 1) / (tf + norm)
		}
	}
}

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
