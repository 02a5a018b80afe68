package retrieval

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/kljensen/snowball/english"
)

// words splits text into lower-case words: runs of letters and digits, with
// possessive "'s" dropped so "Trump's" and "Trump" match.
func words(text string) []string {
	var out []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.ToLower(text[start:end])
		w = withoutPossessive(w)
		w = strings.Trim(w, "'’")
		if w != "" {
			out = append(out, w)
		}
		start = -1
	}
	for i, r := range text {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		// An apostrophe inside a word ("don't", "Trump's") stays in it.
		if (r == '\'' || r == '’') && start >= 0 {
			inWord = true
		}
		if inWord {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return out
}

// stemCache memoises Snowball stems: a corpus repeats its words, and stemming
// is the hot part of indexing. It is bounded: questions bring words without
// end, so past maxStems words it starts over (the hot ones come back at
// once).
var (
	stemCache sync.Map
	stemCount atomic.Int64
)

// maxStems bounds stemCache: English has far fewer distinct words in
// use, and the cache costs about 100 bytes a word.
const maxStems = 200_000

func stem(w string) string {
	if v, ok := stemCache.Load(w); ok {
		return v.(string)
	}
	s, ok := numberWords[w]
	if !ok && keptWhole[w] {
		s, ok = w, true
	}
	if !ok {
		s = english.Stem(w, false)
	}
	if s == "" {
		s = w
	}
	if stemCount.Add(1) > maxStems {
		stemCache.Clear()
		stemCount.Store(1)
	}
	stemCache.Store(w, s)
	return s
}

// withoutPossessive is w without a trailing "'s" ("Trump's" → "Trump").
func withoutPossessive(w string) string {
	return strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
}

// keptWhole are words the stemmer would fold into another of different
// meaning: "deadly stampedes" describes stampedes, "76 dead" counts the
// dead ("how many died in the stampede" was answered from "deadly").
var keptWhole = toSet("deadly")

// numberWords stem a number's words and ordinals to its digits, so that
// "season 3" finds "a third season" and "the 2nd round" "the second round".
// "Seconds" is left alone: it is a span of time. So are "one" and "first":
// "one of", "at first" and "in the first place" count nothing (measured:
// with them, "why were they denied visas in the first place" was answered
// from "twice denied").
var numberWords = func() map[string]string {
	out := map[string]string{}
	cardinals := []string{"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}
	ordinals := []string{"second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth"}
	suffixes := []string{"nd", "rd", "th", "th", "th", "th", "th", "th", "th", "th", "th"}
	for i := range cardinals {
		n := strconv.Itoa(i + 2)
		out[cardinals[i]], out[ordinals[i]], out[n+suffixes[i]] = n, n, n
	}
	return out
}()

// Terms turns text into index terms: words without stop words, stemmed
// ("strikes" → "strike", "favors" → "favor").
func Terms(text string) []string {
	ws := words(text)
	out := ws[:0]
	for _, w := range ws {
		if stopWords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// stopWords carry no topic: function words, question words and the auxiliary
// verbs questions are built from ("who did", "what is").
var stopWords = toSet(
	"a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and",
	"any", "are", "as", "at", "be", "because", "been", "before", "being", "below",
	"between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
	"down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
	"having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how",
	"i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most",
	"my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or",
	"other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should",
	"so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves",
	"then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
	"until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
	"while", "who", "whom", "whose", "why", "will", "with", "would", "you", "your",
	"yours", "yourself", "yourselves", "s", "t", "don't", "doesn't", "didn't", "isn't",
	"wasn't", "aren't", "weren't", "won't", "can't", "according", "said", "says",
	"many", "much", "kind", "type", "name", "named", "called",
	"anyone", "anybody", "anything", "someone", "somebody", "something", "everyone", "everybody", "everything",
	"get", "gets", "got", "gotten", "getting",
)
