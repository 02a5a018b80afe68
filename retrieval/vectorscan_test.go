package retrieval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/philippgille/chromem-go"

	"storybot/knowledge"
)

// gaussianVectors are n pseudo-random vectors of d dimensions.
func gaussianVectors(seed uint64, n, d int) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, d)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// sameRanking fails unless got (the scan) is chromem's ranking want: the same
// scores, bit for bit, position by position, and the same documents, except
// that documents of equal score may come in any order in want (chromem breaks
// ties as its goroutines happen to finish) and, in the last group of equal
// score, may differ. The scan breaks ties by document number.
func sameRanking(t *testing.T, what string, got, want []scored) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hits, chromem %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].score != want[i].score {
			t.Fatalf("%s: hit %d scores %v, chromem %v", what, i, got[i].score, want[i].score)
		}
		if i > 0 && got[i].score == got[i-1].score && got[i].doc <= got[i-1].doc {
			t.Fatalf("%s: tie at hits %d-%d not broken by document number: %v", what, i-1, i, got[i-1:i+1])
		}
	}
	if len(got) == 0 {
		return
	}
	last := got[len(got)-1].score
	count := map[int]int{}
	for i := range got {
		if got[i].score != last {
			count[got[i].doc]++
			count[want[i].doc]--
		}
	}
	for d, c := range count {
		if c != 0 {
			t.Fatalf("%s: document %d ranked by one and not the other (%+d)", what, d, c)
		}
	}
}

// chromemRef is the vector leg as it was before the scan, the reference the
// scan must rank as: chromem-go given the raw vectors (zero vectors left out),
// normalising them itself, and queried with the raw query.
type chromemRef struct{ coll *chromem.Collection }

func newChromemRef(t testing.TB, vecs [][]float32) chromemRef {
	t.Helper()
	coll, err := chromem.NewDB().CreateCollection("reference", nil, refuseToEmbed)
	if err != nil {
		t.Fatal(err)
	}
	var docs []chromem.Document
	for i, v := range vecs {
		if !isZero(v) {
			docs = append(docs, chromem.Document{ID: strconv.Itoa(i), Embedding: v})
		}
	}
	if err := coll.AddDocuments(context.Background(), docs, 4); err != nil {
		t.Fatal(err)
	}
	return chromemRef{coll}
}

func (r chromemRef) search(ctx context.Context, q []float32, k int) ([]scored, error) {
	n := r.coll.Count()
	if n == 0 || isZero(q) || k <= 0 {
		return nil, nil
	}
	res, err := r.coll.QueryWithOptions(ctx, chromem.QueryOptions{
		QueryEmbedding: q,
		NResults:       min(k, n),
		Negative:       chromem.NegativeQueryOptions{Mode: chromem.NEGATIVE_MODE_FILTER},
	})
	if err != nil {
		return nil, err
	}
	out := make([]scored, 0, len(res))
	for _, x := range res {
		d, err := strconv.Atoi(x.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, scored{d, float64(x.Similarity)})
	}
	return out, nil
}

func TestScanMatchesChromem(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ n, d int }{
		{1, 1}, {7, 3}, {1000, 100}, {2*rowsPerShard + 5, 24}, {1000, 768}, {600, 1536}, {500, 13},
	} {
		t.Run(fmt.Sprintf("n=%d/d=%d", tc.n, tc.d), func(t *testing.T) {
			vecs := gaussianVectors(uint64(tc.n*tc.d), tc.n, tc.d)
			v, err := newVectorIndex(ctx, vecs)
			if err != nil {
				t.Fatal(err)
			}
			ref := newChromemRef(t, vecs)
			for qi, q := range gaussianVectors(99, 4, tc.d) {
				for _, k := range []int{1, 5, 50, tc.n, tc.n + 3} {
					got, err := v.search(ctx, q, k)
					if err != nil {
						t.Fatal(err)
					}
					want, err := ref.search(ctx, q, k)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != min(k, tc.n) {
						t.Fatalf("k=%d of %d: %d hits", k, tc.n, len(got))
					}
					sameRanking(t, fmt.Sprintf("query %d k=%d", qi, k), got, want)
				}
			}
		})
	}
}

