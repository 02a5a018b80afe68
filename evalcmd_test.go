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
