package eval

import (
	"strings"
	"unicode"
)

// normalize is SQuAD's answer normalisation: lower case, no punctuation, no
// articles (a, an, the), white space collapsed.
func normalize(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return r
	}, s)
	var out []string
	for _, w := range strings.Fields(s) {
		if w == "a" || w == "an" || w == "the" {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// exactMatch is SQuAD EM for one prediction, best over the gold answers.
func exactMatch(prediction string, gold []string) float64 {
	p := normalize(prediction)
	for _, g := range gold {
		if p == normalize(g) {
			return 1
		}
	}
	return 0
}

// f1 is SQuAD's token F1 for one prediction, best over the gold answers.
func f1(prediction string, gold []string) float64 {
	best := 0.0
	pt := strings.Fields(normalize(prediction))
	for _, g := range gold {
		gt := strings.Fields(normalize(g))
		best = max(best, tokenF1(pt, gt))
	}
	return best
}

func tokenF1(pred, gold []string) float64 {
	if len(pred) == 0 || len(gold) == 0 {
		if len(pred) == len(gold) {
			return 1
		}
		return 0
	}
	count := map[string]int{}
	for _, t := range gold {
		count[t]++
	}
	same := 0
	for _, t := range pred {
		if count[t] > 0 {
			count[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	precision := float64(same) / float64(len(pred))
	recall := float64(same) / float64(len(gold))
	return 2 * precision * recall / (precision + recall)
}
