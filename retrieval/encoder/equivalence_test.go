package encoder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// equivalenceTexts are the texts the fast path is checked on against the
// reference: the XQuAD texts of testdata/reference.json.gz (its 48
// questions and sentences, then every every-th of its awkward and sample
// texts; every ≤ 0 for none; left out when ../shared is absent), the
// paragraphs of the built-in story, plus edge cases of length.
func equivalenceTexts(t *testing.T, every int) []string {
	ref := readReference(t)
	var texts []string
	story, err := os.ReadFile(filepath.Join("..", "..", "knowledge", "default", "cartel-strikes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range strings.Split(string(story), "\n\n") {
		if every > 0 || i%3 == 0 {
			texts = append(texts, strings.TrimSpace(p))
		}
	}
	for i, v := range ref.Vectors {
		if every > 0 || i%8 == 0 {
			texts = append(texts, v.Text)
		}
	}
	for i, c := range ref.Tokens {
		if every > 0 && i%every == 0 {
			texts = append(texts, c.Text)
		}
	}
	texts = append(texts,
		"", " ", "a", "Who?", "😀", "ﬁ", "e\u0301", "東京は日本の首都です。", "Ünïcödé façade — naïve café, Straße.",
		strings.Repeat("word ", 400),                         // truncated at 128 pieces
		strings.Repeat("antidisestablishmentarianism ", 60),  // truncated, long pieces
		strings.Repeat("x", 127), strings.Repeat("x y ", 64), // around the limit
	)
	if raceEnabled { // the race detector slows the reference's loops ten times
		short := texts[:0]
		for _, s := range texts {
			if len(s) < 200 {
				short = append(short, s)
			}
		}
		texts = append(short, strings.Repeat("word ", 400))
	}
	return texts
}

// TestMatchesReference: the batched int8 kernel gives the vectors of the
// per-text float32 reference (the encoder before issue 14), text by text,
// whatever the batch around each text.
func TestMatchesReference(t *testing.T) {
	every := 12
	if raceEnabled || testing.Short() {
		every = 0
	}
	texts := equivalenceTexts(t, every)
	want, err := newReference(t).embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newEncoder(t).Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	mean, worst, worstText := compareVectors(got, want, texts)
	t.Logf("%d texts: mean cosine 1 - %.2g, worst 1 - %.2g (%.40q)", len(texts), 1-mean, 1-worst, worstText)
	if mean < 0.9999 || worst < 0.999 {
		t.Errorf("batched vectors drift from the reference: mean cosine %.7f (want ≥ 0.9999), worst %.7f (want ≥ 0.999)", mean, worst)
	}
	// One at a time, and in another order, each text gets the same vector.
	for _, i := range []int{0, len(texts) - 1, len(texts) / 2} {
		one, err := newEncoder(t).Embed(context.Background(), texts[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if c := cosine(one[0], got[i]); c < 0.999999 {
			t.Errorf("%.40q alone: cosine %.7f to the same text in a batch", texts[i], c)
		}
	}
}

// TestOtherKernelsMatchReference runs the encoder on the kernels not
// chosen on this machine (AVX2, plain Go), on fewer texts.
func TestOtherKernelsMatchReference(t *testing.T) {
	texts := equivalenceTexts(t, 0)
	want, err := newReference(t).embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	defer func(k gemmKernel) { kern = k }(kern)
	for _, k := range kernels() {
		t.Run(k.name, func(t *testing.T) {
			kern = k
			texts, want := texts, want
			if k.name == "go" && raceEnabled { // slow: short edge cases only
				texts, want = texts[len(texts)-9:len(texts)-2], want[len(want)-9:len(want)-2]
			}
			net := newEncoder(t).net
			got := make([][]float32, len(texts))
			for i := range got {
				got[i] = make([]float32, Dim)
			}
			net.embedAll(got, texts, new(scratch))
			mean, worst, worstText := compareVectors(got, want, texts)
			t.Logf("%s, %d texts: mean cosine 1 - %.2g, worst 1 - %.2g (%.40q)", k.name, len(texts), 1-mean, 1-worst, worstText)
			if mean < 0.9999 || worst < 0.999 {
				t.Errorf("%s: mean cosine %.7f, worst %.7f", k.name, mean, worst)
			}
		})
	}
}

func compareVectors(got, want [][]float32, texts []string) (mean, worst float64, worstText string) {
	worst = 2
	for i := range texts {
		c := cosine(got[i], want[i])
		mean += c
		if c < worst {
			worst, worstText = c, texts[i]
		}
	}
	return mean / float64(len(texts)), worst, worstText
}
