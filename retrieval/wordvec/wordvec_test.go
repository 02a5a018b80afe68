package wordvec

import (
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

func newTestEmbedder(t testing.TB) *Embedder {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Sentences of the story the bot answers questions about.
const (
	question = "Who favors military strikes?"
	faction  = "While a faction supports military strikes, others encourage collaboration with local authorities."
	cartels  = "Six Mexican cartels were officially designated as foreign terrorist organizations in February, paving the way for potential military action from the U.S. in Mexico."
)

func TestTableLoads(t *testing.T) {
	e := newTestEmbedder(t)
	tb := e.t
	if got := e.Dimensions(); got != 100 {
		t.Errorf("Dimensions() = %d, want 100", got)
	}
	if n := len(tb.words); n != 100000 {
		t.Errorf("table has %d words, want 100000", n)
	}
	if tb.ncomp != 2 {
		t.Errorf("table has %d components, want 2", tb.ncomp)
	}
	// Rows are in frequency order, so rank is recoverable.
	if tb.words[0] != "the" || tb.ranks[0] != 1 {
		t.Errorf("row 0 = %q rank %d, want \"the\" rank 1", tb.words[0], tb.ranks[0])
	}
	for i := 1; i < len(tb.ranks); i++ {
		if tb.ranks[i] <= tb.ranks[i-1] {
			t.Fatalf("ranks not increasing at row %d: %d after %d", i, tb.ranks[i], tb.ranks[i-1])
		}
	}
	for _, w := range []string{"favors", "supports", "cartels", "mexico", "al-qaeda", "co-operation"} {
		if _, ok := tb.index[w]; !ok {
			t.Errorf("%q missing from the table", w)
		}
	}
	// The components must be orthonormal for removal to be a projection.
	d := tb.dims
	for i := 0; i < tb.ncomp; i++ {
		for j := 0; j <= i; j++ {
			var dot float64
			for k := 0; k < d; k++ {
				dot += float64(tb.comps[i*d+k]) * float64(tb.comps[j*d+k])
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > 1e-5 {
				t.Errorf("component %d·%d = %v, want %v", i, j, dot, want)
			}
		}
	}
	if !regexp.MustCompile(`^glove100-sif-v1-[0-9a-f]{8}$`).MatchString(e.ID()) {
		t.Errorf("ID() = %q", e.ID())
	}
	if again := newTestEmbedder(t); again.t != tb || again.ID() != e.ID() {
		t.Error("second New parsed the table again or changed its ID")
	}
}

func TestParseTableRejectsCorruption(t *testing.T) {
	if _, err := parseTable(tableData); err != nil {
		t.Fatalf("pristine table: %v", err)
	}
	corrupt := func(name string, edit func([]byte) []byte, want string) {
		t.Run(name, func(t *testing.T) {
			b := edit(slices.Clone(tableData))
			_, err := parseTable(b)
			if err == nil {
				t.Fatal("parseTable accepted a corrupted table")
			}
			if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "wordvec: parse table: ") {
				t.Errorf("error %q, want it to mention %q", err, want)
			}
		})
	}
	corrupt("vector byte", func(b []byte) []byte { b[len(b)-1000] ^= 0x10; return b }, "checksum mismatch")
	corrupt("word byte", func(b []byte) []byte { b[headerSize+4*200+100000+3] ^= 0x01; return b }, "checksum mismatch")
	corrupt("checksum", func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }, "checksum mismatch")
	corrupt("truncated", func(b []byte) []byte { return b[:len(b)/2] }, "checksum mismatch")
	corrupt("empty", func([]byte) []byte { return nil }, "truncated")
	corrupt("magic", func(b []byte) []byte { b[0] = 'X'; return resum(b) }, "bad magic")
	corrupt("version", func(b []byte) []byte { b[8] = 9; return resum(b) }, "version 9")
	corrupt("count", func(b []byte) []byte { b[16]++; return resum(b) }, "")
	corrupt("extra", func(b []byte) []byte { return resum(append(b[:len(b)-4], 0, 0, 0, 0, 0)) }, "trailing")
}

func TestWordSimilarity(t *testing.T) {
	e := newTestEmbedder(t)
	near := e.Similarity("favors", "supports")
	far := e.Similarity("favors", "cartels")
	t.Logf("favors~supports %.3f, favors~cartels %.3f", near, far)
	if near < far+0.3 {
		t.Errorf("favors~supports %.3f is not clearly above favors~cartels %.3f", near, far)
	}
	if s := e.Similarity("strikes", "attacks"); s < 0.5 {
		t.Errorf("strikes~attacks = %.3f, want >= 0.5", s)
	}
}

func TestQuestionRanksParaphrase(t *testing.T) {
	e := newTestEmbedder(t)
	good := e.Similarity(question, faction)
	bad := e.Similarity(question, cartels)
	t.Logf("question~faction %.3f, question~cartels %.3f", good, bad)
	if good < bad+0.1 {
		t.Errorf("faction sentence %.3f does not clearly outrank the cartels sentence %.3f", good, bad)
	}
}

func TestNoKnownWordIsZeroVector(t *testing.T) {
	e := newTestEmbedder(t)
	texts := []string{"", "   ", "?!… —", "12345 6789", "xqzvbnk", "a b c", "Ж 漢字"}
	vs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if len(v) != e.Dimensions() {
			t.Errorf("%q: %d dimensions, want %d", texts[i], len(v), e.Dimensions())
		}
		for _, x := range v {
			if x != 0 || math.IsNaN(float64(x)) {
				t.Errorf("%q: want an all-zero vector, got %v", texts[i], v[:4])
				break
			}
		}
	}
	if s := e.Similarity("xqzvbnk", "cartels"); s != 0 {
		t.Errorf("similarity with a no-signal text = %v, want 0", s)
	}
}

