package retrieval

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Sentence is one sentence of a story, located for citation.
type Sentence struct {
	Span
	Paragraph int // 1-based paragraph of the story
	Number    int // 1-based position within its paragraph
}

// Chunk is a run of whole sentences: the unit that is indexed and retrieved.
type Chunk struct {
	// ID is derived from the story ID and the chunk's text, so a reload can
	// tell an unchanged chunk from a changed one.
	ID    string
	Story int // index of the story in the snapshot
	Span      // bytes of the story body, first sentence to last
	// First and Last are the indices (inclusive) of the chunk's sentences in
	// the story's sentence list.
	First, Last int
	Words       int
}

// ChunkOptions shape chunks. The defaults were chosen on the eval sets; see
// the README's quality table.
type ChunkOptions struct {
	// MinWords: a chunk may close at a paragraph end once it has this many.
	MinWords int
	// MaxWords: a chunk closes before a sentence that would take it past
	// this, unless the chunk is still empty (a very long sentence).
	MaxWords int
	// Overlap is how many sentences a chunk repeats from the one before,
	// so an answer that straddles a boundary is whole in one of them.
	// Zero takes the default; a negative value means none.
	Overlap int
}

// DefaultChunkOptions are used where options are left zero.
var DefaultChunkOptions = ChunkOptions{MinWords: 100, MaxWords: 200, Overlap: 1}

func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.MinWords <= 0 {
		o.MinWords = DefaultChunkOptions.MinWords
	}
	if o.MaxWords <= 0 {
		o.MaxWords = DefaultChunkOptions.MaxWords
	}
	if o.MaxWords < o.MinWords {
		o.MaxWords = o.MinWords
	}
	if o.Overlap == 0 {
		o.Overlap = DefaultChunkOptions.Overlap
	} else if o.Overlap < 0 {
		o.Overlap = 0
	}
	return o
}

// Validate reports options that cannot make sense, for config checking.
func (o ChunkOptions) Validate() error {
	switch {
	case o.MinWords < 0 || o.MaxWords < 0:
		return fmt.Errorf("chunking: sizes must not be negative")
	case o.MaxWords > 0 && o.MinWords > o.MaxWords:
		return fmt.Errorf("chunking: min_words %d is above max_words %d", o.MinWords, o.MaxWords)
	case o.Overlap > 5:
		return fmt.Errorf("chunking: overlap %d sentences is more than 5", o.Overlap)
	}
	return nil
}

// SplitStory finds a story's sentences, each tagged with its paragraph.
func SplitStory(body string) []Sentence {
	var out []Sentence
	for p, para := range SplitParagraphs(body) {
		for n, s := range SplitSentences(body, para) {
			out = append(out, Sentence{Span: s, Paragraph: p + 1, Number: n + 1})
		}
	}
	return out
}

// ChunkSentences groups a story's sentences into chunks of whole sentences.
func ChunkSentences(storyID, body string, sents []Sentence, opts ChunkOptions) []Chunk {
	opts = opts.withDefaults()
	var chunks []Chunk
	for i := 0; i < len(sents); {
		j, n := i, 0
		for j < len(sents) {
			w := wordCount(body[sents[j].Start:sents[j].End])
			if n > 0 && n+w > opts.MaxWords {
				break
			}
			n += w
			j++
			paragraphEnd := j == len(sents) || sents[j].Paragraph != sents[j-1].Paragraph
			if n >= opts.MinWords && paragraphEnd {
				break
			}
		}
		text := body[sents[i].Start:sents[j-1].End]
		chunks = append(chunks, Chunk{
			ID:    chunkID(storyID, text),
			Span:  Span{sents[i].Start, sents[j-1].End},
			First: i,
			Last:  j - 1,
			Words: n,
		})
		if j == len(sents) {
			break
		}
		i = max(j-opts.Overlap, i+1)
	}
	return chunks
}

func chunkID(storyID, text string) string {
	sum := sha256.Sum256([]byte(storyID + "\x00" + text))
	return hex.EncodeToString(sum[:8])
}

func wordCount(s string) int { return len(strings.Fields(s)) }
