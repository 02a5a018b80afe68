package retrieval

import (
	"context"
	"strings"
	"testing"

	"storybot/knowledge"
)

// News says "cost" where people ask "worth", "rival" where they ask
// "competitor": the sentence covers the question through its news class,
// though WordNet does not link the two words.
func TestNewsClassesCoverParaphrases(t *testing.T) {
	for q, sentence := range map[string]string{
		"how much is the deal worth":          "The deal is to cost $11.5bn and will create the third-largest retailer.",
		"who is ie's main competitor":         "Mozilla Firefox, IE's main rival, has been increasing its market share.",
		"what were the odds of a strike":      "It was considered to have a 1 in 37 chance of a strike.",
		"why is miller being careful":         "Miller has been taking a more cautious approach.",
		"who favors military strikes":         "While a faction supports military strikes, others encourage collaboration.",
		"who wants to bomb the cartels":       "Some officials want military strikes on the cartels.",
		"was there a response from the south": "The South retaliated by firing dozens of rounds of artillery.",
	} {
		ix := buildStory(t, "s", sentence, Options{})
		qi := ix.analyze(q)
		full := 0.0
		for i := range qi.terms {
			full += qi.weights[i] * b2f(ix.termCredit(qi, i, 0) >= synonymCredit)
		}
		if full != qi.total {
			t.Errorf("%q: not every term of %v is held by %q, in its words or its news class", q, qi.terms, sentence)
		}
	}
}

// "Who backs hitting the cartels?" and "who wants to bomb the cartels?"
// share no word with "a faction supports military strikes": the news
// classes link the verbs, "wants" is the stance frame, and a sentence
// stating a position is what a "who backs" question looks for, before the
// name beside it.
func TestWhoBacksParaphrases(t *testing.T) {
	ix := buildDefault(t, testOptions())
	for _, q := range []string{"who backs hitting the cartels", "who wants to bomb the cartels"} {
		a := mustAsk(t, ix, q)
		if a.Outcome != OutcomeAnswer || len(a.Citations) < 2 ||
			!strings.Contains(a.Citations[0].Quote, "faction supports military strikes") || !strings.Contains(a.Citations[1].Quote, "Sebastian Gorka") {
			t.Errorf("%q: %s %q, want the faction's sentence, then Gorka's", q, a.Outcome, a.Text)
		}
	}
}

// With other stories loaded, "who backs hitting the cartels" still comes
// from the cartel story: a film's "come-back" and "hit movie" hold the
// question's words, common across the stories, the cartel story their
// news classes and its rare word, and within it
// the question is weighed as if it were the only story, where "cartels"
// is everywhere and need not be repeated.
func TestWhoBacksAmongStories(t *testing.T) {
	decoys := []*knowledge.Story{
		story("film", "Noise is a come-back attempt for Michael Keaton, who hasn't had a hit movie since 1992's Batman Returns.\n\nThe film opens on Friday."),
		story("storm", "The storm hit the coast on Monday.\n\nResidents came back after a week."),
		story("match", "The striker hit the post twice.\n\nThe home side fought back to draw."),
	}
	ix, err := Build(context.Background(), append(knowledge.Default(), decoys...), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	a := mustAsk(t, ix, "who backs hitting the cartels")
	if a.Outcome != OutcomeAnswer || len(a.Citations) == 0 || !strings.Contains(a.Citations[0].Quote, "faction supports military strikes") {
		t.Errorf("%s %q, want the faction's sentence", a.Outcome, a.Text)
	}
}
