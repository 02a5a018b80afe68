package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"storybot/knowledge"
	"storybot/retrieval"
)

// TestStoryQuestions asks the project's own held-out questions about the
// built-in story (testdata/story-questions.json, never tuned on) with the
// default options. Every unanswerable question must be declined, every
// answerable one answered, and mostly from the right paragraph.
func TestStoryQuestions(t *testing.T) {
	raw, err := os.ReadFile("testdata/story-questions.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Questions []struct {
			Q          string `json:"q"`
			Paragraphs []int  `json:"paragraphs"`
		} `json:"questions"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.Build(context.Background(), knowledge.Default(), defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var answerable, right, unanswerable, declined int
	for _, q := range set.Questions {
		a, err := ix.Ask(context.Background(), q.Q)
		if err != nil {
			t.Fatalf("%q: %v", q.Q, err)
		}
		if len(q.Paragraphs) == 0 {
			unanswerable++
			if !a.Found {
				declined++
			} else {
				t.Logf("answered what the story does not say: %q → %q", q.Q, a.Citations[0].Quote)
			}
			continue
		}
		answerable++
		if a.Found && slices.Contains(q.Paragraphs, a.Citations[0].Paragraph) {
			right++
		} else if a.Found {
			t.Logf("wrong paragraph: %q → paragraph %d, want %v", q.Q, a.Citations[0].Paragraph, q.Paragraphs)
		} else {
			t.Errorf("declined an answerable question: %q", q.Q)
		}
	}
	t.Logf("answerable: %d of %d right; unanswerable: %d of %d declined", right, answerable, declined, unanswerable)
	if declined < unanswerable {
		t.Errorf("%d of %d questions the story does not answer were answered", unanswerable-declined, unanswerable)
	}
	if right*100 < 80*answerable {
		t.Errorf("%d of %d answerable questions answered from the right paragraph, want at least 80%%", right, answerable)
	}
}
