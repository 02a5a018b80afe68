package retrieval

import (
	"context"
	"strconv"
	"testing"

	"storybot/knowledge"
)

// TestPassageMatchesSplittingAgain: Index.Passage gives the text and the
// paragraphs that splitting the story again gives, for every chunk.
func TestPassageMatchesSplittingAgain(t *testing.T) {
	ix, err := Build(context.Background(), knowledge.Default(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ix.Chunks() {
		p, ok := ix.Passage(c.ID)
		if !ok {
			t.Fatalf("chunk %s not found", c.ID)
		}
		s := ix.Stories()[c.Story]
		sents := SplitStory(s.Body)
		if p.Story != s || p.Text != s.Body[c.Start:c.End] ||
			p.FirstParagraph != sents[c.First].Paragraph || p.LastParagraph != sents[c.Last].Paragraph {
			t.Errorf("chunk %s: %+v, want paragraphs %d-%d", c.ID, p, sents[c.First].Paragraph, sents[c.Last].Paragraph)
		}
	}
	if _, ok := ix.Passage("no-such-chunk"); ok {
		t.Error("an unknown id was found")
	}
}

// TestStemCacheIsBounded: however many distinct words are stemmed, the
// cache holds at most maxStems.
func TestStemCacheIsBounded(t *testing.T) {
	for i := range maxStems + 1000 {
		stem("zq" + strconv.Itoa(i) + "ings")
	}
	n := 0
	stemCache.Range(func(any, any) bool { n++; return true })
	if n > maxStems {
		t.Errorf("the stem cache holds %d words, bound %d", n, maxStems)
	}
	if got := stem("strikes"); got != "strike" {
		t.Errorf("stem after starting over = %q", got)
	}
}

// TestNumberWordsStemToDigits: "season 3" is "a third season", and the
// confidence does not read the 3 as missing from it.
func TestNumberWordsStemToDigits(t *testing.T) {
	for w, want := range map[string]string{"third": "3", "3rd": "3", "three": "3", "3": "3", "second": "2", "twelfth": "12", "seconds": stem("seconds"), "first": "first", "one": "one"} {
		if got := stem(w); got != want {
			t.Errorf("stem(%q) = %q, want %q", w, got, want)
		}
	}
	ix, err := Build(context.Background(), []*knowledge.Story{story("show", "The network renewed the drama for a third season in March.\n\nIts stars are paid well.")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	qi := ix.analyze("is there a season 3 of the drama")
	if got := ix.coverage(qi, 0); got < 0.99 {
		t.Errorf("coverage of %q by %q = %.2f, want 1", "is there a season 3 of the drama", ix.sentenceText(0), got)
	}
	if f := ix.confFeatures(qi, ix.score(context.Background(), qi, []Hit{{Chunk: 0, Score: 1}})); f[cMissingNumber] != 0 {
		t.Errorf("the confidence reads the 3 as missing from %q", ix.sentenceText(0))
	}
}
