package encoder

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
)

// reference is testdata/reference.json.gz: vectors and token ids computed
// by the TensorFlow.js model itself (internal/gen/reference.js) for
// sentences and questions of the XQuAD eval set and for awkward inputs of
// our own. The XQuAD texts are not ours to commit, so the file locates
// each one in ../shared/eval (see xquadText) and keeps only its checksum.
type reference struct {
	Vectors []referenceText `json:"vectors"`
	Tokens  []referenceText `json:"tokens"`
}

type referenceText struct {
	Text   string      `json:"text,omitempty"`
	XQuAD  *xquadPlace `json:"xquad,omitempty"`
	SHA256 string      `json:"sha256,omitempty"`
	Vector string      `json:"vector,omitempty"` // little-endian float32s, base64
	IDs    []int32     `json:"ids,omitempty"`
}

// readReference returns the reference with every text in place. Texts of
// the XQuAD set are read from ../shared/eval (or $STORYBOT_EVAL_DATA);
// when it is absent they are left out and the test says so, so the
// awkward inputs of our own are still checked.
func readReference(t *testing.T) reference {
	t.Helper()
	f, err := os.Open("testdata/reference.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.NewDecoder(zr).Decode(&ref); err != nil {
		t.Fatal(err)
	}
	set, err := openXQuAD()
	if err != nil {
		t.Logf("XQuAD texts of the reference left out: %v", err)
	}
	resolve := func(in []referenceText) []referenceText {
		out := in[:0]
		for _, r := range in {
			if r.XQuAD != nil {
				if set == nil {
					continue
				}
				text, err := set.text(*r.XQuAD, r.SHA256)
				if err != nil {
					t.Fatalf("reference text: %v", err)
				}
				r.Text = text
			}
			out = append(out, r)
		}
		return out
	}
	ref.Vectors = resolve(ref.Vectors)
	ref.Tokens = resolve(ref.Tokens)
	return ref
}