func TestVectorsAreUnitLength(t *testing.T) {
	e := newTestEmbedder(t)
	vs, err := e.Embed(context.Background(), []string{question, faction, cartels, "the", "strikes"})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Errorf("vector %d: squared norm %v, want 1", i, ss)
		}
	}
}

func TestBatchOrderAndDeterminism(t *testing.T) {
	e := newTestEmbedder(t)
	texts := []string{cartels, "", question, faction, "zzqx", question}
	batch, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(batch), len(texts))
	}
	for i, text := range texts {
		one, err := e.Embed(context.Background(), []string{text})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one[0], batch[i]) {
			t.Errorf("text %d: batch vector differs from its single embedding", i)
		}
	}
	if !slices.Equal(batch[2], batch[5]) {
		t.Error("the same text embedded twice in a batch differs")
	}
	if slices.Equal(batch[2], batch[3]) {
		t.Error("different texts share a vector")
	}
	// Appending to one vector must not write into the next.
	_ = append(batch[0], 42)
	if batch[1][0] != 0 {
		t.Error("vectors share spare capacity")
	}
}

func TestConcurrentEmbed(t *testing.T) {
	e := newTestEmbedder(t)
	texts := []string{question, faction, cartels}
	want, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := e.Embed(context.Background(), texts)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					if !slices.Equal(got[i], want[i]) {
						t.Error("concurrent embedding differs")
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestEmbedHonoursContext(t *testing.T) {
	e := newTestEmbedder(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	vs, err := e.Embed(ctx, []string{question})
	if !errors.Is(err, context.Canceled) || vs != nil {
		t.Errorf("Embed on a cancelled context = %v, %v; want nil, context.Canceled", vs, err)
	}
}

func TestTokenise(t *testing.T) {
	e := newTestEmbedder(t)
	tests := []struct {
		text string
		want []string
	}{
		{"The U.S. strikes", []string{"the", "strikes"}},
		{"Don't", []string{"do", "not"}},
		{"can't won’t", []string{"can", "not", "will", "not"}},
		{"they're we'll I've", []string{"they", "are", "we", "will", "have"}},
		{"Trump's and the cartels' leaders", []string{"trump", "and", "the", "cartels", "leaders"}},
		{"México, Peña, CAFÉ, naïve, Łódź", []string{"mexico", "pena", "cafe", "naive", "lodz"}},
		{"Cafe\u0301", []string{"cafe"}},
		{"co-operation with al-Qaeda", []string{"co-operation", "with", "al-qaeda"}},
		{"military-style well--known -drone- 'quoted'", []string{"military", "style", "well", "known", "drone", "quoted"}},
		{"F-16 G20 in 2025", []string{"f-16", "g20", "in"}},
		{"rock'n'roll", []string{"rock", "roll"}},
	}
	s := scanner{t: e.t}
	for _, tt := range tests {
		s.scan(tt.text)
		var got []string
		for _, id := range s.ids {
			got = append(got, e.t.words[id])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("tokens of %q = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// chunk is about 200 words of news-like prose, written for the benchmark.
var chunk = strings.Repeat("Officials in the capital said on Tuesday that the new policy would "+
	"change how the government responds to organised crime along the border. "+
	"Critics argued that military action could damage cooperation with local "+
	"police, while supporters insisted the threat demanded a stronger response. ", 5)

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := parseTable(tableData); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmbedSentence(b *testing.B) {
	e := newTestEmbedder(b)
	texts := []string{faction}
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmbedChunk(b *testing.B) {
	e := newTestEmbedder(b)
	texts := []string{chunk}
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(strings.Fields(chunk))), "words")
}
