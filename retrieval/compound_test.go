package retrieval

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitQuestion(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"who is sebastian gorka and what does he want", []string{"who is sebastian gorka", "what does sebastian gorka want"}},
		{"who is miller and what is his job", []string{"who is miller", "what is miller's job"}},
		{"when were the cartels designated? why?", []string{"when were the cartels designated", "why cartels designated"}},
		{"who favors strikes? who is against them?", []string{"who favors strikes", "who is against strikes?"}},
		// One question: the first part names nothing, or does not ask.
		{"who is for and who is against the strikes", []string{"who is for and who is against the strikes"}},
		{"Southern Californian communities are large, spread-out, and what other characteristic?", []string{"Southern Californian communities are large, spread-out, and what other characteristic?"}},
		{"who favors strikes?", []string{"who favors strikes?"}},
		{"what is the difference between miller and gorka", []string{"what is the difference between miller and gorka"}},
		// A first part about the story as a whole: "it" is the story, and
		// a bare "when" asks the front matter too.
		{"who wrote this and what is it about", []string{"who wrote this", "what is it about"}},
		{"tl;dr and who wrote it", []string{"tl;dr", "who wrote it"}},
		{"who published this and when", []string{"who published this and when"}},
		// More parts than one answer should carry.
		{"who is miller? who is gorka? who is sheinbaum? who is trump?", []string{"who is miller? who is gorka? who is sheinbaum? who is trump?"}},
	}
	for _, tt := range tests {
		if got := splitQuestion(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("splitQuestion(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// TestTwoQuestionsAtOnce: each part is answered from its own sentences,
// numbered in turn and quoted once; a part the story does not answer makes
// the whole answer hedged, and none answered declines it.
func TestTwoQuestionsAtOnce(t *testing.T) {
	ix := buildDefault(t, testOptions())
	ctx := context.Background()
	a, err := ix.Ask(ctx, "who is gorka and what does sheinbaum say")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome != OutcomeAnswer || len(a.Citations) < 2 || !strings.Contains(a.Citations[0].Quote, "Sebastian Gorka") || !strings.Contains(a.Citations[1].Quote, "Sheinbaum saying") {
		t.Errorf("gorka and sheinbaum: %+v", a)
	}
	if whole, _ := ix.answerOne(ctx, a.Question, a.Question, -1, time.Now()); whole.Outcome == OutcomeAnswer {
		t.Errorf("read as one question it is answered too: the case shows nothing")
	}
	a, err = ix.Ask(ctx, "When were the cartels designated, and who is Miller?")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome != OutcomeAnswer || len(a.Citations) < 2 || !strings.Contains(a.Citations[0].Quote, "designated") || !strings.Contains(a.Text, "Stephen Miller") {
		t.Errorf("two answered parts: %q", a.Text)
	}
	seen := map[string]bool{}
	for i, c := range a.Citations {
		if c.N != i+1 || seen[c.Quote] || !strings.Contains(a.Text, c.Quote+" ["+string(rune('0'+c.N))+"]") {
			t.Errorf("citation %d: %+v in %q", i, c, a.Text)
		}
		seen[c.Quote] = true
	}
	a, err = ix.Ask(ctx, "what is the capital of france and who is miller")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome != OutcomeClosest || !strings.HasPrefix(a.Text, ClosestIntro) || !strings.Contains(a.Text, "Miller") {
		t.Errorf("one part unanswered: %s %q", a.Outcome, a.Text)
	}
	a, err = ix.Ask(ctx, "what is the capital of france and who won the oscars")
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome != OutcomeNone || len(a.Citations) != 0 {
		t.Errorf("no part answered: %s %q", a.Outcome, a.Text)
	}
}

// TestStoryAndItsSource: "who published this and when" is answered from the
// front matter, publisher and year, and "who wrote this and what is it
// about" quotes the front matter and the overview, both confidently.
func TestStoryAndItsSource(t *testing.T) {
	ix := buildDefault(t, testOptions())
	a := mustAsk(t, ix, "who published this and when")
	if a.Outcome != OutcomeAnswer || len(a.Citations) != 1 || !strings.Contains(a.Citations[0].Quote, "Latin Times, 2025") {
		t.Errorf("who published this and when: %s %q", a.Outcome, a.Text)
	}
	a = mustAsk(t, ix, "who wrote this and what is it about")
	if a.Outcome != OutcomeAnswer || len(a.Citations) < 2 || !strings.Contains(a.Citations[0].Quote, "Latin Times") || !strings.Contains(a.Citations[1].Quote, "Stephen Miller hinted") {
		t.Errorf("who wrote this and what is it about: %s %q", a.Outcome, a.Text)
	}
}
