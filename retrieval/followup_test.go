package retrieval

import (
	"context"
	"strings"
	"testing"

	"storybot/knowledge"
)

// TestAskAfter: with several stories, a question that names none is read
// in the story the last answer quoted; one that names another story moves
// on to it; one the followed story does not touch is asked afresh; and an
// unknown story ID is no follow-up at all.
func TestAskAfter(t *testing.T) {
	ctx := context.Background()
	bees := &knowledge.Story{ID: "bees", Title: "Bees return to the valley", Publisher: "Valley News", Year: 2021, Hash: "bees",
		Body: "Bees returned to the valley in 2021 after three years of decline, beekeepers said on Monday.\n\nThe beekeeper Ada Crane counted 2,000 hives across the valley this spring.\n\nFarmers expect a larger apple harvest because of the bees."}
	bridge := &knowledge.Story{ID: "bridge", Title: "River bridge opens", Publisher: "Town Courier", Year: 2023, Hash: "bridge",
		Body: "The mayor opened the new river bridge on Monday, two years after the old one was closed.\n\nAbout 300 people came to walk across it.\n\nThe bridge cost 4 million dollars, paid by the town and the state."}
	ix, err := Build(ctx, append(knowledge.Default(), bees, bridge), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	after := func(q, id string) *Answer {
		t.Helper()
		a, err := ix.AskAfter(ctx, q, id)
		if err != nil {
			t.Fatalf("AskAfter(%q, %q): %v", q, id, err)
		}
		return a
	}
	first := func(a *Answer) string {
		if len(a.Citations) == 0 {
			return ""
		}
		return a.Citations[0].StoryID
	}

	// "Who published this" names no story: afresh, the bot lists what it
	// knows; after the bee story, it is the bee story's publisher.
	if a := mustAsk(t, ix, "who published this"); !strings.HasPrefix(a.Text, "I know 3 stories") {
		t.Errorf("asked afresh: %q, want the list of stories", a.Text)
	}
	if a := after("who published this", "bees"); a.Outcome != OutcomeAnswer || !strings.Contains(a.Text, "Valley News") {
		t.Errorf("after the bee story: %s %q, want its publisher", a.Outcome, a.Text)
	}
	// Monday is in both stories; after the bridge story it is the bridge's.
	if a := after("what happened on monday", "bridge"); first(a) != "bridge" {
		t.Errorf("after the bridge story: %q from %q, want the bridge story", a.Text, first(a))
	}
	if a := after("what happened on monday", "bees"); first(a) != "bees" {
		t.Errorf("after the bee story: %q from %q, want the bee story", a.Text, first(a))
	}
	// Naming another story moves on: "Sheinbaum" is a name only the
	// built-in story writes.
	if a := after("what did sheinbaum say", "bees"); first(a) != "latin-times-2025-cartel-strikes" || a.Outcome == OutcomeNone {
		t.Errorf("a question naming another story: %s %q from %q, want the cartel story", a.Outcome, a.Text, first(a))
	}
	// Off every topic: declined after a story as afresh.
	if a := after("how do i bake sourdough bread", "bees"); a.Outcome != OutcomeNone {
		t.Errorf("an off-topic follow-up: %s %q, want it declined", a.Outcome, a.Text)
	}
	// An unknown story is no follow-up.
	if a := after("who published this", "no-such-story"); !strings.HasPrefix(a.Text, "I know 3 stories") {
		t.Errorf("after an unknown story: %q, want the list of stories", a.Text)
	}
}
