package retrieval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

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

// BenchmarkVectorLeg runs, side by side on the same index and query, the
// vector leg through chromem-go's query (as before the scan), through the
// contiguous scan, the passes of two quantised kernels, and the memory floor
// under them: a plain sum over the memory of the scan's []float32 and of an
// []int8 of the same n×d elements (what an int8 copy would read), on one
// goroutine and split over GOMAXPROCS like the scan.
func BenchmarkVectorLeg(b *testing.B) {
	for _, n := range benchSizes {
		ix := synthetic(b, n)
		v := ix.vectors
		qv, _ := randomVectors{}.Embed(context.Background(), []string{benchQuery})
		ctx := context.Background()
		const k = 50 // the pool Index.search asks each leg for
		for _, leg := range []struct {
			name   string
			search func(context.Context, []float32, int) ([]scored, error)
		}{{"chromem", v.searchChromem}, {"scan", v.search}} {
			b.Run(fmt.Sprintf("chunks=%d/impl=%s", n, leg.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := leg.search(ctx, qv[0], k); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		// An int8 copy with a scale per row, and the query in int16: the
		// quantised kernel's pass over every row alone (no top k, no
		// rescoring), which bounds an int8 scan's cost from below.
		q8 := quantizeRows(v.scan.rows, v.dims)
		b.Run(fmt.Sprintf("chunks=%d/impl=int8-pass", n), func(b *testing.B) {
			q16, qs := quantizeQuery(qv[0])
			for b.Loop() {
				sinkF32 = parallelMax(q8, q16, qs, v.dims)
			}
		})
		// The same pass over a bfloat16 copy (the top half of each float32).
		bf := make([]uint16, len(v.scan.rows))
		for i, x := range v.scan.rows {
			bf[i] = uint16(math.Float32bits(x) >> 16)
		}
		b.Run(fmt.Sprintf("chunks=%d/impl=bf16-pass", n), func(b *testing.B) {
			for b.Loop() {
				sinkF32 = parallelMaxBF16(bf, qv[0], v.dims)
			}
		})
		f32, i8 := wordsOf(v.scan.rows), wordsOf(q8.vals)
		b.Run(fmt.Sprintf("chunks=%d/impl=sum-f32-x1", n), func(b *testing.B) {
			for b.Loop() {
				sinkF32 = sumF32(v.scan.rows)
			}
			b.ReportMetric(float64(len(f32)*8)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		for _, shards := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("chunks=%d/impl=floor-f32-x%d", n, shards), func(b *testing.B) {
				for b.Loop() {
					sinkWords = parallelSum(f32, shards)
				}
				b.ReportMetric(float64(len(f32)*8)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
			b.Run(fmt.Sprintf("chunks=%d/impl=floor-i8-x%d", n, shards), func(b *testing.B) {
				for b.Loop() {
					sinkWords = parallelSum(i8, shards)
				}
				b.ReportMetric(float64(len(i8)*8)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

var (
	sinkF32   float32
	sinkWords uint64
)

// wordsOf is the memory of xs as 64-bit words, for the floor: reading it a
// word at a time with one integer add each waits on memory alone, where a
// float32 sum waits on its own additions (sum-f32) and an int8 sum on sign
// extension.
func wordsOf[E any](xs []E) []uint64 {
	var e E
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(xs))), len(xs)*int(unsafe.Sizeof(e))/8)
}

// parallelSum sums words in shards goroutines, each over a contiguous part.
func parallelSum(words []uint64, shards int) uint64 {
	if shards == 1 {
		return sumWords(words)
	}
	parts := make([]uint64, shards)
	per := (len(words) + shards - 1) / shards
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() { parts[i] = sumWords(words[min(len(words), i*per):min(len(words), (i+1)*per)]) })
	}
	wg.Wait()
	var t uint64
	for _, p := range parts {
		t += p
	}
	return t
}

func sumWords(words []uint64) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+4 <= len(words); i += 4 {
		w := words[i : i+4 : i+4]
		s0 += w[0]
		s1 += w[1]
		s2 += w[2]
		s3 += w[3]
	}
	for ; i < len(words); i++ {
		s0 += words[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// sumF32 is the plain float32 sum, in four independent accumulators.
func sumF32(xs []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		x := xs[i : i+4 : i+4]
		s0 += x[0]
		s1 += x[1]
		s2 += x[2]
		s3 += x[3]
	}
	for ; i < len(xs); i++ {
		s0 += xs[i]
	}
	return (s0 + s1) + (s2 + s3)
}

type int8Rows struct {
	vals  []int8
	scale []float32
}

// quantizeRows gives each row of rows (d wide) int8 values and a scale:
// row ≈ scale·vals.
func quantizeRows(rows []float32, d int) int8Rows {
	q := int8Rows{vals: make([]int8, len(rows)), scale: make([]float32, len(rows)/d)}
	for r := range q.scale {
		row := rows[r*d : (r+1)*d]
		var m float32
		for _, x := range row {
			m = max(m, float32(math.Abs(float64(x))))
		}
		s := m / 127
		q.scale[r] = s
		for j, x := range row {
			if s > 0 {
				q.vals[r*d+j] = int8(math.Round(float64(x / s)))
			}
		}
	}
	return q
}

func quantizeQuery(q []float32) ([]int16, float64) {
	var m float64
	for _, x := range q {
		m = max(m, math.Abs(float64(x)))
	}
	t := m / 32767
	out := make([]int16, len(q))
	for j, x := range q {
		out[j] = int16(math.Round(float64(x) / t))
	}
	return out, t
}

// parallelMax is the int8 kernel over every row, split like the scan,
// keeping only the best approximate score.
func parallelMax(q8 int8Rows, q16 []int16, qs float64, d int) float32 {
	shards := runtime.GOMAXPROCS(0)
	n := len(q8.scale)
	per := (n + shards - 1) / shards
	best := make([]float32, shards)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() {
			m := float32(math.Inf(-1))
			for r := i * per; r < min(n, (i+1)*per); r++ {
				f := float32(float64(q8.scale[r]) * qs * float64(dotInt8(q8.vals[r*d:(r+1)*d], q16)))
				m = max(m, f)
			}
			best[i] = m
		})
	}
	wg.Wait()
	return slices.Max(best)
}

func dotInt8(a []int8, b []int16) int {
	b = b[:len(a)]
	var s0, s1, s2, s3 int
	i := 0
	for ; i+4 <= len(a); i += 4 {
		a4, b4 := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += int(a4[0]) * int(b4[0])
		s1 += int(a4[1]) * int(b4[1])
		s2 += int(a4[2]) * int(b4[2])
		s3 += int(a4[3]) * int(b4[3])
	}
	for ; i < len(a); i++ {
		s0 += int(a[i]) * int(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// BenchmarkVectorHeap is the vector leg's heap per chunk (runtime.MemStats,
// after a collection, with the input vectors already allocated: they belong
// to the embedding cache): chromem-go given the raw vectors, as before the
// scan, which stores a normalised copy of each, against newVectorIndex, whose
// chromem documents point into the scan's one block of rows. Run it with
// -benchtime 1x: each iteration builds the whole leg.
func BenchmarkVectorHeap(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		texts := make([]string, n)
		for i := range texts {
			texts[i] = fmt.Sprintf("chunk %d", i)
		}
		vecs, _ := randomVectors{}.Embed(ctx, texts)
		for _, store := range []struct {
			name  string
			build func() (any, error)
		}{
			{"chromem-copies", func() (any, error) { return chromemWithRawVectors(ctx, vecs) }},
			{"scan", func() (any, error) { return newVectorIndex(ctx, vecs) }},
		} {
			b.Run(fmt.Sprintf("chunks=%d/store=%s", n, store.name), func(b *testing.B) {
				var grown uint64
				for b.Loop() {
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					leg, err := store.build()
					if err != nil {
						b.Fatal(err)
					}
					runtime.GC()
					runtime.ReadMemStats(&after)
					runtime.KeepAlive(leg)
					grown += after.HeapAlloc - before.HeapAlloc
				}
				b.ReportMetric(float64(grown)/float64(b.N)/float64(n), "heap-B/chunk")
			})
		}
	}
}

// chromemWithRawVectors is the vector leg as it was built before the scan.
func chromemWithRawVectors(ctx context.Context, vecs [][]float32) (*chromem.Collection, error) {
	coll, err := chromem.NewDB().CreateCollection("chunks", nil, refuseToEmbed)
	if err != nil {
		return nil, err
	}
	docs := make([]chromem.Document, len(vecs))
	for i, v := range vecs {
		docs[i] = chromem.Document{ID: strconv.Itoa(i), Embedding: v}
	}
	return coll, coll.AddDocuments(ctx, docs, 4)
}

// BenchmarkQueryFusedLegs is the fused query as Index.Search runs it (BM25,
// the question's vector, weighted fusion) with the vector leg through the
// scan (leg=scan: Index.Search itself) and through chromem-go's query
// (leg=chromem: the same steps, as before the scan), side by side.
func BenchmarkQueryFusedLegs(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		ix := synthetic(b, n)
		scan, err := ix.Search(ctx, benchQuery, 10)
		if err != nil {
			b.Fatal(err)
		}
		viaChromem, err := searchViaChromem(ctx, ix, ix.vectors.searchChromem, benchQuery, 10)
		if err != nil {
			b.Fatal(err)
		}
		if fmt.Sprint(scan.Hits) != fmt.Sprint(viaChromem) {
			b.Fatalf("chunks=%d: the scan ranks %v, chromem %v", n, scan.Hits, viaChromem)
		}
		b.Run(fmt.Sprintf("chunks=%d/leg=chromem", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := searchViaChromem(ctx, ix, ix.vectors.searchChromem, benchQuery, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("chunks=%d/leg=scan", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ix.Search(ctx, benchQuery, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// searchViaChromem is Index.search's weighted fusion with the vector leg
// queried through chromem-go, by vector.
func searchViaChromem(ctx context.Context, ix *Index, vector func(context.Context, []float32, int) ([]scored, error), query string, k int) ([]Hit, error) {
	pool := max(k*5, 50)
	lexical := ix.lexical.search(Terms(query), pool)
	qv, err := ix.opts.Embedder.Embed(ctx, []string{query})
	if err != nil {
		return nil, err
	}
	semantic, err := vector(ctx, qv[0], pool)
	if err != nil {
		return nil, err
	}
	fused := fuseWeighted([]float64{1 - ix.opts.VectorWeight, ix.opts.VectorWeight}, lexical, semantic)
	hits := make([]Hit, min(k, len(fused)))
	for i := range hits {
		hits[i] = Hit{Chunk: fused[i].doc, Score: fused[i].score}
	}
	return hits, nil
}

func parallelMaxBF16(rows []uint16, q []float32, d int) float32 {
	shards := runtime.GOMAXPROCS(0)
	n := len(rows) / d
	per := (n + shards - 1) / shards
	best := make([]float32, shards)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() {
			m := float32(math.Inf(-1))
			for r := i * per; r < min(n, (i+1)*per); r++ {
				m = max(m, dotBF16(q, rows[r*d:(r+1)*d]))
			}
			best[i] = m
		})
	}
	wg.Wait()
	return slices.Max(best)
}

func dotBF16(a []float32, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		a4, b4 := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += a4[0] * math.Float32frombits(uint32(b4[0])<<16)
		s1 += a4[1] * math.Float32frombits(uint32(b4[1])<<16)
		s2 += a4[2] * math.Float32frombits(uint32(b4[2])<<16)
		s3 += a4[3] * math.Float32frombits(uint32(b4[3])<<16)
	}
	for ; i < len(a); i++ {
		s0 += a[i] * math.Float32frombits(uint32(b[i])<<16)
	}
	return (s0 + s1) + (s2 + s3)
}
