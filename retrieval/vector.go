package retrieval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/philippgille/chromem-go"
)

// vectorIndex is the semantic leg: a chromem-go collection of chunk vectors,
// queried through a contiguous scan of the same vectors (see vectorScan).
// Vectors are always computed before they reach chromem (through the cache),
// so the collection's embedding function is one that refuses: chromem would
// otherwise treat a nil function as "call OpenAI".
type vectorIndex struct {
	coll *chromem.Collection
	dims int
	scan vectorScan
}

var errNoEmbeddingFunc = errors.New("storybot computes embeddings before chromem; the collection must not embed")

func refuseToEmbed(context.Context, string) ([]float32, error) { return nil, errNoEmbeddingFunc }

// accept checks document d's non-zero vector against the index: the first
// sets the dimensions, and every one must have them and be finite.
func (v *vectorIndex) accept(d int, vec []float32) error {
	if v.dims == 0 {
		v.dims = len(vec)
	}
	if len(vec) != v.dims {
		return fmt.Errorf("vector %d has %d dimensions, want %d", d, len(vec), v.dims)
	}
	if !isFinite(vec) {
		return fmt.Errorf("vector %d holds NaN or Inf", d)
	}
	return nil
}

// newVectorIndex adds vecs[i] as document i. Zero vectors carry no signal and
// would turn into NaN when chromem normalises them, so they are left out.
// The documents' embeddings are rows of the scan's block, already
// normalised, so chromem keeps them as they are instead of a copy of its own.
func newVectorIndex(ctx context.Context, vecs [][]float32) (*vectorIndex, error) {
	db := chromem.NewDB()
	coll, err := db.CreateCollection("chunks", nil, refuseToEmbed)
	if err != nil {
		return nil, fmt.Errorf("create vector collection: %w", err)
	}
	if len(vecs) > math.MaxInt32 {
		return nil, fmt.Errorf("%d vectors: the index holds at most %d", len(vecs), math.MaxInt32)
	}
	v := &vectorIndex{coll: coll}
	kept := 0
	for i, vec := range vecs {
		if isZero(vec) {
			continue
		}
		if err := v.accept(i, vec); err != nil {
			return nil, err
		}
		kept++
	}
	v.scan = vectorScan{dims: v.dims, rows: make([]float32, kept*v.dims), docs: make([]int32, 0, kept)}
	docs := make([]chromem.Document, 0, kept)
	for i, vec := range vecs {
		if isZero(vec) {
			continue
		}
		r := len(v.scan.docs)
		row := v.scan.rows[r*v.dims : (r+1)*v.dims : (r+1)*v.dims]
		normalizeLikeChromem(row, vec)
		v.scan.docs = append(v.scan.docs, int32(i))
		docs = append(docs, chromem.Document{ID: strconv.Itoa(i), Embedding: row})
	}
	// One at a time, not AddDocuments: that starts a goroutine a document
	// at once, and the runtime keeps every goroutine's descriptor for good
	// (about 0.4 KB a chunk of live heap at 100k chunks, BenchmarkHeapPerChunk).
	// With the vectors given, adding is a map insert; there is nothing to
	// run side by side.
	for _, d := range docs {
		if err := coll.AddDocument(ctx, d); err != nil {
			return nil, fmt.Errorf("add vector %s: %w", d.ID, err)
		}
	}
	return v, nil
}

