package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// squadFile writes a two-article SQuAD-format file.
func squadFile(t *testing.T) string {
	t.Helper()
	article := func(title, context, question, answer string) map[string]any {
		return map[string]any{"title": title, "paragraphs": []any{map[string]any{
			"context": context,
			"qas": []any{map[string]any{"id": title + "-1", "question": question,
				"answers": []any{map[string]any{"text": answer, "answer_start": strings.Index(context, answer)}}}},
		}}}
	}
	b, err := json.Marshal(map[string]any{"data": []any{
		article("Lighthouse", "The lighthouse was built in 1872 on the northern cape. Its keeper, Ada Crane, lit the lamp every night for forty years.", "Who lit the lamp every night?", "Ada Crane"),
		article("Orchard", "The orchard grows twelve kinds of apple. Frost in April destroyed half the blossom in 2019, and the harvest fell by a third.", "What destroyed the blossom in 2019?", "Frost"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "set.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalReportsAndShowsProgress(t *testing.T) {
	out, errOut, err := runCLI(t, "eval", "--abstain-test", squadFile(t))
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"articles 2", "questions 2", "answer-sentence@1 100.0", "answered 100.0%", "off-article declined 100.0%"} {
		if !strings.Contains(words, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Not a terminal: one line per bar step; indexing first, then asking.
	iIndex, iEval := strings.Index(errOut, "index: 2/2 (100%)"), strings.Index(errOut, "eval: 4/4 (100%)")
	if iIndex < 0 || iEval < iIndex {
		t.Errorf("progress %q, want indexing to 2/2 then asking to 4/4", errOut)
	}
	var rep struct {
		AnswerSentence1 float64 `json:"answer_sentence_at_1"`
	}
	out, _, err = runCLI(t, "eval", "--json", "--encoder", "none", squadFile(t))
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.AnswerSentence1 != 100 {
		t.Errorf("--json --encoder none: %v, %q", err, out)
	}
}

func TestEvalRejectsBadFlagsAndData(t *testing.T) {
	if _, _, err := runCLI(t, "eval", "--encoder", "bert", squadFile(t)); err == nil || !strings.Contains(err.Error(), "--encoder must be use or none") {
		t.Errorf("bad --encoder: %v", err)
	}
	p := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(p, []byte(`{"data": [{"title": "T", "paragraphs": [{"context": " ", "qas": []}]}]}`), 0o644)
	if _, _, err := runCLI(t, "eval", p); err == nil || !strings.Contains(err.Error(), `article "T", paragraph 0: field "context"`) {
		t.Errorf("empty context: %v", err)
	}
}

func writeSet(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalReadsSquad2AndWritesEachQuestion(t *testing.T) {
	ctx := "The lighthouse was built in 1872 on the northern cape. Its keeper, Ada Crane, lit the lamp every night for forty years."
	set := map[string]any{"version": "v2.0", "data": []any{map[string]any{"title": "Lighthouse", "paragraphs": []any{map[string]any{
		"context": ctx,
		"qas": []any{
			map[string]any{"id": "a1", "question": "Who lit the lamp every night?", "answers": []any{map[string]any{"text": "Ada Crane", "answer_start": strings.Index(ctx, "Ada Crane")}}, "is_impossible": false},
			map[string]any{"id": "u1", "question": "What is the capital of France?", "answers": []any{}, "is_impossible": true,
				"plausible_answers": []any{map[string]any{"text": "northern cape", "answer_start": strings.Index(ctx, "northern cape")}}},
		},
	}}}}}
	b, _ := json.Marshal(set)
	perQ := filepath.Join(t.TempDir(), "per.jsonl")
	out, _, err := runCLI(t, "eval", "--json", "--encoder", "none", "--per-question", perQ, writeSet(t, "v2.json", string(b)))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Answerable           int      `json:"answerable"`
		Unanswerable         int      `json:"unanswerable"`
		AnswerableAnswered   float64  `json:"answerable_answered"`
		UnanswerableDeclined *float64 `json:"unanswerable_declined"`
		UnanswerableHedged   *float64 `json:"unanswerable_hedged"`
		AUC                  *float64 `json:"auc"`
		Recall1              float64  `json:"recall_at_1"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Answerable != 1 || rep.Unanswerable != 1 || rep.AnswerableAnswered != 100 || rep.Recall1 != 100 ||
		rep.UnanswerableDeclined == nil || *rep.UnanswerableDeclined != 100 || rep.AUC == nil || *rep.AUC != 1 {
		t.Errorf("report %s", out)
	}
	raw, err := os.ReadFile(perQ)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d per-question lines, want 2: %s", len(lines), raw)
	}
	var r struct {
		ID, Outcome, Quote string
		Answerable         bool
		HoldsGold          bool `json:"holds_gold"`
	}
	if json.Unmarshal([]byte(lines[0]), &r) != nil || r.ID != "a1" || r.Outcome != "answer" || !r.HoldsGold || !strings.Contains(r.Quote, "Ada Crane") {
		t.Errorf("first line %s", lines[0])
	}
	if json.Unmarshal([]byte(lines[1]), &r) != nil || r.ID != "u1" || r.Outcome != "none" || r.Answerable {
		t.Errorf("second line %s", lines[1])
	}
}

func TestEvalReadsNaturalSetsInEveryMode(t *testing.T) {
	stories := t.TempDir()
	os.WriteFile(filepath.Join(stories, "bees.md"), []byte("---\ntitle: Bees return\npublisher: Wikinews\nyear: 2021\n---\n\nBees returned to the valley in 2021 after a wet spring.\n\nThe beekeeper, Ada Crane, counted 2,000 hives.\n"), 0o644)
	set := `{"about": "test", "questions": [
	  {"id": "n1", "story": "bees.md", "q": "how many hives were counted", "kind": "factoid", "answerable": true, "answers": ["2,000 hives"], "split": "test"},
	  {"id": "n2", "story": "bees.md", "q": "what is the capital of france", "kind": "offtopic", "answerable": false, "answers": [], "split": "test"},
	  {"id": "n3", "story": "default", "q": "who leads the most radical approach", "kind": "factoid", "answerable": true, "answers": ["Sebastian Gorka"], "split": "fit"}
	]}`
	out, _, err := runCLI(t, "eval", "--stories", stories, "--encoder", "none", "--json", writeSet(t, "natural.json", set))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Stories int `json:"stories"`
		Parts   map[string]struct {
			Questions        int                        `json:"questions"`
			AnswerSentence1  float64                    `json:"answer_sentence_at_1"`
			OffTopicDeclined *float64                   `json:"off_topic_declined"`
			ByKind           map[string]json.RawMessage `json:"by_kind"`
		} `json:"parts"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Stories != 2 || len(rep.Parts) != 8 {
		t.Fatalf("report %s", out)
	}
	for _, mode := range []string{"story", "folder", "after", "switch"} {
		test, fit := rep.Parts[mode+"/test"], rep.Parts[mode+"/fit"]
		if test.Questions != 2 || test.AnswerSentence1 != 100 || test.OffTopicDeclined == nil || *test.OffTopicDeclined != 100 || test.ByKind["offtopic"] == nil {
			t.Errorf("%s/test: %+v", mode, test)
		}
		if fit.Questions != 1 || fit.AnswerSentence1 != 100 {
			t.Errorf("%s/fit: %+v", mode, fit)
		}
	}
	bad := `{"about": "", "questions": [{"id": "n1", "story": "nope.md", "q": "why", "kind": "reason", "answerable": true, "answers": ["x"], "split": "test"}]}`
	if _, _, err := runCLI(t, "eval", "--stories", stories, writeSet(t, "bad.json", bad)); err == nil || !strings.Contains(err.Error(), `story "nope.md" is not in`) {
		t.Errorf("a story not in the folder: %v", err)
	}
	bad = `{"about": "", "questions": [{"id": "n1", "story": "bees.md", "q": "why", "kind": "reason", "answerable": false, "answers": [], "split": "test"}]}`
	if _, _, err := runCLI(t, "eval", "--stories", stories, writeSet(t, "bad.json", bad)); err == nil || !strings.Contains(err.Error(), `kind "reason" with answerable false`) {
		t.Errorf("a kind that contradicts answerable: %v", err)
	}
}

func TestEvalMissingSetNamesItAndTheVariable(t *testing.T) {
	_, _, err := runCLI(t, "eval", "no-such-dir/set.json")
	if err == nil || !strings.Contains(err.Error(), "no-such-dir/set.json") || !strings.Contains(err.Error(), "STORYBOT_EVAL_DATA") {
		t.Errorf("missing set: %v", err)
	}
}
