package retrieval

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"storybot/knowledge"
)

// naturalQuestion is one question of the project's natural-question set
// (testdata/natural-questions.json).
type naturalQuestion struct {
	Story, Q, Kind, Split string
	Answerable            bool
	Answers               []string
}

// naturalDir is where the natural set's Wikinews stories are read from.
func naturalDir() string {
	dir := filepath.Join("..", "..", "shared", "eval")
	if d := os.Getenv("STORYBOT_EVAL_DATA"); d != "" {
		dir = d
	}
	return filepath.Join(dir, "wikinews", "stories")
}

// eachNatural calls fn for every on-topic question of the split, with an
// index of the question's own story (built once a story) and the question
// as Ask reads it: cleaned, and its chat words and typos spelled out.
func eachNatural(t *testing.T, setPath, storiesDir, split string, opts Options, fn func(ix *Index, q naturalQuestion, read string)) {
	t.Helper()
	raw, err := os.ReadFile(setPath)
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Questions []naturalQuestion }
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("%s: %v", setPath, err)
	}
	folder, err := knowledge.LoadDir(storiesDir)
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]*knowledge.Story{}
	for _, s := range folder {
		byFile[filepath.ToSlash(s.Path)] = s
	}
	indexes := map[string]*Index{}
	for _, q := range set.Questions {
		if q.Split != split || q.Kind == "offtopic" {
			continue
		}
		ix := indexes[q.Story]
		if ix == nil {
			stories := knowledge.Default()
			if q.Story != "default" {
				s, ok := byFile[q.Story]
				if !ok {
					t.Fatalf("story %q is not in %s", q.Story, storiesDir)
				}
				stories = []*knowledge.Story{s}
			}
			if ix, err = Build(context.Background(), stories, opts); err != nil {
				t.Fatal(err)
			}
			indexes[q.Story] = ix
		}
		read, err := CleanQuestion(q.Q)
		if err != nil {
			t.Fatalf("%q: %v", q.Q, err)
		}
		fn(ix, q, ix.normalizeQuestion(read))
	}
}

// naturalConfidenceData are confidence cases from the fit half of the
// natural set, each question asked of its own story: a positive case when
// the first quote holds a gold answer, a negative one when the question is
// on the story's topic but unanswered, or answered from the wrong
// sentence. Off-topic questions are the decline rule's, not the
// confidence's. They carry article -1: always in the training folds, never
// held out, so the SQuAD 2.0 cross-validation still reports on articles it
// did not fit.
func naturalConfidenceData(t *testing.T, setPath, storiesDir string, opts Options) []confCase {
	t.Helper()
	ctx := context.Background()
	var out []confCase
	eachNatural(t, setPath, storiesDir, "fit", opts, func(ix *Index, q naturalQuestion, _ string) {
		a, err := ix.Ask(ctx, q.Q)
		if err != nil || a.Outcome == OutcomeNone || a.Confidence == 1 {
			return // declined, or not read by the model (overview, meta)
		}
		// The question as typed, not as Ask reads it: the shipped weights
		// were fitted so. Refitted on the questions as Ask reads them, the
		// figures move within noise (cross-validated AUC 0.718 either way;
		// natural test half 0.735 against 0.732) and "who favors
		// strikes?" over many stories is hedged (TestOffTopicManyStories).
		r, err := ix.read(ctx, q.Q)
		if err != nil || len(r.cands) == 0 {
			return
		}
		right := false
		for _, g := range q.Answers {
			right = right || strings.Contains(a.Citations[0].Quote, g)
		}
		out = append(out, confCase{f: ix.confFeatures(r.question, r.cands), answerable: q.Answerable && right, topicOK: true, article: -1, story: q.Story})
	})
	return out
}

// naturalPickerGroups are the picker's candidates for the split's
// answerable questions that Ask reads sentence by sentence (not overview
// or meta), with a gold sentence among them; article -1, as above.
func naturalPickerGroups(t *testing.T, setPath, storiesDir, split string, opts Options) []fitGroup {
	t.Helper()
	ctx := context.Background()
	var out []fitGroup
	eachNatural(t, setPath, storiesDir, split, opts, func(ix *Index, q naturalQuestion, read string) {
		if !q.Answerable || q.Kind == "overview" || q.Kind == "meta" {
			return
		}
		r, err := ix.read(ctx, read)
		if err != nil {
			t.Fatal(err)
		}
		g := fitGroup{article: -1}
		anyGold := false
		for _, c := range r.cands {
			gold := false
			for _, ans := range q.Answers {
				gold = gold || strings.Contains(ix.sentenceText(c.sentence), ans)
			}
			anyGold = anyGold || gold
			g.cands = append(g.cands, fitCandidate{c.features, gold})
		}
		if anyGold {
			out = append(out, g)
		}
	})
	return out
}
