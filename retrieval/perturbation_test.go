package retrieval

import (
	"context"
	"strings"
	"testing"

	"storybot/knowledge"
)

// TestAntonymInflected: WordNet opposes base forms ("low", "high"); a
// question that says "lower" where its sentence says "higher" is marked,
// and the same question with the sentence's word is not.
func TestAntonymInflected(t *testing.T) {
	ctx := context.Background()
	body := "For most of human history higher material living standards led to better health and longer lives.\n\nThe city council met on Monday."
	ix, err := Build(ctx, []*knowledge.Story{story("living", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]float64{
		"what did lower material living standards lead to":  1,
		"what did higher material living standards lead to": 0,
	} {
		r, err := ix.read(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.cands) == 0 {
			t.Fatalf("%q: no candidates", q)
		}
		if got := ix.confFeatures(r.question, r.cands)[cAntonym]; got != want {
			t.Errorf("%q against %q: antonym feature %v, want %v", q, ix.sentenceText(r.cands[0].sentence), got, want)
		}
	}
}

// TestPerturbationMarks: the other edits SQuAD 2.0's writers make to a
// sentence's own words, each marked against the sentence and left
// unmarked when the question keeps the sentence's word.
func TestPerturbationMarks(t *testing.T) {
	ctx := context.Background()
	body := "The conservation of momentum is usually considered more fundamental than the concept of a force.\n\n" +
		"William invaded Scotland in the 11th century, riding as far as Abernethy.\n\n" +
		"Galileo was instrumental in describing the characteristics of falling objects.\n\n" +
		"In an area of science where our understanding is rapidly changing, this has been raised as a shortcoming.\n\n" +
		"Newton realized that since all celestial bodies followed the same laws of motion, his law of gravity had to be universal.\n\n" +
		"Newton's First Law of Motion states that objects continue to move in a state of constant velocity.\n\n" +
		"Roughly contemporaneous was the founding of the Muslim Brotherhood in Ismailiyah in 1928.\n\n" +
		"Inequality in wealth is negatively correlated with the duration of economic growth spells.\n\n" +
		"Professional surfers Rob Machado, Tim Curran and Bobby Martinez live in southern California.\n\n" +
		"The Rhine-Meuse Delta is shaped not only by the sedimentation of the rivers, but also by tidal currents.\n\n" +
		"The old harbour was not dredged by the city after the war.\n\n" +
		"The quick defeat of the Arab troops during the Six-Day War was a pivotal event.\n\n" +
		"Amongst these are 5 University of California campuses and 12 California State University campuses.\n\n" +
		"The city council met on Monday."
	ix, err := Build(ctx, []*knowledge.Story{story("physics", body)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q       string
		feature int
		want    float64
	}{
		{"what is considered less fundamental than the concept of a force", cAntonym, 1},
		{"what is considered more fundamental than the concept of a force", cAntonym, 0},
		{"who invaded Scotland in the 10th century", cMissingNumber, 1},
		{"who invaded Scotland in the 11th century", cMissingNumber, 0},
		{"Newton was instrumental in describing the characteristics of falling what?", cMissingName, 1},
		{"Galileo was instrumental in describing the characteristics of falling what?", cMissingName, 0},
		// An opposite through a synonym: "slowly" opposes "quickly".
		{"in what area of science is our understanding slowly changing", cAntonym, 1},
		{"in what area of science is our understanding rapidly changing", cAntonym, 0},
		// A quantifier turned around: "only some" against "all".
		{"who realized that only some celestial bodies followed the same laws of motion", cAntonym, 1},
		{"who realized that all celestial bodies followed the same laws of motion", cAntonym, 0},
		// Another place in a series.
		{"what does Newton's Second Law of Motion state", cAntonym, 1},
		{"what does Newton's First Law of Motion state", cAntonym, 0},
		// "Non-" is a word of its own to words().
		{"when was the non-Muslim Brotherhood founded", cNegation, 1},
		{"when was the Muslim Brotherhood founded", cNegation, 0},
		// WordNet opposes the adjectives, not the adverbs.
		{"what is wealth inequality positively correlated with", cAntonym, 1},
		{"what is wealth inequality negatively correlated with", cAntonym, 0},
		// For a yes/no question the opposite is the answer, not a mismatch.
		{"is our understanding of science slowly changing", cAntonym, 0},
		// … and so is another number or year: "was she captain in 2005" is
		// decided by "No, I captained in 2010."
		{"did William invade Scotland in the 10th century", cMissingNumber, 0},
		{"did Galileo describe falling objects in 1590", cMissingNumber, 1},
		// "Not only" affirms; "not" alone negates.
		{"what was not shaped by the sedimentation of the rivers", cNegation, 1},
		{"what was shaped by the sedimentation of the rivers", cNegation, 0},
		{"what was not dredged by the city after the war", cNegation, 0},
		// Another count in words.
		{"what was the defeat of the Arab troops during the Seven-Day War", cAntonym, 1},
		{"what was the defeat of the Arab troops during the Six-Day War", cAntonym, 0},
		// A name made of the sentence's words in another order, said by
		// no sentence; the name as the story says it is not marked, nor
		// is a list the question gives in its own order.
		{"Who are Rob Curran and Tim Machado?", cScrambled, 1},
		{"Who are Rob Machado and Tim Curran?", cScrambled, 0},
		{"What are the 5 California University campuses?", cScrambled, 1},
		{"What are the 5 University of California campuses?", cScrambled, 0},
		{"Where do Bobby Martinez, Rob Machado and Tim Curran live?", cScrambled, 0},
		{"where do rob curran and tim machado live", cScrambled, 0},
	} {
		r, err := ix.read(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.cands) == 0 {
			t.Fatalf("%q: no candidates", c.q)
		}
		if got := ix.confFeatures(r.question, r.cands)[c.feature]; got != c.want {
			t.Errorf("%q against %q: %s %v, want %v", c.q, ix.sentenceText(r.cands[0].sentence), confNames[c.feature], got, c.want)
		}
	}
}

// TestQuestionNamesOpener: a question's first word is a name only when it
// is not one of the words questions open with.
func TestQuestionNamesOpener(t *testing.T) {
	for q, want := range map[string]string{
		"Newton described what?":              "newton",
		"Name the physicist who described it": "",
		"What did Newton describe?":           "newton",
		"According to Galileo, what falls?":   "galileo",
	} {
		got := strings.Join(questionNames(q), " ")
		if got != want {
			t.Errorf("questionNames(%q) = %q, want %q", q, got, want)
		}
	}
}

// TestNamePhrases: runs of capitalised words past the first word, ended
// by a comma, "and" or a lower-case word.
func TestNamePhrases(t *testing.T) {
	for q, want := range map[string]string{
		"Who are Rob Curran and Tim Machado?":                      "rob curran|tim machado",
		"What counties are Los Angeles, Orange, San Diego?":        "los angeles|san diego",
		"What is the former name of the Arthur M. Sackler Museum?": "arthur m sackler museum",
		"Which Major Soccer League teams played?":                  "major soccer league",
		"New York is where?":                                       "",
		"who is stephen miller":                                    "",
	} {
		var got []string
		for _, p := range namePhrases(q) {
			got = append(got, strings.Join(p, " "))
		}
		if g := strings.Join(got, "|"); g != want {
			t.Errorf("namePhrases(%q) = %q, want %q", q, g, want)
		}
	}
}