// rebaseVectorIndex is newVectorIndex for a snapshot that shares most
// documents with base's (keep and fresh as for rebaseBM25): kept documents'
// rows are copied from base's scan, already normalised, and only fresh
// documents' vectors, vec(d), are checked and normalised. The collection is
// filled again: its documents are named by number, which a reload shifts.
func rebaseVectorIndex(ctx context.Context, base *vectorIndex, keep []int32, n int, fresh []int, vec func(d int) []float32) (*vectorIndex, error) {
	if len(keep) > math.MaxInt32 || n > math.MaxInt32 {
		return nil, fmt.Errorf("%d vectors: the index holds at most %d", n, math.MaxInt32)
	}
	db := chromem.NewDB()
	coll, err := db.CreateCollection("chunks", nil, refuseToEmbed)
	if err != nil {
		return nil, fmt.Errorf("create vector collection: %w", err)
	}
	v := &vectorIndex{coll: coll, dims: base.dims}
	freshVecs := make([][]float32, len(fresh))
	kept := 0
	for _, d := range base.scan.docs {
		if keep[d] >= 0 {
			kept++
		}
	}
	added := 0
	for i, d := range fresh {
		vec := vec(d)
		if isZero(vec) {
			continue
		}
		if err := v.accept(d, vec); err != nil {
			return nil, err
		}
		freshVecs[i] = vec
		added++
	}
	total := kept + added
	v.scan = vectorScan{dims: v.dims, rows: make([]float32, total*v.dims), docs: make([]int32, 0, total)}
	docs := make([]chromem.Document, 0, total)
	put := func(doc int32, src []float32, normalised bool) {
		r := len(v.scan.docs)
		row := v.scan.rows[r*v.dims : (r+1)*v.dims : (r+1)*v.dims]
		if normalised {
			copy(row, src)
		} else {
			normalizeLikeChromem(row, src)
		}
		v.scan.docs = append(v.scan.docs, doc)
		docs = append(docs, chromem.Document{ID: strconv.Itoa(int(doc)), Embedding: row})
	}
	// Both lists ascend in the new numbering: merge them.
	br, fi := 0, 0
	for br < len(base.scan.docs) || fi < len(fresh) {
		for br < len(base.scan.docs) && keep[base.scan.docs[br]] < 0 {
			br++
		}
		for fi < len(fresh) && freshVecs[fi] == nil {
			fi++
		}
		switch {
		case br < len(base.scan.docs) && (fi == len(fresh) || int(keep[base.scan.docs[br]]) < fresh[fi]):
			d := base.scan.docs[br]
			put(keep[d], base.scan.rows[br*base.dims:(br+1)*base.dims], true)
			br++
		case fi < len(fresh):
			put(int32(fresh[fi]), freshVecs[fi], false)
			fi++
		}
	}
	if len(docs) > 0 {
		if err := coll.AddDocuments(ctx, docs, 4); err != nil {
			return nil, fmt.Errorf("add vectors: %w", err)
		}
	}
	return v, nil
}

// search returns up to k documents by cosine similarity, best first, ties by
// document number. A zero query vector (nothing known in the question)
// returns nothing.
func (v *vectorIndex) search(ctx context.Context, q []float32, k int) ([]scored, error) {
	q, err := v.query(q, k)
	if q == nil || err != nil {
		return nil, err
	}
	return v.scan.search(ctx, q, k)
}

// query checks q and normalises it as chromem does; nil means no hits.
func (v *vectorIndex) query(q []float32, k int) ([]float32, error) {
	if len(v.scan.docs) == 0 || isZero(q) || k <= 0 {
		return nil, nil
	}
	if len(q) != v.dims {
		return nil, fmt.Errorf("query vector has %d dimensions, index has %d", len(q), v.dims)
	}
	if !isFinite(q) {
		return nil, errors.New("query vector holds NaN or Inf")
	}
	if chromemIsNormalized(q) {
		return q, nil
	}
	n := make([]float32, len(q))
	chromemNormalize(n, q)
	return n, nil
}

// searchChromem is search through chromem-go's own query, as the leg ran
// before the scan: the reference the scan's rankings are tested against.
func (v *vectorIndex) searchChromem(ctx context.Context, q []float32, k int) ([]scored, error) {
	q, err := v.query(q, k)
	if q == nil || err != nil {
		return nil, err
	}
	// chromem refuses nResults > Count().
	res, err := v.coll.QueryWithOptions(ctx, chromem.QueryOptions{
		QueryEmbedding: q,
		NResults:       min(k, v.coll.Count()),
		// No negative query; the mode is set so chromem never guesses one.
		Negative: chromem.NegativeQueryOptions{Mode: chromem.NEGATIVE_MODE_FILTER},
	})
	if err != nil {
		return nil, fmt.Errorf("vector query: %w", err)
	}
	out := make([]scored, 0, len(res))
	for _, r := range res {
		d, err := strconv.Atoi(r.ID)
		if err != nil {
			return nil, fmt.Errorf("vector query: bad id %q", r.ID)
		}
		out = append(out, scored{d, float64(r.Similarity)})
	}
	return out, nil
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

func isFinite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
