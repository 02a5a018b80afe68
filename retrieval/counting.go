package retrieval

import (
	"regexp"
	"strings"
)

// "How many soldiers would be sent?" is not answered by "Six cartels were
// designated": the sentence has a number, but it counts something else.
// The picker's cue sees only the number; countedNoun and countsNoun let Ask
// hedge such a sentence instead of quoting it as the answer.

var howManyNoun = regexp.MustCompile(`(?i)\bhow many\s+([\p{L}'’-]+)`)

// vagueCounts are words after "how many" that name no countable thing the
// sentence must repeat ("how many people died": "345 pilgrims were killed").
var vagueCounts = toSet("people", "ppl", "persons", "person", "of", "times", "more", "other", "others",
	"were", "was", "are", "is", "did", "do", "does", "have", "has", "had", "will", "would", "could", "can",
	"got", "get", "in", "at", "total", "individuals", "humans", "ones", "kinds", "types")

// countedNoun is the stem of the word a "how many" question counts, or ""
// when it counts nothing the answer must name.
func countedNoun(q string) string {
	m := howManyNoun.FindStringSubmatch(q)
	if m == nil {
		return ""
	}
	w := strings.ToLower(m[1])
	if vagueCounts[w] || stopWords[w] || strings.HasSuffix(w, "ed") || len(w) < 3 {
		return ""
	}
	return stem(w)
}

// countsNoun reports whether sentence g names what the question counts:
// the noun itself or a word of its family.
func (ix *Index) countsNoun(g int, noun string) bool {
	for _, t := range ix.sentTerms[g] {
		if t == noun || sameFamily(t, noun) {
			return true
		}
	}
	return false
}

// interrogative reports whether a sentence is itself a question, as an
// interviewer's are: it asks, it does not state an answer.
func interrogative(s string) bool {
	s = strings.TrimRight(s, " \"'”’)")
	return strings.HasSuffix(s, "?")
}