// TestScanTies: with many equal vectors, the scan returns chromem's scores,
// and among equals the lowest document numbers, in order.
func TestScanTies(t *testing.T) {
	ctx := context.Background()
	base := gaussianVectors(5, 3, 100)
	var vecs [][]float32
	for i := range 2*rowsPerShard + 5 {
		vecs = append(vecs, base[i%3])
	}
	v, err := newVectorIndex(ctx, vecs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.search(ctx, base[1], 10)
	if err != nil {
		t.Fatal(err)
	}
	want, err := newChromemRef(t, vecs).search(ctx, base[1], 10)
	if err != nil {
		t.Fatal(err)
	}
	sameRanking(t, "ties", got, want)
	for i, h := range got {
		if h.doc != 1+3*i {
			t.Fatalf("hit %d is document %d, want %d (ties by document number): %v", i, h.doc, 1+3*i, got)
		}
	}
}

// TestScanMatchesChromemOnGloVe ranks with the default word vectors, on half
// of XQuAD's full articles (one story each) and every fourth question of
// each paragraph: the chunks and the sentences, each through the scan and
// through chromem-go, for the pool the fused query asks for; and the fused
// query itself, through Index.Search and through chromem-go.
func TestScanMatchesChromemOnGloVe(t *testing.T) {
	dir := os.Getenv("STORYBOT_EVAL_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "eval")
	}
	path := filepath.Join(dir, "xquad-en", "xquad-questions-full-articles.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("XQuAD full articles missing (%v; set STORYBOT_EVAL_DATA to the folder holding xquad-en/): the ranking on real vectors is not checked", err)
	}
	var set struct {
		Data []struct {
			Title      string `json:"title"`
			Paragraphs []struct {
				Context string `json:"context"`
				QAs     []struct {
					Question string `json:"question"`
				} `json:"qas"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var stories []*knowledge.Story
	var questions []string
	for ai, a := range set.Data {
		if ai%2 == 1 {
			continue // half the articles keep the run short under -race
		}
		var body strings.Builder
		for _, p := range a.Paragraphs {
			body.WriteString(p.Context + "\n\n")
			for i, qa := range p.QAs {
				if i%4 == 0 {
					questions = append(questions, qa.Question)
				}
			}
		}
		stories = append(stories, &knowledge.Story{ID: fmt.Sprint(ai), Title: a.Title, Body: body.String()})
	}
	ctx := context.Background()
	ix, err := Build(ctx, stories, Options{Embedder: fitEmbedder})
	if err != nil {
		t.Fatal(err)
	}
	// The index's vectors, as it reads them.
	sentVecs, chunkVecs := indexVectors(t, ix)
	sentences, err := newVectorIndex(ctx, sentVecs)
	if err != nil {
		t.Fatal(err)
	}
	chunkRef, sentenceRef := newChromemRef(t, chunkVecs), newChromemRef(t, sentVecs)
	qvecs, err := fitEmbedder.Embed(ctx, questions)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qvecs {
		for _, leg := range []struct {
			name string
			scan *vectorIndex
			ref  chromemRef
		}{{"chunks", ix.vectors, chunkRef}, {"sentences", sentences, sentenceRef}} {
			got, err := leg.scan.search(ctx, q, 50)
			if err != nil {
				t.Fatal(err)
			}
			want, err := leg.ref.search(ctx, q, 50)
			if err != nil {
				t.Fatal(err)
			}
			sameRanking(t, fmt.Sprintf("%s, question %q", leg.name, questions[i]), got, want)
		}
		got, err := ix.Search(ctx, questions[i], 10)
		if err != nil {
			t.Fatal(err)
		}
		want, err := searchViaChromem(ctx, ix, chunkRef.search, questions[i], 10)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Hits) != fmt.Sprint(want) {
			t.Fatalf("fused, question %q: %v, through chromem %v", questions[i], got.Hits, want)
		}
	}
	t.Logf("%d questions over %d chunks and %d sentences rank as chromem ranks them", len(qvecs), len(ix.vectors.scan.docs), len(sentences.scan.docs))
}

// TestScanSharesChromemVectors: chromem's documents are the scan's rows, not
// copies, except for a row chromem does not take as normalised (see
// normalizeLikeChromem).
func TestScanSharesChromemVectors(t *testing.T) {
	ctx := context.Background()
	for _, d := range []int{100, 768, 1536} {
		vecs := gaussianVectors(uint64(d), 2000, d)
		v, err := newVectorIndex(ctx, vecs)
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.coll.QueryEmbedding(ctx, vecs[0], len(vecs), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(v.scan.rows)))
		hi := lo + uintptr(len(v.scan.rows))*4
		copies := 0
		for _, r := range res {
			p := uintptr(unsafe.Pointer(unsafe.SliceData(r.Embedding)))
			doc, _ := strconv.Atoi(r.ID) // no zero vectors: document i is row i
			row := v.scan.rows[doc*d : (doc+1)*d]
			if p < lo || p >= hi {
				copies++
				if chromemIsNormalized(row) {
					t.Fatalf("d=%d: document %s holds its own copy of its vector", d, r.ID)
				}
			}
		}
		if copies > len(vecs)/100 {
			t.Errorf("d=%d: %d of %d documents hold their own copy", d, copies, len(vecs))
		}
	}
}

func TestScanEdges(t *testing.T) {
	ctx := context.Background()
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))

	v, err := newVectorIndex(ctx, [][]float32{{0, 0, 0}, {1, 2, 3}, {0, 0, 0}, {-1, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.scan.docs) != 2 || v.coll.Count() != 2 {
		t.Fatalf("scan holds %d rows, chromem %d documents; want 2 (zero vectors left out)", len(v.scan.docs), v.coll.Count())
	}
	hits, err := v.search(ctx, []float32{1, 2, 3}, 10)
	if err != nil || len(hits) != 2 || hits[0].doc != 1 || hits[1].doc != 3 {
		t.Fatalf("k above the count: %v, %v; want documents 1 then 3", hits, err)
	}
	if math.Abs(hits[0].score-1) > 1e-6 {
		t.Errorf("a vector's cosine with itself is %v", hits[0].score)
	}
	for _, tc := range []struct {
		name string
		q    []float32
		k    int
		err  bool
	}{
		{"zero query", []float32{0, 0, 0}, 3, false},
		{"k=0", []float32{1, 0, 0}, 0, false},
		{"negative k", []float32{1, 0, 0}, -1, false},
		{"short query", []float32{1, 0}, 3, true},
		{"long query", []float32{1, 0, 0, 0}, 3, true},
		{"NaN query", []float32{nan, 1, 0}, 3, true},
		{"Inf query", []float32{inf, 1, 0}, 3, true},
	} {
		hits, err := v.search(ctx, tc.q, tc.k)
		if (err != nil) != tc.err || hits != nil {
			t.Errorf("%s: %v, %v; want no hits and error=%v", tc.name, hits, err, tc.err)
		}
	}

	for name, vecs := range map[string][][]float32{
		"NaN":       {{1, 0}, {nan, 1}},
		"Inf":       {{1, 0}, {1, inf}},
		"dimension": {{1, 0}, {0, 0, 0}, {1, 0, 0}},
	} {
		if _, err := newVectorIndex(ctx, vecs); err == nil {
			t.Errorf("%s: vectors accepted", name)
		}
	}

	empty, err := newVectorIndex(ctx, [][]float32{{0, 0}, {0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if hits, err := empty.search(ctx, []float32{1, 0}, 5); err != nil || hits != nil {
		t.Errorf("index of zero vectors: %v, %v; want no hits, no error", hits, err)
	}
}

// countingContext is canceled from its limit-th look at Err on.
type countingContext struct {
	context.Context
	looks, limit atomic.Int64
}

func (c *countingContext) Err() error {
	if c.looks.Add(1) >= c.limit.Load() {
		return context.Canceled
	}
	return nil
}

func TestScanCancel(t *testing.T) {
	vecs := gaussianVectors(3, 100_000, 16)
	v, err := newVectorIndex(context.Background(), vecs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if hits, err := v.search(ctx, vecs[0], 10); !errors.Is(err, context.Canceled) || hits != nil {
		t.Errorf("canceled before: %v, %v", hits, err)
	}
	// Canceled mid-scan: the scan stops at its next look, and says so.
	c := &countingContext{Context: context.Background()}
	c.limit.Store(5)
	if hits, err := v.search(c, vecs[0], 10); !errors.Is(err, context.Canceled) || hits != nil {
		t.Errorf("canceled during: %v, %v", hits, err)
	}
	if got, full := c.looks.Load(), int64(100_000/rowsPerCheck); got > 5+2 || got >= full {
		t.Errorf("the scan looked at its context %d times after the cancel at look 5 (a full scan looks %d times)", got, full)
	}
}

// TestScanConcurrent: one index, many questions at once (run under -race).
func TestScanConcurrent(t *testing.T) {
	ctx := context.Background()
	v, err := newVectorIndex(ctx, gaussianVectors(11, 2*rowsPerShard+5, 16))
	if err != nil {
		t.Fatal(err)
	}
	queries := gaussianVectors(12, 8, 16)
	want := make([][]scored, len(queries))
	for i, q := range queries {
		if want[i], err = v.search(ctx, q, 20); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(queries))
	for range 4 {
		for i, q := range queries {
			wg.Go(func() {
				got, err := v.search(ctx, q, 20)
				if err != nil {
					errs <- err
					return
				}
				if fmt.Sprint(got) != fmt.Sprint(want[i]) {
					errs <- fmt.Errorf("query %d: %v, alone %v", i, got, want[i])
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// indexVectors are the Embedder's vectors of ix's sentences, as a question
// reads them (the word vectors' are embedded then, not held), and of its
// chunks, as the index's int8 rows hold them (zero rows as zero vectors).
func indexVectors(t *testing.T, ix *Index) (sents, chunks [][]float32) {
	t.Helper()
	gs := make([]int, ix.nSents)
	for g := range gs {
		gs[g] = g
	}
	sents, err := ix.embedSentences(context.Background(), gs)
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range ix.segs {
		for i := range seg.chunks {
			chunks = append(chunks, seg.chunkVec.vector(i))
		}
	}
	return sents, chunks
}
