package storage

import (
	"slices"
	"strings"
	"unicode"

	"storybot/retrieval"
)

// maxKey bounds a grouping key: a pasted essay groups with nothing anyway.
const maxKey = 200

// QuestionKey is the form of a question that near-identical wordings share,
// so insights can count them as one: retrieval's index terms (lower case,
// punctuation and stop words gone, Snowball stems), each once, sorted. "Who
// favors the strikes?" and "who favours strikes" differ; "Who favors
// strikes?" and "who favors strikes" do not, nor does "strikes: who favors
// them?". A question of stop words alone ("who is he?") keeps its words.
// "" for no text.
func QuestionKey(text string) string {
	terms := retrieval.Terms(text)
	if len(terms) == 0 {
		terms = strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
	}
	slices.Sort(terms)
	terms = slices.Compact(terms)
	key := strings.Join(terms, " ")
	if len(key) > maxKey {
		key = strings.ToValidUTF8(key[:maxKey], "") // no half a rune at the cut
	}
	return key
}
