package eval

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"storybot/retrieval"
	"storybot/retrieval/encoder"
	"storybot/retrieval/wordvec"
)

// fullArticles is XQuAD with full articles, read from the shared sets
// (DataDir); tests that need it skip without it.
const fullArticles = "xquad-en/xquad-questions-full-articles.json"

// dataFile locates a shared evaluation set, or skips the test saying what
// is missing.
func dataFile(t *testing.T, name string) string {
	t.Helper()
	p, err := Locate(name, os.Getenv)
	if err != nil {
		t.Skip(err)
	}
	return p
}

func readFile(t *testing.T, name string) *Dataset {
	t.Helper()
	f, err := os.Open(dataFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// defaultOptions mirror the command's defaults: BM25 fused with the built-in
// word vectors, and the sentence encoder, its vectors for the sample's
// sentences read from sentenceVectors.
func defaultOptions(t *testing.T) retrieval.Options {
	e, err := wordvec.New()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encoder.New()
	if err != nil {
		t.Fatal(err)
	}
	cache := retrieval.NewEmbeddingCache()
	seedVectors(t, cache, enc.ID())
	return retrieval.Options{Embedder: e, Encoder: enc, Cache: cache}
}

// sample is the fixed sample of the quality tests: every third article of
// the full-article XQuAD set.
func sample(t *testing.T) *Dataset {
	d := readFile(t, fullArticles)
	var s Dataset
	for i, a := range d.Data {
		if i%3 == 0 {
			s.Data = append(s.Data, a)
		}
	}
	return &s
}

// Recorded on the fixed sample below (every third article of the full-article
// XQuAD set) with the default options. A change that drops Recall@5 or
// answer-sentence@1 more than two points below these fails the test; a
// change that improves them should raise them.
const (
	recordedRecall5         = 98.4
	recordedAnswerSentence1 = 82.9
	allowedDrop             = 2.0
)

func TestQualityDoesNotRegress(t *testing.T) {
	d := sample(t)
	opts := defaultOptions(t)
	rep, err := Run(context.Background(), d, Options{Retrieval: opts})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("STORYBOT_WRITE_VECTORS") != "" {
		n, err := writeVectors(sentenceVectors, opts.Cache, opts.Encoder.ID())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d vectors to %s", n, sentenceVectors)
	}
	var firsts []string
	for _, a := range d.Data[:3] {
		body := strings.TrimSpace(a.Paragraphs[0].Context)
		s := retrieval.SplitStory(body)[0]
		firsts = append(firsts, body[s.Start:s.End])
	}
	checkAgainstEncoder(t, opts.Cache, opts.Encoder, firsts)
	t.Logf("%d questions: Recall@1 %.1f, Recall@5 %.1f, answer-sentence@1 %.1f, answered %.1f%%",
		rep.Questions, rep.Recall1, rep.Recall5, rep.AnswerSentence1, rep.AnswerRate)
	if rep.Recall5 < recordedRecall5-allowedDrop {
		t.Errorf("Recall@5 %.1f fell more than %.0f points below the recorded %.1f", rep.Recall5, allowedDrop, recordedRecall5)
	}
	if rep.AnswerSentence1 < recordedAnswerSentence1-allowedDrop {
		t.Errorf("answer-sentence@1 %.1f fell more than %.0f points below the recorded %.1f", rep.AnswerSentence1, allowedDrop, recordedAnswerSentence1)
	}
}

func TestAbstainOnOtherArticles(t *testing.T) {
	six := Dataset{Data: sample(t).Data[:6]}
	rep, err := Run(context.Background(), &six, Options{Retrieval: defaultOptions(t), AbstainTest: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DeclineRate == nil || *rep.DeclineRate < 90 {
		t.Errorf("off-article decline rate %v, want at least 90%%", rep.DeclineRate)
	}
	if rep.AnswerRate < 85 {
		t.Errorf("on-article answer rate %.1f, want at least 85%%", rep.AnswerRate)
	}
}

func TestReadNamesTheArticleAndField(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"invalid json", `{"data": [`, "invalid JSON"},
		{"no data", `{"data": []}`, `field "data": no articles`},
		{"no title", `{"data": [{"paragraphs": []}]}`, `article 0: field "title"`},
		{"no paragraphs", `{"data": [{"title": "T"}]}`, `article "T": field "paragraphs"`},
		{"empty context", `{"data": [{"title": "T", "paragraphs": [{"context": " ", "qas": []}]}]}`, `article "T", paragraph 0: field "context"`},
		{"no question", `{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "answers": [{"text": "c", "answer_start": 0}]}]}]}]}`, `(q1): field "question"`},
		{"no answers", `{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "why?"}]}]}]}`, `(q1): field "answers"`},
		{"no answer start", `{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "why?", "answers": [{"text": "c"}]}]}]}]}`, `answer_start`},
		{"no id", `{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"question": "why?"}]}]}]}`, `field "id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Read(strings.NewReader(`{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "why?", "answers": [{"text": "c", "answer_start": 0}]}]}]}]}`)); err != nil {
		t.Errorf("valid file refused: %v", err)
	}
}

func TestSquadMetrics(t *testing.T) {
	if got := normalize("The  Denver Broncos!"); got != "denver broncos" {
		t.Errorf("normalize: %q", got)
	}
	if exactMatch("the Denver Broncos.", []string{"Denver Broncos"}) != 1 {
		t.Error("EM should ignore articles and punctuation")
	}
	if exactMatch("Broncos", []string{"Denver Broncos"}) != 0 {
		t.Error("EM of a partial answer")
	}
	// pred {denver, broncos, won}, gold {denver, broncos}: P 2/3, R 1.
	if got, want := f1("Denver Broncos won", []string{"Denver Broncos"}), 0.8; math.Abs(got-want) > 1e-9 {
		t.Errorf("F1 %v, want %v", got, want)
	}
	if got := f1("nothing alike", []string{"Denver", "Carolina Panthers"}); got != 0 {
		t.Errorf("F1 of disjoint %v", got)
	}
	if got := f1("Carolina", []string{"Denver", "Carolina Panthers"}); math.Abs(got-2.0/3) > 1e-9 {
		t.Errorf("F1 best over golds %v, want 2/3", got)
	}
}

func TestAUCAndRouge(t *testing.T) {
	if got := auc([]float64{0.9, 0.8}, []float64{0.1, 0.2}); got != 1 {
		t.Errorf("separated AUC %v", got)
	}
	if got := auc([]float64{0.5, 0.1}, []float64{0.5, 0.9}); math.Abs(got-0.125) > 1e-9 {
		// pairs: (0.5,0.5) tie ½, (0.5,0.9) 0, (0.1,0.5) 0, (0.1,0.9) 0 → ½/4
		t.Errorf("AUC with a tie %v, want 0.125", got)
	}
	sys, ref := rougeTokens("The cat sat on the mat."), rougeTokens("the cat lay on the mat")
	// unigrams: 5 of 6 shared; bigrams: "the cat", "on the", "the mat" of 5.
	if got := ngramF1(sys, ref, 1); math.Abs(got-5.0/6) > 1e-9 {
		t.Errorf("ROUGE-1 %v", got)
	}
	if got := ngramF1(sys, ref, 2); math.Abs(got-3.0/5) > 1e-9 {
		t.Errorf("ROUGE-2 %v", got)
	}
	if got := lcsF1(sys, ref); math.Abs(got-5.0/6) > 1e-9 {
		t.Errorf("ROUGE-L %v", got)
	}
}

func TestReadSquad2(t *testing.T) {
	d, err := Read(strings.NewReader(`{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "why?", "answers": [], "is_impossible": true, "plausible_answers": [{"text": "c", "answer_start": 0}]}]}]}]}`))
	if err != nil || !d.Data[0].Paragraphs[0].QAs[0].IsImpossible {
		t.Errorf("impossible question: %v", err)
	}
	if _, err := Read(strings.NewReader(`{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "why?", "answers": [{"text": "c", "answer_start": 0}], "is_impossible": true}]}]}]}`)); err == nil || !strings.Contains(err.Error(), "plausible_answers") {
		t.Errorf("impossible with answers: %v", err)
	}
}
