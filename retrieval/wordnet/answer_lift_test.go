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
		t.Skip("reads XQuAD")
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
			sets := make([]map[string]bool, len(sents))
			for i, s := range sents {
				sets[i] = baseSet(s)
			}
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
						if hasBase(w, sets[i]) {
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

// baseSet holds the words of a sentence and their base forms.
func baseSet(sent []string) map[string]bool {
	set := map[string]bool{}
	for _, s := range sent {
		set[s] = true
		for _, b := range Lemma(s) {
			set[b] = true
		}
	}
	return set
}

// hasBase reports whether w or one of its base forms is in set: whether
// the sentence has a form of w.
func hasBase(w string, set map[string]bool) bool {
	if set[w] {
		return true
	}
	for _, b := range Lemma(w) {
		if set[b] {
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

// TestAntonymsMarkUnanswerable checks the table on what issue 12 wants
// antonyms for: SQuAD 2.0's unanswerable questions often ask the opposite
// of what the text says ("insignificant changes" where it says
// significant). Over the even-numbered dev articles, take for each question
// the paragraph sentence sharing most of its words, as a retriever would,
// and count questions with a word the sentence lacks but whose antonym it
// has. Unanswerable questions must have one at least 3 times as often.
func TestAntonymsMarkUnanswerable(t *testing.T) {
	if testing.Short() {
		t.Skip("reads SQuAD 2.0")
	}
	path := filepath.Join(evalData(), "squad-v2.0-dev", "dev-v2.0-even-articles.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("SQuAD 2.0 dev (even articles) is missing: %v; set STORYBOT_EVAL_DATA to the folder holding squad-v2.0-dev/", err)
	}
	var set struct {
		Data []struct {
			Paragraphs []struct {
				Context string `json:"context"`
				QAs     []struct {
					Question   string `json:"question"`
					Impossible bool   `json:"is_impossible"`
				} `json:"qas"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var questions, marked [2]int // [answerable, unanswerable]
	for _, a := range set.Data {
		for _, p := range a.Paragraphs {
			_, sents := splitSentences(p.Context)
			sets := make([]map[string]bool, len(sents))
			for i, s := range sents {
				sets[i] = baseSet(s)
			}
			for _, qa := range p.QAs {
				qw := questionWords(qa.Question)
				best, most := 0, -1
				for i, s := range sets {
					n := 0
					for _, w := range qw {
						if hasBase(w, s) {
							n++
						}
					}
					if n > most {
						best, most = i, n
					}
				}
				k := 0
				if qa.Impossible {
					k = 1
				}
				questions[k]++
				if opposes(qw, sets[best]) {
					marked[k]++
				}
			}
		}
	}
	if questions[0] < 1000 || questions[1] < 1000 {
		t.Fatalf("only %v questions: is %s SQuAD 2.0?", questions, path)
	}
	rate := func(k int) float64 { return float64(marked[k]) / float64(questions[k]) }
	t.Logf("a question word's antonym in the best sentence: answerable %d of %d (%.2f%%), unanswerable %d of %d (%.2f%%)",
		marked[0], questions[0], 100*rate(0), marked[1], questions[1], 100*rate(1))
	if !(rate(1) >= 3*rate(0)) {
		t.Errorf("antonyms mark unanswerable questions only %.1f times as often", rate(1)/rate(0))
	}
}

// opposes reports whether the sentence of set lacks one of words but holds
// its antonym.
func opposes(words []string, set map[string]bool) bool {
	for _, w := range words {
		if hasBase(w, set) {
			continue
		}
		for _, a := range Antonyms(w) {
			if set[a] {
				return true
			}
		}
	}
	return false
}
