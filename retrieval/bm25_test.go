package retrieval

import (
	"math"
	"testing"
)

// bm25Of indexes documents given as terms.
func bm25Of(docs [][]string, k1, b float64) *bm25 {
	dict := newTermDict()
	ids := make([][]uint32, len(docs))
	for i, d := range docs {
		ids[i] = dict.intern(d, nil)
	}
	return newBM25(dict, len(docs), func(d int, buf []uint32) []uint32 { return append(buf, ids[d]...) }, k1, b)
}

func TestBM25MatchesHandComputedScores(t *testing.T) {
	docs := [][]string{{"a", "b"}, {"a", "a", "c"}, {"c"}}
	ix := bm25Of(docs, 1.2, 0.75)
	// N=3, avgdl=2. idf(a) = ln(1 + (3-2+0.5)/(2+0.5)) = ln 1.6.
	idf := math.Log(1.6)
	want := map[int]float64{
		0: idf * 1 * 2.2 / (1 + 1.2*(0.25+0.75*2.0/2)), // tf 1, |d| 2
		1: idf * 2 * 2.2 / (2 + 1.2*(0.25+0.75*3.0/2)), // tf 2, |d| 3
	}
	got := ix.search([]string{"a"}, 10)
	if len(got) != 2 {
		t.Fatalf("got %d hits, want 2 (doc 2 has no 'a')", len(got))
	}
	for _, h := range got {
		if math.Abs(h.score-want[h.doc]) > 1e-9 {
			t.Errorf("doc %d: score %.9f, want %.9f", h.doc, h.score, want[h.doc])
		}
	}
	if got[0].doc != 1 {
		t.Errorf("doc 1 (two a's) should rank first, got %d", got[0].doc)
	}
	if math.Abs(want[0]-0.470004) > 1e-6 || math.Abs(want[1]-0.566580) > 1e-6 {
		t.Errorf("hand values drifted: %v", want)
	}
}

func TestBM25RepeatedQueryTermsCountOnce(t *testing.T) {
	ix := bm25Of([][]string{{"x"}, {"y"}}, 1.2, 0.75)
	once := ix.search([]string{"x"}, 1)
	twice := ix.search([]string{"x", "x"}, 1)
	if once[0].score != twice[0].score {
		t.Errorf("repeated query term changed the score: %v vs %v", once[0].score, twice[0].score)
	}
}

func TestTopKKeepsTheBestInOrder(t *testing.T) {
	scores := []float64{0.5, 0, 3, 1, 2, -1, 3}
	got := topK(scores, 3)
	want := []scored{{2, 3}, {6, 3}, {4, 2}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rank %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if len(topK(scores, 0)) != 0 {
		t.Error("k=0 returned hits")
	}
	if n := len(topK(scores, 100)); n != 5 {
		t.Errorf("k above the positive count: got %d hits, want the 5 positive ones", n)
	}
}

func TestFuseRRF(t *testing.T) {
	lexical := []scored{{1, 9}, {2, 5}}
	semantic := []scored{{2, 0.9}, {3, 0.8}}
	got := fuseRRF(lexical, semantic)
	// doc 2: 1/62 + 1/61; doc 1: 1/61; doc 3: 1/62.
	if got[0].doc != 2 || got[1].doc != 1 || got[2].doc != 3 {
		t.Fatalf("order %v, want docs 2, 1, 3", got)
	}
	if want := 1.0/62 + 1.0/61; math.Abs(got[0].score-want) > 1e-12 {
		t.Errorf("doc 2 score %v, want %v", got[0].score, want)
	}
}

func TestFuseWeighted(t *testing.T) {
	lexical := []scored{{1, 10}, {2, 6}, {3, 2}}
	semantic := []scored{{3, 0.9}, {2, 0.5}, {1, 0.1}}
	got := fuseWeighted([]float64{0.7, 0.3}, lexical, semantic)
	// normalised lexical: 1→1, 2→0.5, 3→0; semantic: 3→1, 2→0.5, 1→0.
	want := map[int]float64{1: 0.7, 2: 0.5, 3: 0.3}
	for _, s := range got {
		if math.Abs(s.score-want[s.doc]) > 1e-12 {
			t.Errorf("doc %d: %v, want %v", s.doc, s.score, want[s.doc])
		}
	}
	if got[0].doc != 1 || got[2].doc != 3 {
		t.Errorf("order %v", got)
	}
}
