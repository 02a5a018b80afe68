package retrieval

import "storybot/retrieval/wordnet"

// Credit in coverage for a sentence term WordNet links to a question term
// ("supports" for "backs", "strikes" for "bomb"): less than the same word,
// since WordNet's links hold for some sense of the words, not always this
// one.
const (
	synonymCredit = 0.7 // synonym, derivation, inflection
	classCredit   = 0.5 // hypernym, hyponym, coordinate
)

// paraphrases maps, for each question word, the stems of the words WordNet
// links it to, to the credit they earn. Antonyms are left out: they are a
// sign the sentence says the opposite, not the same.
func paraphrases(word string) map[string]float64 {
	links := wordnet.Links(word)
	if len(links) == 0 {
		return nil
	}
	out := make(map[string]float64, len(links))
	for _, l := range links {
		var credit float64
		switch l.Relation {
		case wordnet.Inflection, wordnet.Synonym, wordnet.Derivation:
			credit = synonymCredit
		case wordnet.Hypernym, wordnet.Hyponym, wordnet.Coordinate:
			credit = classCredit
		default:
			continue
		}
		s := stem(l.Word)
		if stopWords[l.Word] {
			continue
		}
		out[s] = max(out[s], credit)
	}
	return out
}

// antonymStems are the stems of the words WordNet opposes to word.
func antonymStems(word string) []string {
	var out []string
	for _, a := range wordnet.Antonyms(word) {
		out = append(out, stem(a))
	}
	return out
}

// rankParaphrases are the links the picker ranks by: synonyms, derivations
// and inflections only ("began" for "start", "killed" for "died"). Class
// links are left out: "favor" → "consider" is a sense too far.
func rankParaphrases(word string) map[string]float64 {
	var out map[string]float64
	if class := newsClasses[stem(word)]; class != nil {
		out = map[string]float64{}
		for _, s := range class {
			out[s] = synonymCredit
		}
	}
	for s, credit := range paraphrases(word) {
		if credit < synonymCredit {
			continue
		}
		if out == nil {
			out = map[string]float64{}
		}
		out[s] = credit
	}
	return out
}

// irregularStems are the stems of the irregular forms of word's base forms
// ("leads" → "led"), other than word's own stem.
func irregularStems(word string) []string {
	var out []string
	own := stem(word)
	for _, b := range wordnet.Lemma(word) {
		for _, f := range wordnet.IrregularForms(b) {
			if s := stem(f); s != own && !contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// baseStems are the stems of a sentence term's WordNet base forms other
// than itself: "began" → "begin".
func baseStems(term string) []string {
	var out []string
	for _, l := range wordnet.Lemma(term) {
		if s := stem(l); s != term && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// newsClasses link the words news stories use for the same thing, which
// WordNet leaves apart or links only through a sense too far: "how many
// died" is answered by "345 were killed", "was anyone hurt" by "no
// injuries", "how much is the deal worth" by "the deal is to cost $11.5bn".
// Keyed and valued by stem. casualtyClasses are the first two, which
// counting.go reads too. "Toll" stays out: "death toll" would earn
// "deadly" credit twice ("who gave the death toll" was answered from
// "deadly stampedes").
var newsClasses, casualtyClasses = func() (map[string][]string, map[string][]string) {
	all, casualty := map[string][]string{}, map[string][]string{}
	for i, class := range [][]string{
		{"die", "died", "dead", "death", "deaths", "kill", "killed", "killing", "fatal", "fatalities", "fatality", "perished", "drowned", "murdered"},
		{"hurt", "injure", "injured", "injury", "injuries", "wound", "wounded", "wounding", "casualties"},
		{"worth", "cost", "costs", "costing", "value", "valued", "price", "priced"},
		{"rival", "rivals", "competitor", "competitors", "opponent", "opponents", "challenger", "challengers"},
		{"odds", "chance", "chances", "probability", "likelihood"},
		{"careful", "cautious", "caution", "wary", "prudent"},
		{"urge", "urged", "urging", "ask", "asked", "asking", "request", "requested", "appeal", "appealed"},
		{"bomb", "bombs", "bombing", "bombed", "strike", "strikes", "airstrike", "airstrikes", "attack", "attacks", "attacked", "hit", "hitting"},
		{"support", "supports", "supported", "back", "backs", "backed", "backing", "favor", "favors", "favour", "favours", "favored", "endorse", "endorsed", "advocate", "advocates"},
		{"respond", "responded", "response", "react", "reacted", "reaction", "reply", "replied", "retaliate", "retaliated", "retaliation"},
	} {
		var stems []string
		for _, w := range class {
			if s := stem(w); !contains(stems, s) {
				stems = append(stems, s)
			}
		}
		for _, s := range stems {
			all[s] = stems
			if i < 2 {
				casualty[s] = stems
			}
		}
	}
	return all, casualty
}()
