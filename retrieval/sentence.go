package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is a half-open byte range [Start, End) of a story's body.
type Span struct{ Start, End int }

// SplitParagraphs finds the paragraphs of a story body. Text that separates
// blocks with blank lines (Markdown, hard-wrapped text) has a paragraph per
// block; text without blank lines between its lines, as news feeds deliver
// it, has a paragraph per line. Spans exclude surrounding white space.
func SplitParagraphs(text string) []Span {
	blankSeparated := false
	seenText := false
	blank := false
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) == "" {
			blank = true
			continue
		}
		if seenText && blank {
			blankSeparated = true
			break
		}
		seenText = true
		blank = false
	}

	var spans []Span
	start := -1
	end := 0
	off := 0
	flush := func() {
		if start >= 0 {
			spans = append(spans, trimSpan(text, Span{start, end}))
			start = -1
		}
	}
	for line := range strings.Lines(text) {
		isBlank := strings.TrimSpace(line) == ""
		switch {
		case isBlank:
			flush()
		case !blankSeparated:
			flush()
			start, end = off, off+len(line)
		default:
			if start < 0 {
				start = off
			}
			end = off + len(line)
		}
		off += len(line)
	}
	flush()
	return spans
}

func trimSpan(text string, s Span) Span {
	for s.Start < s.End {
		r, n := utf8.DecodeRuneInString(text[s.Start:s.End])
		if !unicode.IsSpace(r) {
			break
		}
		s.Start += n
	}
	for s.End > s.Start {
		r, n := utf8.DecodeLastRuneInString(text[s.Start:s.End])
		if !unicode.IsSpace(r) {
			break
		}
		s.End -= n
	}
	return s
}

// abbreviations never end a sentence when followed by a period: titles,
// months and the like. Compared in lower case, without the period.
var abbreviations = toSet(
	"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "sen",
	"rep", "gov", "lt", "col", "capt", "sgt", "cpl", "maj", "adm", "cmdr", "pres",
	"supt", "det", "insp", "rev", "hon", "messrs", "mme", "mlle",
	"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
	"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
	"vol", "vols", "pp", "fig", "figs", "ch", "sec", "approx",
	"vs", "v", "cf", "al", "ca", "dept", "univ", "assn", "bros", "ave", "blvd",
)

// sentenceStarters are words that, capitalised after an initialism such as
// "U.S.", show that the initialism ended the sentence ("... in the U.S. The
// next day ..."), where a name would not ("the U.S. Army").
var sentenceStarters = toSet(
	"the", "a", "an", "this", "that", "these", "those", "it", "its", "he", "she",
	"they", "we", "i", "you", "his", "her", "their", "our", "in", "on", "at",
	"but", "and", "or", "so", "yet", "however", "meanwhile", "still", "there",
	"then", "when", "while", "after", "before", "as", "if", "since", "some",
	"many", "most", "both", "all", "one", "two", "three", "what", "who", "why",
	"how", "where", "officials", "according",
)

func toSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// closers may follow a terminator and still belong to the sentence:
// `tolerate an "invasion."` ends after the closing quote, not before it.
func isCloser(r rune) bool {
	switch r {
	case '"', '\'', '”', '’', '»', ')', ']', '}':
		return true
	}
	return false
}

func isOpener(r rune) bool {
	switch r {
	case '"', '\'', '“', '‘', '«', '(', '[', '¿', '¡':
		return true
	}
	return false
}

