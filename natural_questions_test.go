package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// naturalQuestion is one entry of testdata/natural-questions.json, the
// project's own Discord-style question set (see testdata/natural-questions.md).
type naturalQuestion struct {
	ID         string   `json:"id"`
	Story      string   `json:"story"`
	Q          string   `json:"q"`
	Kind       string   `json:"kind"`
	Answerable bool     `json:"answerable"`
	Answers    []string `json:"answers"`
	Split      string   `json:"split"`
}

var naturalKinds = map[string]bool{
	"overview": true, "stance": true, "role": true, "yesno": true, "reason": true,
	"meta": true, "factoid": true, "unanswerable": true, "offtopic": true,
}

// naturalStoriesDir is where the Wikinews stories live: not ours, so never
// in the repo. STORYBOT_EVAL_DATA overrides ../shared/eval.
func naturalStoriesDir() string {
	if d := os.Getenv("STORYBOT_EVAL_DATA"); d != "" {
		return filepath.Join(d, "wikinews", "stories")
	}
	return filepath.Join("..", "shared", "eval", "wikinews", "stories")
}

var (
	naturalFrontMatter = regexp.MustCompile(`(?s)\A---\n.*?\n---\n`)
	naturalID          = regexp.MustCompile(`^n\d{3,}$`)
)

// TestNaturalQuestions checks the contract of the natural-question set that
// the eval reads: well-formed entries, the required mix, and answer strings
// that really occur in their story, so that a typo in the set cannot pass
// for a miss by the bot.
func TestNaturalQuestions(t *testing.T) {
	raw, err := os.ReadFile("testdata/natural-questions.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		About     string            `json:"about"`
		Questions []naturalQuestion `json:"questions"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&set); err != nil {
		t.Fatalf("decode testdata/natural-questions.json: %v", err)
	}
	if set.About == "" {
		t.Error(`"about" is empty`)
	}

	ids := map[string]bool{}
	texts := map[string]bool{}
	type splitCount struct{ fit, test int }
	perStory := map[string]*splitCount{}
	perKind := map[string]*splitCount{}
	unanswerable := 0
	for _, q := range set.Questions {
		if !naturalID.MatchString(q.ID) {
			t.Errorf("%q: id should look like n001", q.ID)
		}
		if ids[q.ID] {
			t.Errorf("%s: duplicate id", q.ID)
		}
		ids[q.ID] = true
		if strings.TrimSpace(q.Q) == "" || texts[q.Story+"\x00"+q.Q] {
			t.Errorf("%s: empty or repeated question %q", q.ID, q.Q)
		}
		texts[q.Story+"\x00"+q.Q] = true
		if !naturalKinds[q.Kind] {
			t.Errorf("%s: unknown kind %q", q.ID, q.Kind)
		}
		wantAnswerable := q.Kind != "unanswerable" && q.Kind != "offtopic"
		if q.Answerable != wantAnswerable {
			t.Errorf("%s: kind %s with answerable %v", q.ID, q.Kind, q.Answerable)
		}
		if q.Answerable && len(q.Answers) == 0 {
			t.Errorf("%s: answerable but no answers", q.ID)
		}
		if !q.Answerable && len(q.Answers) != 0 {
			t.Errorf("%s: not answerable but has answers %q", q.ID, q.Answers)
		}
		if q.Story != "default" && !strings.HasSuffix(q.Story, ".md") {
			t.Errorf("%s: story %q is neither \"default\" nor a story file name", q.ID, q.Story)
		}
		if perStory[q.Story] == nil {
			perStory[q.Story] = &splitCount{}
		}
		if perKind[q.Kind] == nil {
			perKind[q.Kind] = &splitCount{}
		}
		switch q.Split {
		case "fit":
			perStory[q.Story].fit++
			perKind[q.Kind].fit++
		case "test":
			perStory[q.Story].test++
			perKind[q.Kind].test++
		default:
			t.Errorf("%s: split %q, want fit or test", q.ID, q.Split)
		}
		if q.Kind == "unanswerable" {
			unanswerable++
		}
	}

	total := len(set.Questions)
	if total < 240 {
		t.Errorf("%d questions, want at least 240", total)
	}
	if c := perStory["default"]; c == nil || c.fit+c.test < 40 {
		t.Errorf("want at least 40 questions on the built-in story")
	}
	if wikinews := len(perStory) - 1; wikinews < 12 {
		t.Errorf("%d Wikinews stories, want at least 12", wikinews)
	}
	if unanswerable*4 < total {
		t.Errorf("%d of %d questions unanswerable, want at least 25%%", unanswerable, total)
	}
	for story, c := range perStory {
		if naturalAbs(c.fit-c.test) > 1 {
			t.Errorf("%s: %d fit against %d test, want halves", story, c.fit, c.test)
		}
	}
	for kind, c := range perKind {
		if d := naturalAbs(c.fit - c.test); d > max(2, (c.fit+c.test)/4) {
			t.Errorf("kind %s: %d fit against %d test, want about halves", kind, c.fit, c.test)
		}
	}
	for kind := range naturalKinds {
		if perKind[kind] == nil {
			t.Errorf("no question of kind %s", kind)
		}
	}

	t.Logf("%d questions over %d stories, %d unanswerable (%.0f%%)",
		total, len(perStory), unanswerable, 100*float64(unanswerable)/float64(total))

	// Every answer string must be in its story: in the body (below the front
	// matter) for content questions, anywhere in the file for meta questions,
	// whose answers are the publisher or year. The built-in story is always
	// checked; the Wikinews ones only when their folder is there.
	dir := naturalStoriesDir()
	_, err = os.Stat(dir)
	haveWikinews := !errors.Is(err, fs.ErrNotExist)
	files := map[string]string{}
	for _, q := range set.Questions {
		if !q.Answerable || (q.Story != "default" && !haveWikinews) {
			continue
		}
		text, ok := files[q.Story]
		if !ok {
			path := filepath.Join(dir, q.Story)
			if q.Story == "default" {
				path = filepath.Join("knowledge", "default", "cartel-strikes.txt")
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: %v", q.ID, err)
				continue
			}
			text = string(b)
			files[q.Story] = text
		}
		where := text
		if q.Kind != "meta" {
			where = text[len(naturalFrontMatter.FindString(text)):]
		}
		for _, a := range q.Answers {
			if strings.TrimSpace(a) == "" || strings.Contains(a, "\n") {
				t.Errorf("%s: answer %q is empty or spans paragraphs", q.ID, a)
			} else if !strings.Contains(where, a) {
				t.Errorf("%s (%s, %q): answer %q is not in the story", q.ID, q.Story, q.Q, a)
			}
		}
	}
	if !haveWikinews {
		t.Skipf("answers on Wikinews stories not checked: %s is missing (set STORYBOT_EVAL_DATA to the folder holding wikinews/stories)", dir)
	}
}

func naturalAbs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
