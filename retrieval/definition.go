package retrieval

import (
	"regexp"
	"strings"
)

// "What is the Torino scale?" and "which languages is it in?" are not
// factoids with a wh-word's cue. "What is the Torino scale?" is answered by the sentence that says what
// it is ("The Torino scale is the current method …"), not by one that
// merely uses it ("… 2 out of 10 on the Torino scale"), though both hold
// every word of the question.

// definitionQuestion is "what is/are X" with nothing after X; X is at most
// three words and holds no stop word past its article ("what is the name
// of the ship" asks for a name, not a definition).
var definitionQuestion = regexp.MustCompile(`(?i)^\W*(?:so |ok |okay )?(?:what|wat|wht)(?:'s|’s| is| are| was| were|s) (?:an? |the )?([\p{L}0-9][\p{L}0-9'’.\-]*(?: [\p{L}0-9][\p{L}0-9'’.\-]*){0,2})\W*$`)

// definedTerm is the X of a definition question, lower case, or "".
func definedTerm(q string) string {
	m := definitionQuestion.FindStringSubmatch(q)
	if m == nil {
		return ""
	}
	x := strings.ToLower(m[1])
	for _, w := range strings.Fields(x) {
		if stopWords[w] {
			return ""
		}
	}
	return x
}

// definesTerm reports whether sentence says what x is: x followed by a
// copula (not a passive) or an appositive ("the Torino scale is", "Nanosat-2, a program"),
// or introduced by "called" or "known as".
func definesTerm(sentence, x string) bool {
	s := strings.ToLower(sentence)
	for from := 0; ; {
		i := strings.Index(s[from:], x)
		if i < 0 {
			return false
		}
		i += from
		before, after := s[:i], s[i+len(x):]
		if definingAfter.MatchString(after) && !passiveAfter.MatchString(after) || definingBefore.MatchString(before) {
			return true
		}
		from = i + len(x)
	}
}

var (
	definingAfter = regexp.MustCompile(`^(?:s|es)?(?: is| are| was| were| refers to| means|, (?:an?|the) | \((?:an?|the) )\b`)
	// passiveAfter: "the scales were compared" says what was done to
	// them, not what they are.
	passiveAfter   = regexp.MustCompile(`^(?:s|es)? (?:is|are|was|were) (?:being |been )?\p{L}+ed\b`)
	definingBefore = regexp.MustCompile(`\b(?:called|known as|named|termed|dubbed) (?:an? |the )?$`)
)

// "Which languages is it available in?" asks for a list of languages:
// "… in the following languages: Norwegian, Polish, Finnish …", not
// "Other languages should appear later." Only "which": read for "what
// Ns" too, it cost XQuAD answer-sentence@1 0.4 ("what years …" asks for
// one year).
var listQuestion = regexp.MustCompile(`(?i)^\W*(?:so |ok |okay )?which ([\p{L}]{3,}s)\b`)

// listedKind is the plural noun a "which Ns" question asks to list, or "".
func listedKind(q string) string {
	m := listQuestion.FindStringSubmatch(q)
	if m == nil || stopWords[strings.ToLower(m[1])] {
		return ""
	}
	return strings.ToLower(m[1])
}

// listsItems reports whether sentence lists things: after a colon, after
// "including" or "such as", or as a run of three or more commas.
func listsItems(sentence string) bool {
	return strings.Contains(sentence, ": ") || listWords.MatchString(sentence) || strings.Count(sentence, ",") >= 3
}

var listWords = regexp.MustCompile(`(?i)\b(including|such as|include|includes|among them)\b`)