// SplitSentences splits text[span] into sentences. Spans are byte offsets into
// text, trimmed of white space, and together cover every non-space byte of the
// span. A sentence ends at ".", "!", "?" or "…" (with any closing quotes or
// brackets) followed by white space and a capital, digit or opening quote —
// except after a known abbreviation, a single initial, or an initialism
// followed by a name.
//
// Written here rather than taken from a Punkt implementation: news text needs
// a handful of rules, the rules are testable one by one, and offsets come for
// free. A trained model would still need its abbreviation list extended.
func SplitSentences(text string, span Span) []Span {
	var out []Span
	start := span.Start
	i := span.Start
	for i < span.End {
		r, n := utf8.DecodeRuneInString(text[i:span.End])
		if r != '.' && r != '!' && r != '?' && r != '…' {
			i += n
			continue
		}
		end := i + n
		// Runs such as "?!" or "..." end together.
		for end < span.End {
			r2, n2 := utf8.DecodeRuneInString(text[end:span.End])
			if r2 != '.' && r2 != '!' && r2 != '?' && r2 != '…' {
				break
			}
			end += n2
		}
		for end < span.End {
			r2, n2 := utf8.DecodeRuneInString(text[end:span.End])
			if !isCloser(r2) {
				break
			}
			end += n2
		}
		if isBoundary(text, span, start, i, r, end) {
			if s := trimSentence(text, Span{start, end}); s.Start < s.End {
				out = append(out, s)
			}
			start = end
		}
		i = end
	}
	if s := trimSentence(text, Span{start, span.End}); s.Start < s.End {
		out = append(out, s)
	}
	return out
}

// trimSentence is trimSpan that also leaves out a list item's marker
// ("* ", "- ", "• "): Markdown's structure, not the story's words, and a
// quoted "*" would read as emphasis.
func trimSentence(text string, s Span) Span {
	s = trimSpan(text, s)
	for _, marker := range []string{"* ", "- ", "• ", "+ "} {
		if strings.HasPrefix(text[s.Start:s.End], marker) {
			return trimSpan(text, Span{s.Start + len(marker), s.End})
		}
	}
	return s
}

// isBoundary decides whether the terminator r at text[at] (with closers up to
// end) ends the sentence that began at start.
func isBoundary(text string, span Span, start, at int, r rune, end int) bool {
	// Must be followed by white space (or the end of the span).
	if end == span.End {
		return true
	}
	next, _ := utf8.DecodeRuneInString(text[end:span.End])
	if !unicode.IsSpace(next) {
		return false
	}
	// The next word decides: a lower-case continuation is never a new
	// sentence ("the U.S. in Mexico", `"invasion," he said`).
	j := end
	for j < span.End {
		r2, n2 := utf8.DecodeRuneInString(text[j:span.End])
		if !unicode.IsSpace(r2) {
			break
		}
		j += n2
	}
	if j == span.End {
		return true
	}
	first, _ := utf8.DecodeRuneInString(text[j:span.End])
	if isOpener(first) {
		// Look through the opening quote at the word itself.
		_, n := utf8.DecodeRuneInString(text[j:span.End])
		if j+n < span.End {
			first, _ = utf8.DecodeRuneInString(text[j+n : span.End])
		}
	}
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) && !isOpener(first) {
		return false
	}
	if r != '.' {
		return true
	}
	// Only a period can belong to an abbreviation: look at the word before it.
	word := wordBefore(text, start, at)
	lower := strings.ToLower(word)
	if abbreviations[lower] {
		return false
	}
	if (lower == "no" || lower == "nos") && unicode.IsDigit(first) {
		return false // "No. 5"
	}
	if isInitialism(word) {
		// "U.S." or a lone initial "J." before a capitalised word is
		// usually part of a name, unless that word typically opens a
		// sentence.
		return sentenceStarters[strings.ToLower(nextWord(text[j:span.End]))]
	}
	return true
}

// wordBefore returns the run of letters, digits and periods that ends at at.
func wordBefore(text string, start, at int) string {
	k := at
	for k > start {
		r, n := utf8.DecodeLastRuneInString(text[start:k])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '\'' && r != '’' {
			break
		}
		k -= n
	}
	return strings.Trim(text[k:at], ".")
}

// isInitialism reports single letters ("J") and dotted initialisms ("U.S",
// "D.C") — the forms whose period rarely ends a sentence.
func isInitialism(word string) bool {
	if word == "" {
		return false
	}
	for _, part := range strings.Split(word, ".") {
		if utf8.RuneCountInString(part) != 1 {
			return false
		}
		r, _ := utf8.DecodeRuneInString(part)
		if !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

func nextWord(s string) string {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return isOpener(r) || unicode.IsSpace(r) })
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	if end < 0 {
		return s
	}
	return s[:end]
}
