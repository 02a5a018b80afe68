package retrieval

import "storybot/knowledge"

// Passage is a chunk as a reader sees it: its story, its text, and the
// paragraphs it spans (1-based; 0 when unknown).
type Passage struct {
	Story                         *knowledge.Story
	Text                          string
	FirstParagraph, LastParagraph int
}

// Passage returns the chunk with the given ID from what the snapshot
// already holds, so showing a passage does not split its story again.
func (ix *Index) Passage(id string) (Passage, bool) {
	c, ok := ix.ChunkByID(id)
	if !ok || c.Story < 0 || c.Story >= len(ix.stories) {
		return Passage{}, false
	}
	s := ix.stories[c.Story]
	p := Passage{Story: s, Text: s.Body[c.Start:c.End]}
	if c.Story < len(ix.storyBase) && c.First >= 0 && c.First <= c.Last {
		first, last := ix.storyBase[c.Story]+c.First, ix.storyBase[c.Story]+c.Last
		if last < ix.nSents && ix.storyOf(first) == c.Story && ix.storyOf(last) == c.Story {
			p.FirstParagraph, p.LastParagraph = ix.paragraphOf(first), ix.paragraphOf(last)
		}
	}
	return p, true
}
