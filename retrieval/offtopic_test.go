package retrieval

import (
	"context"
	"strings"
	"testing"

	"storybot/knowledge"
)

// TestOffTopicManyStories: in a knowledge base of several stories, a
// question whose rarest word no story holds, and whose best sentence the
// encoder finds unlike it, is declined though that sentence shares enough
// words to pass the decline threshold; so is a greeting. Questions the
// built-in story answers, one of them a paraphrase, are still answered.
func TestOffTopicManyStories(t *testing.T) {
	ctx := context.Background()
	stories := append(knowledge.Default(),
		story("robotics", "The European team won the robotics competition this year, with the silver medal going to Poland.\n\nThe Afghan team of six girls was praised for its courage."),
		story("coach", "\"Hey, what's up?\" the coach shouted to the players before the final.\n\nThe team lost the final by two points."))
	ix, err := Build(ctx, stories, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"who won the oscars this year", "hey whats up"} {
		r, err := ix.read(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		cands, _ := ix.pointedCandidates(r.question, r.cands)
		if len(cands) == 0 || onTopic(cands) < r.threshold {
			t.Fatalf("%q: the test wants a question the decline threshold lets through (candidates %d)", q, len(cands))
		}
		a, err := ix.Ask(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != OutcomeNone {
			t.Errorf("Ask(%q) = %s %q, want it declined", q, a.Outcome, a.Text)
		}
	}
	for q, want := range map[string]string{
		"who favors strikes?":                    "supports military strikes",
		"what position does stephen miller hold": "Deputy Chief of Staff",
	} {
		a, err := ix.Ask(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != OutcomeAnswer || len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, want) {
			t.Errorf("Ask(%q) = %s %+v, want an answer quoting %q", q, a.Outcome, a.Citations, want)
		}
	}
}

// TestAbsentShare: the share counts only the weight of terms no story holds.
func TestAbsentShare(t *testing.T) {
	ix, err := Build(context.Background(), []*knowledge.Story{story("bridge", "The mayor opened the new river bridge on Monday.")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.absentShare(ix.analyze("when did the mayor open the bridge")); got != 0 {
		t.Errorf("absentShare of a question the story covers = %.2f, want 0", got)
	}
	qi := ix.analyze("when did the mayor open the zeppelin")
	got := ix.absentShare(qi)
	if got <= 0 || got >= 1 {
		t.Errorf("absentShare with one of three terms absent = %.2f, want strictly between 0 and 1", got)
	}
	if all := ix.absentShare(ix.analyze("zeppelin quasar")); all != 1 {
		t.Errorf("absentShare with every term absent = %.2f, want 1", all)
	}
}

// TestRareTermHedged: with one story loaded, a question below the decline
// threshold that names what only a sentence or two of the story name is
// hedged with that sentence, not declined; a question naming nothing of
// the story still is. With a second story loaded the same question is
// declined: among many stories a rare term proves nothing.
func TestRareTermHedged(t *testing.T) {
	ctx := context.Background()
	const q = "which paper reported gorka leads the hard line"
	one := buildDefault(t, testOptions())
	wantBelowThreshold(t, one, q)
	a := mustAsk(t, one, q)
	if a.Outcome != OutcomeClosest || len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "New York Times") {
		t.Errorf("one story: Ask(%q) = %s %+v, want it hedged with the New York Times sentence", q, a.Outcome, a.Citations)
	}
	if a := mustAsk(t, one, "how do i bake sourdough bread"); a.Outcome != OutcomeNone {
		t.Errorf("one story: an off-topic question = %s %q, want it declined", a.Outcome, a.Text)
	}
	two, err := Build(ctx, append(knowledge.Default(), story("bridge", "The mayor opened the new river bridge on Monday.")), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a := mustAsk(t, two, q); a.Outcome != OutcomeNone {
		t.Errorf("two stories: Ask(%q) = %s %q, want it declined", q, a.Outcome, a.Text)
	}
}

// TestTitleTermHedged: with one story loaded, a question below the decline
// threshold that holds a word of the story's title, or a synonym of one
// ("bomb" for "strikes"), is on its topic and hedged with the closest
// sentence, not declined; "what could strikes put at risk" quotes the
// sentence on what an intervention could shut down.
func TestTitleTermHedged(t *testing.T) {
	one := buildDefault(t, testOptions())
	for q, want := range map[string]string{
		"what could strikes put at risk": "shut down cooperation",
		"why are they divided":           "division between White House officials",
		"is trump going to bomb mexico":  "",
		"who wants to work with mexico":  "",
	} {
		wantBelowThreshold(t, one, q)
		a := mustAsk(t, one, q)
		if a.Outcome != OutcomeClosest || len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, want) {
			t.Errorf("Ask(%q) = %s %+v, want it hedged, quoting %q first", q, a.Outcome, a.Citations, want)
		}
	}
	for _, q := range []string{"whats the capital of france", "how many ounces in a cup", "whats the plot of the hobbit"} {
		if a := mustAsk(t, one, q); a.Outcome != OutcomeNone {
			t.Errorf("an off-topic question %q = %s %q, want it declined", q, a.Outcome, a.Text)
		}
	}
	two, err := Build(context.Background(), append(knowledge.Default(), story("bridge", "The mayor opened the new river bridge on Monday.")), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a := mustAsk(t, two, "why are they divided"); a.Outcome != OutcomeNone {
		t.Errorf("two stories: %s %q, want it declined: the title is one story's of two", a.Outcome, a.Text)
	}
}

// wantBelowThreshold stops the test unless q reads below ix's decline
// threshold: what a hedge test's case must be to show anything.
func wantBelowThreshold(t *testing.T, ix *Index, q string) {
	t.Helper()
	r, err := ix.read(context.Background(), ix.normalizeQuestion(q))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.cands) == 0 || onTopic(r.cands) >= r.threshold {
		t.Fatalf("%q: the test wants a question below the decline threshold (candidates %d)", q, len(r.cands))
	}
}

// TestPassingMention: among several stories, a question whose words the
// story it points to holds once each, one of them in the best sentence,
// is declined: the story mentions what the question asks about in
// passing. A question about a name or a year the story writes once, or
// about a word it uses again, is still answered.
func TestPassingMention(t *testing.T) {
	ctx := context.Background()
	stories := append(knowledge.Default(),
		story("candidate", "Hill said his ties to the Republican party date back to 1979, when he volunteered for Reagan.\n\n"+
			"The security firm Secunia.com said the browser has 277 known flaws.\n\n"+
			"Hill won the party's straw poll in 2002. Hill said the straw poll showed his campaign was growing."),
		story("robotics", "The European team won the robotics competition this year, with the silver medal going to Poland."),
		story("community", "The community will include every state in South America except French Guiana, itself a territory of France.\n\n"+
			"Last week, at least 76 people were killed when the Al-Ghaza Hotel near the mosque collapsed."))
	ix, err := Build(ctx, stories, Options{Embedder: fitEmbedder, Encoder: fitEncoder})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"how to tie a tie":             "",
		"who is secunia":               "Secunia.com",
		"what did hill win in 2002":    "straw poll in 2002",
		"what did the straw poll show": "straw poll showed",
		"who favors strikes?":          "supports military strikes",
		"who won the robotics contest": "European team",
		"whats the capital of france":  "",
		"who is french guiana":         "French Guiana",
		"how many died at the hotel":   "Al-Ghaza Hotel",
	} {
		a, err := ix.Ask(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want == "" && a.Outcome != OutcomeNone:
			t.Errorf("Ask(%q) = %s %q, want it declined", q, a.Outcome, a.Text)
		case want != "" && (a.Outcome == OutcomeNone || !strings.Contains(a.Citations[0].Quote, want)):
			t.Errorf("Ask(%q) = %s %q, want it to quote %q", q, a.Outcome, a.Text, want)
		}
	}
	// After a question on the built-in story, a question that leaves it
	// for another story's passing mention is declined as afresh.
	for _, q := range []string{"whats the capital of france", "how to tie a tie"} {
		a, err := ix.AskAfter(ctx, q, "latin-times-2025-cartel-strikes")
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != OutcomeNone {
			t.Errorf("AskAfter(%q) = %s %q, want it declined", q, a.Outcome, a.Text)
		}
	}
}
