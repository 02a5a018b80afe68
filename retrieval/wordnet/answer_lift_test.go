package wordnet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// evalData is the folder of shared evaluation sets, which are not ours and
// not in the repository: ../shared/eval from the repository's root, or
// $STORYBOT_EVAL_DATA.
func evalData() string {
	if d := os.Getenv("STORYBOT_EVAL_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "eval")
}

// TestLinksFavourAnswerSentences checks that the table's links carry signal
// for paraphrase, on XQuAD's odd-numbered articles (the even ones chose
// internal/gen's -senses). For each question word that a sentence of the
// paragraph lacks (no shared base form), it asks whether Similar links the
// word to one of the sentence's words, and compares how often that happens
// in the answer's sentence and in the paragraph's other sentences: the
// lift. Synonyms and derivations must point at the answer (lift ≥ 1.5); the
// other relations are reported for whoever weighs them.
func TestLinksFavourAnswerSentences(t *testing.T) {
	if testing.Short() {
		t.Skip("reads XQuAD and makes ~500k lookups")
	}
	path := filepath.Join(evalData(), "xquad-en", "xquad.en.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("XQuAD (English) is missing: %v; set STORYBOT_EVAL_DATA to the folder holding xquad-en/", err)
	}
	var set struct {
		Data []struct {
			Paragraphs []struct {
				Context string `json:"context"`
				QAs     []struct {
					Question string `json:"question"`
					Answers  []struct {
						Start int `json:"answer_start"`
					} `json:"answers"`
				} `json:"qas"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var pairs [2]int                // [other, answer] (word, sentence) pairs
	var hits [2][Coordinate + 1]int // and those linked, by closest relation
	for a := 1; a < len(set.Data); a += 2 {
		for _, p := range set.Data[a].Paragraphs {
			starts, sents := splitSentences(p.Context)
			for _, qa := range p.QAs {
				if len(qa.Answers) == 0 {
					continue
				}
				answer := 0
				for i, s := range starts {
					if qa.Answers[0].Start >= s {
						answer = i
					}
				}
				for _, w := range questionWords(qa.Question) {
					for i, s := range sents {
						if hasForm(w, s) {
							continue
						}
						in := 0
						if i == answer {
							in = 1
						}
						pairs[in]++
						if r := closest(w, s); r != 0 {
							hits[in][r]++
						}
					}
				}
			}
		}
	}
	if pairs[1] < 500 {
		t.Fatalf("only %d answer-sentence pairs: is %s XQuAD?", pairs[1], path)
	}
	t.Logf("(question word, sentence lacking it) pairs: %d in answer sentences, %d in others", pairs[1], pairs[0])
	for _, r := range relations {
		in := float64(hits[1][r]) / float64(pairs[1])
		out := float64(hits[0][r]) / float64(pairs[0])
		lift := in / out
		t.Logf("%-10v answer %5.2f%%  other %5.2f%%  lift %.2f", r, 100*in, 100*out, lift)
		if (r == Synonym || r == Derivation) && !(lift >= 1.5) {
			t.Errorf("%v links favour answer sentences by only %.2f", r, lift)
		}
	}
}

// splitSentences cuts text after ". ", "? " or "! " before a capital, and
// returns each sentence's start and its lower-cased words.
func splitSentences(text string) ([]int, [][]string) {
	starts := []int{0}
	for i := 0; i+2 < len(text); i++ {
		if strings.IndexByte(".?!", text[i]) >= 0 && text[i+1] == ' ' && unicode.IsUpper(rune(text[i+2])) {
			starts = append(starts, i+2)
		}
	}
	sents := make([][]string, len(starts))
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		sents[i] = lowerWords(text[s:end])
	}
	return starts, sents
}

// questionWords are a question's lower-case words that WordNet knows and
// that carry content: capitalised words after the first are names.
func questionWords(q string) []string {
	var out []string
	for i, w := range strings.FieldsFunc(q, notWordRune) {
		if i > 0 && w != strings.ToLower(w) {
			continue
		}
		w = strings.ToLower(w)
		if !liftStopWords[w] && Lemma(w) != nil {
			out = append(out, w)
		}
	}
	return out
}

func lowerWords(s string) []string {
	ws := strings.FieldsFunc(s, notWordRune)
	for i, w := range ws {
		ws[i] = strings.ToLower(w)
	}
	return ws
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func hasForm(w string, sent []string) bool {
	for _, s := range sent {
		if r, _ := Similar(w, s); s == w || r == Inflection {
			return true
		}
	}
	return false
}

// closest is the closest relation linking w to a content word of sent.
func closest(w string, sent []string) Relation {
	best := Relation(0)
	for _, s := range sent {
		if liftStopWords[s] {
			continue
		}
		if r, ok := Similar(w, s); ok && (best == 0 || rank(r) < rank(best)) {
			best = r
		}
	}
	return best
}

func rank(r Relation) int {
	for i, x := range relations {
		if x == r {
			return i
		}
	}
	return len(relations)
}

// liftStopWords are function words WordNet partly knows ("be", "have",
// "can" the container) whose links mean nothing here.
var liftStopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a about what who whom which when where why how is are was were do does
		did the of to in on for by with and or be been has have had will would could should can this that
		these those it its as at from into than there their they he she his her him i you we our not no
		said say says any some most more many much one two`) {
		liftStopWords[w] = true
	}
}
