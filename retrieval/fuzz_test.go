package retrieval

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"storybot/knowledge"
)

// FuzzSplitAndChunk checks the splitter's and chunker's promises on any
// input: sentence offsets slice the source exactly, in order, without
// overlap; every non-space character is in some sentence; every sentence is
// in some chunk; chunk offsets run from their first sentence to their last.
func FuzzSplitAndChunk(f *testing.F) {
	f.Add(knowledge.Default()[0].Body)
	for _, s := range []string{
		"", " ", "\n\n\n", ".", "...", "?!", "U.S. U.S. U.S.", `"invasion." Invasion`, "Mr. Feb. 5 No. 3",
		"a\n\nb\nc\n\n\nd", "“Quoted.” Next. (Aside.) [Note.]", "x.\u00a0Y", "\xff\xfe. A.", "٣. مرحبا. שלום.",
		"👍🏽 emoji. 👨‍👩‍👧 family.", "e\u0301. Accent.", "Line one\r\nLine two.\r\n\r\nThird.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		sents := SplitStory(body)
		inSentence := make([]bool, len(body))
		prevEnd, prevPara := 0, 0
		for i, s := range sents {
			if s.Start < prevEnd || s.End <= s.Start || s.End > len(body) {
				t.Fatalf("sentence %d span %v out of order or bounds (prev end %d, len %d)", i, s.Span, prevEnd, len(body))
			}
			if s.Paragraph < prevPara || s.Paragraph < 1 || s.Number < 1 {
				t.Fatalf("sentence %d paragraph %d number %d", i, s.Paragraph, s.Number)
			}
			text := body[s.Start:s.End]
			if strings.TrimSpace(text) != text && utf8.ValidString(text) {
				t.Fatalf("sentence %d %q is not trimmed", i, text)
			}
			for j := s.Start; j < s.End; j++ {
				inSentence[j] = true
			}
			prevEnd, prevPara = s.End, s.Paragraph
		}
		for i, r := range body {
			if !unicode.IsSpace(r) && !inSentence[i] {
				t.Fatalf("byte %d (%q) of %q is in no sentence", i, r, body)
			}
		}
		for _, opts := range []ChunkOptions{{}, {MinWords: 1, MaxWords: 3, Overlap: 1}, {MinWords: 2, MaxWords: 5, Overlap: -1}} {
			chunks := ChunkSentences("s", body, sents, opts)
			covered := make([]bool, len(sents))
			for i, c := range chunks {
				if c.First < 0 || c.Last >= len(sents) || c.First > c.Last {
					t.Fatalf("chunk %d sentences %d..%d of %d", i, c.First, c.Last, len(sents))
				}
				if c.Start != sents[c.First].Start || c.End != sents[c.Last].End {
					t.Fatalf("chunk %d span %v is not its sentences' %d..%d", i, c.Span, sents[c.First].Start, sents[c.Last].End)
				}
				if c.ID != chunkID("s", body[c.Start:c.End]) {
					t.Fatalf("chunk %d ID not derived from its text", i)
				}
				for j := c.First; j <= c.Last; j++ {
					covered[j] = true
				}
			}
			for j, ok := range covered {
				if !ok {
					t.Fatalf("sentence %d is in no chunk (options %+v)", j, opts)
				}
			}
		}
	})
}

// FuzzAsk checks that no question, however odd, crashes the answerer or
// yields an answer whose quotes are not the story's own text.
func FuzzAsk(f *testing.F) {
	ix := buildDefault(f, Options{})
	body := knowledge.Default()[0].Body
	for _, s := range []string{"who favors strikes?", "", "@everyone", "<@&123> ```code``` ||spoiler||", "\u200d\u200b", "مَن يؤيد الضربات؟", "👍👍👍", strings.Repeat("why ", 300), "\xff\xfe",
		"who is miller and what is the capital of france", "tell me about NYT? and why", strings.Repeat("QQQ and who ", 80), "what's up with <@1> lol"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		a, err := ix.Ask(t.Context(), q)
		if err != nil {
			return // bad questions get errors; the point is no panic
		}
		for _, c := range a.Citations {
			if body[c.Start:c.End] != c.Quote {
				t.Fatalf("quote %q is not the story's text at %d..%d", c.Quote, c.Start, c.End)
			}
		}
		// Three outcomes: a confident answer is Found; a hedged one quotes
		// without being Found; a decline quotes nothing.
		if a.Found != (a.Outcome == OutcomeAnswer) || (a.Outcome == OutcomeNone) != (len(a.Citations) == 0) {
			t.Fatalf("outcome %s, found %v, with %d citations", a.Outcome, a.Found, len(a.Citations))
		}
	})
}
