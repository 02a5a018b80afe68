package retrieval

import (
	"strings"

	"storybot/retrieval/wordnet"
)

// SQuAD 2.0's unanswerable questions are written from the paragraph that
// does not answer them: they keep its words and change one, often to its
// opposite ("the weak force acts upon" against "the strong force acts
// upon"). To coverage an antonym is one missing term like any other.

// perturbationFeatures sets cAntonym: sentence g holds a WordNet antonym of
// a question word it lacks, an inflection or a synonym of one, or the
// opposite of a stop word the question holds.
// sent is the set of g's words, which confFeatures has already read.
func (ix *Index) perturbationFeatures(f *confFeatures, qi questionInfo, g int, sent map[string]bool) {
	terms := ix.sentenceTerms(g)
	var sw []string
	for w := range sent {
		if !stopWords[w] && !contains(qi.terms, stem(w)) {
			sw = append(sw, w)
		}
	}
	for _, w := range qi.allWords {
		if o, ok := oppositeFunctionWords[w]; ok && !sent[w] {
			for _, x := range o {
				if sent[x] {
					f[cAntonym] = 1
				}
			}
		}
		// "Newton's Second Law" against "Newton's First Law".
		if ordinals[w] && !sent[w] {
			for x := range sent {
				if ordinals[x] {
					f[cAntonym] = 1
				}
			}
		}
		// "the Seven-Day War" against "the Six-Day War".
		if cardinals[w] && !sent[w] {
			for x := range sent {
				if cardinals[x] {
					f[cAntonym] = 1
				}
			}
		}
		if stopWords[w] || contains(terms, stem(w)) {
			continue
		}
		for _, a := range antonymStems(w) {
			if contains(terms, a) {
				f[cAntonym] = 1
			}
		}
		// WordNet's antonyms are base forms: "lower" opposes "high", and
		// the sentence says "higher".
		for _, x := range sw {
			if rel, ok := wordnet.Similar(w, x); ok && rel == wordnet.Antonym {
				f[cAntonym] = 1
			}
			// WordNet opposes "positive" and "negative", not their adverbs.
			if a, b := adjectiveOf(w), adjectiveOf(x); a != w && b != x {
				if rel, ok := wordnet.Similar(a, b); ok && rel == wordnet.Antonym {
					f[cAntonym] = 1
				}
			}
		}
		// Nor does WordNet oppose every synonym: "slowly" opposes
		// "quickly", and the sentence says "rapidly"; "lose" opposes
		// "win", and the sentence names the "winner".
		if f[cAntonym] == 0 {
			for _, a := range wordnet.Antonyms(w) {
				for _, x := range sw {
					if rel, ok := wordnet.Similar(a, x); ok && (rel == wordnet.Synonym || rel == wordnet.Derivation) {
						f[cAntonym] = 1
					}
				}
			}
		}
	}
}

// oppositeFunctionWords are opposites among the words that retrieval
// drops as stop words, so WordNet is never asked about them: "what is
// considered less fundamental" against "more fundamental", "only some
// celestial bodies" against "all celestial bodies".
var oppositeFunctionWords = map[string][]string{
	"more": {"less", "fewer"}, "less": {"more"}, "fewer": {"more"},
	"most": {"least", "fewest"}, "least": {"most"}, "fewest": {"most"},
	"before": {"after"}, "after": {"before"},
	"above": {"below"}, "below": {"above"},
	"over": {"under"}, "under": {"over"},
	"first": {"last"}, "last": {"first"},
	"some": {"all", "every"}, "all": {"some", "none"}, "every": {"some"}, "none": {"all"},
	"many": {"few"}, "few": {"many"}, "always": {"never"}, "never": {"always"},
}

// ordinals name a place in a series; a question that names another place
// than its sentence asks about another thing.
var ordinals = toSet("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "last", "final")

// cardinals count in words; "one" is left out, since it is as often a
// pronoun ("one of the reports") as a count.
var cardinals = toSet("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
	"twenty", "thirty", "forty", "fifty", "hundred", "thousand", "million", "billion", "dozen")

// adjectiveOf is the adjective an adverb is made from ("positively" →
// "positive", "happily" → "happy"), or w.
func adjectiveOf(w string) string {
	if base, ok := strings.CutSuffix(w, "ily"); ok && len(base) >= 3 {
		return base + "y"
	}
	if base, ok := strings.CutSuffix(w, "ly"); ok && len(base) >= 4 {
		return base
	}
	return w
}
