package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"storybot/retrieval"
)

func noEnv(string) string { return "" }

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut, noEnv)
	return out.String(), errOut.String(), err
}

func askJSON(t *testing.T, args ...string) retrieval.Answer {
	t.Helper()
	out, _, err := runCLI(t, append([]string{"ask", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("ask %v: %v", args, err)
	}
	var a retrieval.Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("ask --json printed invalid JSON: %v\n%s", err, out)
	}
	return a
}

func TestAskWhoFavorsStrikes(t *testing.T) {
	a := askJSON(t, "who favors strikes?")
	if !a.Found {
		t.Fatalf("declined: %+v", a)
	}
	paragraphs := map[int]bool{}
	for _, c := range a.Citations {
		paragraphs[c.Paragraph] = true
	}
	if !paragraphs[6] || !paragraphs[7] {
		t.Errorf("cited paragraphs %v, want 6 and 7", paragraphs)
	}
	if !strings.Contains(a.Text, "a faction supports military strikes") || !strings.Contains(a.Text, "Sebastian Gorka") {
		t.Errorf("answer does not say a faction supports strikes, led by Gorka: %s", a.Text)
	}
}

func TestAskPresidentOfMexico(t *testing.T) {
	a := askJSON(t, "Who is the president of Mexico?")
	if !a.Found || a.Citations[0].Paragraph != 4 || !strings.Contains(a.Citations[0].Quote, "Claudia Sheinbaum") {
		t.Errorf("got %+v, want Claudia Sheinbaum from paragraph 4", a)
	}
}

func TestAskCapitalOfFrance(t *testing.T) {
	out, _, err := runCLI(t, "ask", "What is the capital of France?")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "The story does not say.") {
		t.Errorf("got %q, want the story does not say", out)
	}
}

func TestAskTextOutput(t *testing.T) {
	out, _, err := runCLI(t, "ask", "Who is the president of Mexico?")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[1]", "Sources:", "Latin Times, 2025", "paragraph 4, sentence 1", "Claudia Sheinbaum"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestAskFlagsAfterTheQuestion(t *testing.T) {
	out, _, err := runCLI(t, "ask", "Who is the president of Mexico?", "--json")
	if err != nil || !json.Valid([]byte(out)) {
		t.Errorf("--json after the question: err %v, output %q", err, out)
	}
}

func TestAskJSONIsStable(t *testing.T) {
	out, _, err := runCLI(t, "ask", "--json", "Who is the president of Mexico?")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"question", "found", "text", "citations", "score", "index"} {
		if _, ok := m[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	c := m["citations"].([]any)[0].(map[string]any)
	for _, key := range []string{"n", "story_id", "title", "publisher", "paragraph", "sentence", "quote", "start", "end", "chunk_id"} {
		if _, ok := c[key]; !ok {
			t.Errorf("citation JSON lacks %q", key)
		}
	}
}

func TestSources(t *testing.T) {
	out, _, err := runCLI(t, "sources")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Latin Times") || !strings.Contains(out, "chunks") {
		t.Errorf("sources output: %s", out)
	}
}

func TestKnowledgeFolderReplacesTheDefault(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bees.md"), []byte("---\ntitle: Bees\npublisher: Hive News\n---\nThe queen bee lays up to 2,000 eggs a day. Worker bees gather nectar.\n"), 0o644)
	a := askJSON(t, "--knowledge", dir, "How many eggs does the queen bee lay?")
	if !a.Found || a.Citations[0].Title != "Bees" || !strings.Contains(a.Citations[0].Quote, "2,000") {
		t.Errorf("got %+v", a)
	}
	out, _, _ := runCLI(t, "ask", "--knowledge", dir, "Who favors military strikes?")
	if !strings.HasPrefix(out, "The story does not say.") {
		t.Errorf("the default story still answered: %s", out)
	}
}

// Bad input gets a one-line error and a non-zero exit, never a panic.
func TestBadInput(t *testing.T) {
	notUTF8 := t.TempDir()
	os.WriteFile(filepath.Join(notUTF8, "latin1.txt"), []byte("caf\xe9"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"no question", []string{"ask"}, "needs a question"},
		{"empty question", []string{"ask", "   "}, "the question is empty"},
		{"long question", []string{"ask", strings.Repeat("x", 1001)}, "longer than 1000"},
		{"missing folder", []string{"ask", "--knowledge", "/nonexistent/folder", "who?"}, "knowledge folder"},
		{"empty folder", []string{"ask", "--knowledge", t.TempDir(), "who?"}, "no .txt or .md stories"},
		{"not utf-8", []string{"ask", "--knowledge", notUTF8, "who?"}, "latin1.txt: not UTF-8 text"},
		{"bad flag", []string{"ask", "--nope", "who?"}, "flag provided but not defined"},
		{"sources with argument", []string{"sources", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") && tt.name != "not utf-8" {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

func TestUsageErrorsAreMarked(t *testing.T) {
	_, _, err := runCLI(t, "ask")
	if !errors.Is(err, errUsage) {
		t.Errorf("missing question is not a usage error: %v", err)
	}
	_, _, err = runCLI(t, "ask", "--knowledge", "/nonexistent", "who?")
	if errors.Is(err, errUsage) {
		t.Errorf("a missing folder is not a usage error: %v", err)
	}
}
