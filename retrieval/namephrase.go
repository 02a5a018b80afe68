package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SQuAD 2.0's writers also swap the parts of a name: "Rob Curran and Tim
// Machado" for the sentence's "Rob Machado, Tim Curran", "the California
// University" for "the University of California", "Latham Milton" for
// "Senator Milton Latham". Each word is in the sentence, so coverage and
// the missing-name share see nothing amiss; the name itself is in no
// sentence of the story.

// namePhrases are the question's runs of two or more capitalised words
// past its first word, each as the lower-case words words() reads in it.
// A comma, a colon or "and" ends a run: "Los Angeles, Orange and San
// Diego" are three names.
func namePhrases(q string) [][]string {
	var out [][]string
	var run []string
	flush := func() {
		if len(run) >= 2 {
			if ws := words(strings.Join(run, " ")); len(ws) >= 2 {
				out = append(out, ws)
			}
		}
		run = run[:0]
	}
	for i, f := range strings.Fields(q) {
		w := strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		r, _ := utf8.DecodeRuneInString(w)
		if i == 0 || w == "" || !unicode.IsUpper(r) || notNames[strings.ToLower(w)] {
			flush()
			continue
		}
		run = append(run, w)
		if strings.ContainsAny(f[len(f)-1:], ",;:?!)") {
			flush()
		}
	}
	flush()
	return out
}

// scrambledName reports whether one of the question's name phrases has
// every word in sentence g yet is said, in that order, by no sentence of
// g's story.
func (ix *Index) scrambledName(phrases [][]string, g int, sent map[string]bool) bool {
	for _, p := range phrases {
		all := true
		for _, w := range p {
			all = all && sent[w]
		}
		if all && !ix.storySays(g, p) {
			return true
		}
	}
	return false
}

// storySays reports whether a sentence of g's story holds the words p in
// a row.
func (ix *Index) storySays(g int, p []string) bool {
	story := ix.storyOf(g)
	first := g
	for first > 0 && ix.storyOf(first-1) == story {
		first--
	}
	for n := first; n < ix.nSents && ix.storyOf(n) == story; n++ {
		if inARow(words(ix.sentenceText(n)), p) {
			return true
		}
	}
	return false
}

// inARow reports whether p occurs in ws as consecutive words.
func inARow(ws, p []string) bool {
	for i := 0; i+len(p) <= len(ws); i++ {
		j := 0
		for j < len(p) && ws[i+j] == p[j] {
			j++
		}
		if j == len(p) {
			return true
		}
	}
	return false
}
