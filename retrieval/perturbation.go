package retrieval

import "storybot/retrieval/wordnet"

// SQuAD 2.0's unanswerable questions are written from the paragraph that
// does not answer them: they keep its words and change one, often to its
// opposite ("the weak force acts upon" against "the strong force acts
// upon"). To coverage an antonym is one missing term like any other.

// perturbationFeatures sets cAntonym: sentence g holds a WordNet antonym of
// a question word it lacks, or an inflection of one.
func (ix *Index) perturbationFeatures(f *confFeatures, qi questionInfo, g int) {
	terms := ix.sentenceTerms(g)
	var sw []string
	for _, w := range words(ix.sentenceText(g)) {
		if !stopWords[w] && !contains(qi.terms, stem(w)) {
			sw = append(sw, w)
		}
	}
	for _, w := range qi.allWords {
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
		}
	}
}