func newEncoder(t testing.TB) *Encoder {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// TestMatchesTensorFlowJS checks the port and the int8 weights against the
// original model's vectors, questions and long sentences alike.
func TestMatchesTensorFlowJS(t *testing.T) {
	ref := readReference(t)
	if len(ref.Vectors) == 0 {
		t.Skip("the reference vectors are all of XQuAD texts, which are missing (see the log)")
	}
	e := newEncoder(t)
	texts := make([]string, len(ref.Vectors))
	for i, r := range ref.Vectors {
		texts[i] = r.Text
	}
	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	sum, worst, worstText := 0.0, 2.0, ""
	for i, r := range ref.Vectors {
		raw, err := base64.StdEncoding.DecodeString(r.Vector)
		if err != nil || len(raw) != 4*Dim {
			t.Fatalf("reference vector %d: %d bytes, %v", i, len(raw), err)
		}
		want := make([]float32, Dim)
		for k := range want {
			want[k] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
		}
		c := cosine(got[i], want)
		sum += c
		if c < worst {
			worst, worstText = c, r.Text
		}
	}
	mean := sum / float64(len(ref.Vectors))
	t.Logf("%d texts: mean cosine %.6f, worst %.6f (%q)", len(ref.Vectors), mean, worst, worstText)
	if mean < 0.999 || worst < 0.995 {
		t.Errorf("vectors drift from the TensorFlow.js model: mean cosine %.6f (want ≥ 0.999), worst %.6f (want ≥ 0.995)", mean, worst)
	}
}

// TestTokenizerMatchesJS compares token ids with the JS SentencePiece port,
// including empty text, emoji, full-width letters, ligatures, combining
// marks and inputs past the 128-piece limit.
func TestTokenizerMatchesJS(t *testing.T) {
	ref := readReference(t)
	tok := newEncoder(t).net.tok
	bad := 0
	for _, c := range ref.Tokens {
		got := tok.Encode(c.Text)
		if !equalIDs(got, c.IDs) {
			if bad++; bad <= 5 {
				t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d tokenisations differ", bad, len(ref.Tokens))
	}
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMeaningNotWords: a paraphrase that shares almost no word with the
// question ("favors" / "supports bombing") scores far above unrelated text.
func TestMeaningNotWords(t *testing.T) {
	e := newEncoder(t)
	vecs, err := e.Embed(context.Background(), []string{
		"Who favors military strikes against the cartels?",
		"A faction led by Stephen Miller supports bombing cartel targets inside Mexico.",
		"Military strikes against the cartels were discussed at the White House, officials said.",
		"The weather in Paris was mild for the season.",
	})
	if err != nil {
		t.Fatal(err)
	}
	answer, topic, unrelated := cosine(vecs[0], vecs[1]), cosine(vecs[0], vecs[2]), cosine(vecs[0], vecs[3])
	t.Logf("answer %.3f, topic %.3f, unrelated %.3f", answer, topic, unrelated)
	if !(topic > unrelated && answer > unrelated) {
		t.Errorf("unrelated text scores %.3f, not below the answer (%.3f) and the topic (%.3f)", unrelated, answer, topic)
	}
}

// TestAwkwardInputs gives finite unit vectors for empty, blank, unknown-only
// and over-long text, in order.
func TestAwkwardInputs(t *testing.T) {
	e := newEncoder(t)
	texts := []string{"", " ", "\t\n", "😀🎉", strings.Repeat("word ", 400), "Who?"}
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		var n float64
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("vector for %.20q is not finite", texts[i])
			}
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-4 {
			t.Errorf("vector for %.20q has squared norm %v", texts[i], n)
		}
	}
	// The same text always gives the same vector, whichever worker ran it.
	again, _ := e.Embed(context.Background(), []string{"Who?"})
	if cosine(again[0], vecs[len(vecs)-1]) < 0.999999 {
		t.Error("embedding the same text twice differs")
	}
}

// TestConcurrentCallsAgree: callers share one network and its scratch
// pool; answers do not depend on who else is embedding.
func TestConcurrentCallsAgree(t *testing.T) {
	e := newEncoder(t)
	texts := []string{"Who favors military strikes?", "The lighthouse keeper lit the lamp every night for forty years.", "ok"}
	want, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := g % len(texts)
			got, err := e.Embed(context.Background(), []string{texts[i]})
			if err != nil || cosine(got[0], want[i]) < 0.999999 {
				errs <- fmt.Sprintf("goroutine %d: %q differs (%v)", g, texts[i], err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

// TestConcurrentBatchesAgree: calls of many texts (several chunks, so
// several goroutines each) running at once give every text the vector it
// gets alone.
func TestConcurrentBatchesAgree(t *testing.T) {
	e := newEncoder(t)
	words := strings.Fields("the council voted on a plan to extend night buses while farmers reported drought and prices rose")
	texts := make([]string, 2*chunkTexts+5)
	for i := range texts {
		texts[i] = strings.Join(words[i%7:i%7+3+i%9], " ") + "."
	}
	alone := make([][]float32, len(texts))
	for i, s := range texts {
		v, err := e.Embed(context.Background(), []string{s})
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = v[0]
	}
	var wg sync.WaitGroup
	errs := make(chan string, 3*len(texts))
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := e.Embed(context.Background(), texts[g:])
			if err != nil {
				errs <- err.Error()
				return
			}
			for i, v := range got {
				if c := cosine(v, alone[g+i]); c < 0.999999 {
					errs <- fmt.Sprintf("caller %d: %q has cosine %.7f to its vector alone", g, texts[g+i], c)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

func TestEmbedOfNothing(t *testing.T) {
	got, err := newEncoder(t).Embed(context.Background(), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Embed(nil) = %d vectors, %v", len(got), err)
	}
}

func TestEmbedStopsWhenCancelled(t *testing.T) {
	e := newEncoder(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = "A sentence that would take a while to embed, one of many."
	}
	if _, err := e.Embed(ctx, texts); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed on a cancelled context: %v, want context.Canceled", err)
	}
}

func TestCorruptWeightsAreRefused(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not gzip":  []byte("USEGO weights"),
		"truncated": weights[:len(weights)/2],
	} {
		if _, err := loadNetwork(bytes.NewReader(b)); err == nil {
			t.Errorf("%s weights loaded without error", name)
		}
	}
}

func TestIDNamesWeightsAndCode(t *testing.T) {
	e := newEncoder(t)
	if !strings.HasPrefix(e.ID(), "use-lite-v1-") || e.Dimensions() != Dim {
		t.Errorf("ID %q, dimensions %d", e.ID(), e.Dimensions())
	}
}

// Typical inputs: a 25-word sentence and a 10-word question.
const (
	benchSentence = "The quick brown fox jumped over the lazy dog while the farmer watched from the porch, wondering why animals always seem to behave so strangely."
	benchQuestion = "What is the capital city of the largest country in Europe?"
)

// BenchmarkEmbed times one text on one goroutine (go test -bench Embed
// ./retrieval/encoder).
func BenchmarkEmbed(b *testing.B) {
	e := newEncoder(b)
	dst := make([]float32, Dim)
	for _, bc := range []struct{ name, text string }{
		{"sentence25w", benchSentence},
		{"question10w", benchQuestion},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				e.net.embedTo(dst, bc.text)
			}
		})
	}
}

// FuzzEmbed feeds the tokenizer and the network arbitrary bytes: every
// input gives in-range token ids and a finite unit vector, the vector of
// the reference implementation (go test ./retrieval/encoder -run XXX
// -fuzz FuzzEmbed).
func FuzzEmbed(f *testing.F) {
	for _, s := range []string{"", "Who favors strikes?", "\xff\xfe", "ﬁ½²", "e\u0301", strings.Repeat("ab ", 300), "\u200b\ufeff"} {
		f.Add(s)
	}
	e := newEncoder(f)
	ref := newReference(f)
	vocab := e.net.vocab
	f.Fuzz(func(t *testing.T, text string) {
		for _, id := range e.net.tok.Encode(text) {
			if id < 0 || int(id) >= vocab {
				t.Fatalf("token id %d outside the %d-row embedding table", id, vocab)
			}
		}
		v := e.net.embedTo(make([]float32, Dim), text)
		var n float64
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("vector for %q is not finite", text)
			}
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-3 {
			t.Fatalf("vector for %q has squared norm %v", text, n)
		}
		if c := cosine(v, ref.embedTo(make([]float32, Dim), text)); c < 0.9999 {
			t.Fatalf("vector for %q has cosine %v to the reference's", text, c)
		}
	})
}
