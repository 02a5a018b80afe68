package retrieval

import (
	"context"
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
