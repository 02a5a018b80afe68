package retrieval

import (
	"strings"
	"testing"

	"storybot/knowledge"
)

func sentencesOf(text string) []string {
	var out []string
	for _, s := range SplitSentences(text, Span{0, len(text)}) {
		out = append(out, text[s.Start:s.End])
	}
	return out
}

func TestSplitSentencesHardCases(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"initialism then lower case", "Action from the U.S. in Mexico is possible. U.S. assets are there.",
			[]string{"Action from the U.S. in Mexico is possible.", "U.S. assets are there."}},
		{"initialism then a name", "She met the U.S. Army chief. He agreed.",
			[]string{"She met the U.S. Army chief.", "He agreed."}},
		{"initialism ends the sentence", "Drones flew over the U.S. The flights stopped.",
			[]string{"Drones flew over the U.S.", "The flights stopped."}},
		{"title", "Mr. Miller spoke. Dr. Gorka did not.", []string{"Mr. Miller spoke.", "Dr. Gorka did not."}},
		{"month", "It began on Feb. 5 in Texas. Then it spread.", []string{"It began on Feb. 5 in Texas.", "Then it spread."}},
		{"period inside closing quote", `She would never tolerate an "invasion." Invasion is the word.`,
			[]string{`She would never tolerate an "invasion."`, "Invasion is the word."}},
		{"quote then attribution", `"Cartels are terrorists," Miller said. He left.`,
			[]string{`"Cartels are terrorists," Miller said.`, "He left."}},
		{"question in quotes, lower case after", `"Why now?" asked a reporter. Nobody knew.`,
			[]string{`"Why now?" asked a reporter.`, "Nobody knew."}},
		{"decimal number", "Growth was 3.5 percent. It fell.", []string{"Growth was 3.5 percent.", "It fell."}},
		{"number abbreviation", "See No. 5 on the list. Good.", []string{"See No. 5 on the list.", "Good."}},
		{"exclamation and question", "Stop! Who goes there? Me.", []string{"Stop!", "Who goes there?", "Me."}},
		{"ellipsis mid-sentence", "He paused... and went on. Done.", []string{"He paused... and went on.", "Done."}},
		{"no final period", "First one. Second one", []string{"First one.", "Second one"}},
		{"curly quotes", "He said “enough.” Then he left.", []string{"He said “enough.”", "Then he left."}},
		{"list item", "* \"Move over, Internet Explorer. It is safer.\"", []string{"\"Move over, Internet Explorer.", "It is safer.\""}},
		{"dash list item", "- Fast and free.", []string{"Fast and free."}},
		{"dash inside", "Fast - and free.", []string{"Fast - and free."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentencesOf(tt.text)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSplitStoryFindsTheArticlesSentences(t *testing.T) {
	s := knowledge.Default()[0]
	sents := SplitStory(s.Body)
	// Paragraph 3 has two sentences; "U.S." appears in both without
	// splitting them.
	var p3 []string
	paragraphs := map[int]bool{}
	for _, st := range sents {
		paragraphs[st.Paragraph] = true
		if st.Paragraph == 3 {
			p3 = append(p3, s.Body[st.Start:st.End])
		}
	}
	if len(paragraphs) != 9 {
		t.Errorf("found %d paragraphs, want 9", len(paragraphs))
	}
	want := []string{
		"Six Mexican cartels were officially designated as foreign terrorist organizations in February, paving the way for potential military action from the U.S. in Mexico.",
		"U.S. assets have already been operating in Mexican soil, including drone flights that have helped local authorities locate and take down top cartel leaders and labs.",
	}
	if strings.Join(p3, "|") != strings.Join(want, "|") {
		t.Errorf("paragraph 3 sentences:\n got %q\nwant %q", p3, want)
	}
	for _, st := range sents {
		if strings.Contains(s.Body[st.Start:st.End], "©") {
			t.Errorf("attribution line became a sentence: %q", s.Body[st.Start:st.End])
		}
	}
}

func TestParagraphsBlankLineOrLine(t *testing.T) {
	lines := "One.\nTwo.\nThree."
	if got := len(SplitParagraphs(lines)); got != 3 {
		t.Errorf("line-separated: %d paragraphs, want 3", got)
	}
	blocks := "# Title\n\nFirst para\nwraps here.\n\nSecond para."
	ps := SplitParagraphs(blocks)
	if len(ps) != 3 || blocks[ps[1].Start:ps[1].End] != "First para\nwraps here." {
		t.Errorf("blank-line-separated: got %v", ps)
	}
}

func TestChunksRoundTripAndOverlap(t *testing.T) {
	s := knowledge.Default()[0]
	sents := SplitStory(s.Body)
	chunks := ChunkSentences(s.ID, s.Body, sents, ChunkOptions{MinWords: 40, MaxWords: 80, Overlap: 1})
	if len(chunks) < 3 {
		t.Fatalf("got %d chunks, want several", len(chunks))
	}
	covered := make([]bool, len(sents))
	for i, c := range chunks {
		text := s.Body[c.Start:c.End]
		if !strings.HasPrefix(text, s.Body[sents[c.First].Start:sents[c.First].End]) ||
			!strings.HasSuffix(text, s.Body[sents[c.Last].Start:sents[c.Last].End]) {
			t.Errorf("chunk %d does not start and end on its sentences", i)
		}
		if c.Words > 80 && c.First != c.Last {
			t.Errorf("chunk %d has %d words, over the maximum", i, c.Words)
		}
		for j := c.First; j <= c.Last; j++ {
			covered[j] = true
		}
		// One sentence of overlap, except after a one-sentence chunk,
		// which is not repeated whole.
		if prev := chunks[max(i-1, 0)]; i > 0 && c.First != prev.Last && !(prev.First == prev.Last && c.First == prev.Last+1) {
			t.Errorf("chunk %d starts at sentence %d, want one sentence of overlap with %d", i, c.First, prev.Last)
		}
		if c.ID != chunkID(s.ID, text) {
			t.Errorf("chunk %d ID is not derived from its text", i)
		}
	}
	for j, ok := range covered {
		if !ok {
			t.Errorf("sentence %d is in no chunk", j)
		}
	}
}

func TestChunkIDsChangeOnlyWithContent(t *testing.T) {
	body := "Alpha one. Alpha two.\nBeta one. Beta two."
	opts := ChunkOptions{MinWords: 1, MaxWords: 4, Overlap: -1}
	a := ChunkSentences("s", body, SplitStory(body), opts)
	changed := strings.Replace(body, "Beta two", "Beta 2", 1)
	b := ChunkSentences("s", changed, SplitStory(changed), opts)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("want 2 chunks each, got %d and %d", len(a), len(b))
	}
	if a[0].ID != b[0].ID {
		t.Error("unchanged chunk got a new ID")
	}
	if a[1].ID == b[1].ID {
		t.Error("changed chunk kept its ID")
	}
}
