package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/philippgille/chromem-go"

	"storybot/knowledge"
)

// BenchmarkAsk answers a question about the built-in story, end to end:
// cleaning, both legs, fusion, encoding the question, sentence picking;
// with the default options and without the sentence encoder.
func BenchmarkAsk(b *testing.B) {
	noEncoder := benchOptions()
	noEncoder.Encoder = nil
	for _, bc := range []struct {
		name string
		opts Options
	}{{"default", benchOptions()}, {"no-encoder", noEncoder}} {
		b.Run(bc.name, func(b *testing.B) {
			ix := buildDefault(b, bc.opts)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ix.Ask(ctx, "who favors strikes?"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBuildDefault indexes the built-in story from nothing: splitting,
// BM25, the word vectors of chunks and sentences, and the sentence encoder.
func BenchmarkBuildDefault(b *testing.B) {
	for b.Loop() {
		buildDefault(b, benchOptions())
	}
}

// benchOptions are the production defaults; the default embedder and
// encoder are set where they exist (see default_embedder_test.go).
func benchOptions() Options { return Options{Embedder: fitEmbedder, Encoder: fitEncoder} }

// randomVectors is a fast embedder for synthetic corpora: a pseudo-random
// 100-d vector seeded by the text, so building 100k chunks stays cheap.
type randomVectors struct{}

func (randomVectors) ID() string { return "random-100" }
func (randomVectors) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		var seed uint64
		for _, c := range []byte(t) {
			seed = seed*31 + uint64(c)
		}
		r := rand.New(rand.NewPCG(seed, 1))
		v := make([]float32, 100)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out, nil
}

var (
	synthMu  sync.Mutex
	synthIdx = map[int]*Index{}
)

// synthetic builds (once per size) an index of n chunks of about 120 words
// drawn from a Zipf-distributed vocabulary of 20k words.
func synthetic(b *testing.B, n int) *Index {
	synthMu.Lock()
	defer synthMu.Unlock()
	if ix, ok := synthIdx[n]; ok {
		return ix
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, 19999)
	var stories []*knowledge.Story
	const chunksPerStory = 100
	for s := 0; s*chunksPerStory < n; s++ {
		var body strings.Builder
		for p := 0; p < chunksPerStory && s*chunksPerStory+p < n; p++ {
			for sent := 0; sent < 6; sent++ {
				body.WriteString("Word")
				for w := 0; w < 19; w++ {
					fmt.Fprintf(&body, " w%d", zipf.Uint64())
				}
				body.WriteString(". ")
			}
			body.WriteString("\n\n")
		}
		stories = append(stories, &knowledge.Story{ID: fmt.Sprintf("s%d", s), Title: "synthetic", Body: body.String()})
	}
	ix, err := Build(context.Background(), stories, Options{
		Embedder: randomVectors{},
		Chunking: ChunkOptions{MinWords: 100, MaxWords: 130, Overlap: -1},
	})
	if err != nil {
		b.Fatal(err)
	}
	synthIdx[n] = ix
	return ix
}

var benchSizes = []int{1_000, 10_000, 100_000}

const benchQuery = "w12 w345 w7 w2048 w99"

func BenchmarkQueryLexical(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			ix := synthetic(b, n)
			q := Terms(benchQuery)
			b.ReportAllocs()
			for b.Loop() {
				ix.lexical.search(q, 10)
			}
		})
	}
}

func BenchmarkQueryVector(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			ix := synthetic(b, n)
			qv, _ := randomVectors{}.Embed(context.Background(), []string{benchQuery})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ix.vectors.search(ctx, qv[0], 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkQueryFused(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			ix := synthetic(b, n)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ix.Search(ctx, benchQuery, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueryChromemBare is chromem-go alone on the same vectors: the
// floor the vector leg cannot beat, for the ratio.
func BenchmarkQueryChromemBare(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			ix := synthetic(b, n)
			db := chromem.NewDB()
			coll, err := db.CreateCollection("bare", nil, refuseToEmbed)
			if err != nil {
				b.Fatal(err)
			}
			texts := make([]string, len(ix.chunks))
			for i := range ix.chunks {
				texts[i] = ix.ChunkText(i)
			}
			vecs, _ := randomVectors{}.Embed(context.Background(), texts)
			docs := make([]chromem.Document, len(vecs))
			for i, v := range vecs {
				docs[i] = chromem.Document{ID: fmt.Sprint(i), Embedding: v}
			}
			if err := coll.AddDocuments(context.Background(), docs, 4); err != nil {
				b.Fatal(err)
			}
			qv, _ := randomVectors{}.Embed(context.Background(), []string{benchQuery})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := coll.QueryEmbedding(ctx, qv[0], 10, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
