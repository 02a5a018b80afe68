package retrieval

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// In a conversation the next question often names no story at all: "who
// published this", "how many got hurt". With many stories such a question
// would be read in whichever story shares a word with it; as a follow-up it
// is read in the story the last answer quoted, unless it names another or
// that story does not touch it.
//
// Chosen on the natural set's fit half over all 73 stories, each question
// asked after its own story ("after") and after another ("switch"):
// answered from the right sentence 68.9% asked afresh, 76.2% after its own
// story, 67.5% after another (the two lost are "whats this story about"
// and "summarize the article pls", which do mean the story just quoted).
// Moving on also when another story holds two or more of the question's
// terms the followed one lacks changed nothing once a declined follow-up is
// asked afresh.

// AskAfter answers question as Ask does, as a follow-up on the story whose
// ID is storyID (the one the asker's last answer quoted). A question that
// names another story moves on to it, and one that story declines is asked
// afresh; an unknown or empty storyID, or a knowledge base of one story,
// makes it Ask.
func (ix *Index) AskAfter(ctx context.Context, question, storyID string) (*Answer, error) {
	follow := -1
	if len(ix.stories) > 1 {
		for i, s := range ix.stories {
			if s.ID == storyID && storyID != "" {
				follow = i
				break
			}
		}
	}
	a, err := ix.ask(ctx, question, follow)
	if err == nil && follow >= 0 && a.Outcome == OutcomeNone {
		// The story just quoted does not touch it: a new subject.
		return ix.ask(ctx, question, -1)
	}
	return a, err
}

// followedStory is the story a question pointed at story is read in, as a
// follow-up on story follow: follow, unless the question names story
// instead or follow has none of the passages the question finds.
func (ix *Index) followedStory(qi questionInfo, res SearchResult, story, follow int) int {
	if follow < 0 || story == follow || ix.namesStory(qi, story, follow) || len(ix.storyHits(res, follow, ix.opts.TopK)) == 0 {
		return story
	}
	return follow
}

// namesStory reports whether the question names story s rather than
// follow: it holds a term follow never uses that s's title holds, or that
// s writes as a name ("what about the stampede", "who is Sheinbaum").
func (ix *Index) namesStory(qi questionInfo, s, follow int) bool {
	if s < 0 {
		return false
	}
	lo, hi := ix.storyRange(follow)
	title := ix.titleStems(s)
	for _, t := range qi.terms {
		if !ix.termInRange(t, lo, hi) && (title[t] || ix.writesAsName(s, t)) {
			return true
		}
	}
	return false
}

// writesAsName reports whether story s holds term t capitalised past the
// start of a sentence.
func (ix *Index) writesAsName(s int, t string) bool {
	lo, hi := ix.storyRange(s)
	for g := ix.firstSentenceWith(t, lo, hi); g >= 0 && g < hi; g = ix.firstSentenceWith(t, g+1, hi) {
		for i, f := range strings.Fields(ix.sentenceText(g)) {
			// "Secunia.com," names Secunia.
			for _, w := range strings.FieldsFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
				if r, _ := utf8.DecodeRuneInString(w); i > 0 && unicode.IsUpper(r) && stem(strings.ToLower(w)) == t {
					return true
				}
			}
		}
	}
	return false
}

// holdsAll reports whether story s holds every one of terms.
func (ix *Index) holdsAll(s int, terms []string) bool {
	lo, hi := ix.storyRange(s)
	for _, t := range terms {
		if !ix.termInRange(t, lo, hi) {
			return false
		}
	}
	return true
}
