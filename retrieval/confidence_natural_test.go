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

// naturalConfidenceData are confidence cases from the fit half of the
// project's natural-question set (testdata/natural-questions.json), each
// question asked of its own story: a positive case when the first quote
// holds a gold answer, a negative one when the question is on the story's
// topic but unanswered, or answered from the wrong sentence. Off-topic
// questions are the decline rule's, not the confidence's. They carry
// article -1: always in the training folds, never held out, so the SQuAD
// 2.0 cross-validation still reports on articles it did not fit.
func naturalConfidenceData(t *testing.T, setPath, storiesDir string, opts Options) []confCase {
	t.Helper()
	raw, err := os.ReadFile(setPath)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Questions []struct {
			Story, Q, Kind, Split string
			Answerable            bool
			Answers               []string
		}
	}
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
	ctx := context.Background()
	indexes := map[string]*Index{}
	var out []confCase
	for _, q := range set.Questions {
		if q.Split != "fit" || q.Kind == "offtopic" {
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
			if ix, err = Build(ctx, stories, opts); err != nil {
				t.Fatal(err)
			}
			indexes[q.Story] = ix
		}
		a, err := ix.Ask(ctx, q.Q)
		if err != nil || a.Outcome == OutcomeNone || a.Confidence == 1 {
			continue // declined, or not read by the model (overview, meta)
		}
		r, err := ix.read(ctx, q.Q)
		if err != nil || len(r.cands) == 0 {
			continue
		}
		right := false
		for _, g := range q.Answers {
			right = right || strings.Contains(a.Citations[0].Quote, g)
		}
		out = append(out, confCase{f: ix.confFeatures(r.question, r.cands), answerable: q.Answerable && right, topicOK: true, article: -1})
	}
	return out
}
