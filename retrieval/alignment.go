package retrieval

import (
	"context"
	"sync"

	"storybot/retrieval/wordvec"
)

// SQuAD 2.0's unanswerable questions are written from the paragraph that
// does not answer them: they keep its words and change one ("first" for
// "last", another name from the article, an adjective the sentence lacks).
// Exact coverage sees only that most words match. These features look at
// the words one at a time, softly through the word vectors, and at what
// the story holds elsewhere.

// wordTable is the embedded GloVe table, whatever Options.Embedder is: the
// alignment features were fitted with it. It is parsed once and never grows.
var wordTable = sync.OnceValues(wordvec.New)

// contentWord is a question word that counts in coverage.
type contentWord struct {
	word, term string
	idf        float64
}

// contentWords are the question's words outside stop and frame words, one
// per term, with the term's IDF.
func contentWords(qi questionInfo) []contentWord {
	frame := frameWords[qi.kind]
	var out []contentWord
	seen := map[string]bool{}
	for _, w := range qi.allWords {
		if stopWords[w] || frame[w] {
			continue
		}
		t := stem(w)
		if seen[t] {
			continue
		}
		seen[t] = true
		for i, qt := range qi.terms {
			if qt == t {
				out = append(out, contentWord{w, t, qi.weights[i]})
			}
		}
	}
	return out
}

// sentenceWords are the content words of the sentences in gs.
func (ix *Index) sentenceWords(gs ...int) []string {
	var out []string
	for _, g := range gs {
		for _, w := range words(ix.sentenceText(g)) {
			if !stopWords[w] {
				out = append(out, w)
			}
		}
	}
	return out
}

// neighbours are the sentences beside g in its paragraph.
func (ix *Index) neighbours(g int) []int {
	var out []int
	for _, n := range []int{g - 1, g + 1} {
		if n >= 0 && n < len(ix.sentences) && ix.sentences[n].story == ix.sentences[g].story && ix.sentences[n].Paragraph == ix.sentences[g].Paragraph {
			out = append(out, n)
		}
	}
	return out
}

// alignFeatures fills the alignment and perturbation features of f for the
// best candidate.
func (ix *Index) alignFeatures(f *confFeatures, qi questionInfo, cands []candidate) {
	g := cands[0].sentence
	qw := contentWords(qi)
	if len(qw) == 0 {
		return
	}
	sent := ix.sentenceWords(g)
	near := ix.sentenceWords(ix.neighbours(g)...)
	best, bestCtx := ix.align(qw, sent, near)
	total, soft, ctx, unsupported, nearMiss := 0.0, 0.0, 0.0, 0.0, 0.0
	minimum := 1.0
	for i, w := range qw {
		total += w.idf
		soft += w.idf * best[i]
		ctx += w.idf * bestCtx[i]
		minimum = min(minimum, best[i])
		if bestCtx[i] < unsupportedBelow {
			unsupported += w.idf
		}
		if best[i] < 1 && best[i] >= nearMissAbove {
			nearMiss += w.idf
		}
	}
	f[cAlignMin] = minimum
	f[cAlignIDF] = soft / total
	f[cAlignCtx] = ctx / total
	f[cUnsupported] = unsupported / total
	f[cNearMiss] = nearMiss / total

	// A term the sentence and its neighbours lack but the story holds
	// elsewhere: the question swapped in another of the story's things.
	story := ix.sentences[g].story
	around := map[int]bool{g: true}
	for _, n := range ix.neighbours(g) {
		around[n] = true
	}
	elsewhere := 0.0
	for i, w := range qw {
		if bestCtx[i] >= 1 {
			continue
		}
		for _, p := range ix.sentIDF.postings[w.term] {
			if d := int(p.doc); ix.sentences[d].story == story && !around[d] {
				elsewhere += w.idf
				break
			}
		}
	}
	f[cElsewhere] = elsewhere / total

	// A modifier the sentence lacks while it holds the word modified:
	// "the first Polish king" against "the Polish king".
	modifier := 0.0
	for i := 0; i+1 < len(qw); i++ {
		if best[i] < 1 && best[i+1] >= 1 && adjacent(qi.allWords, qw[i].word, qw[i+1].word) {
			modifier += qw[i].idf
		}
	}
	f[cModifier] = modifier / total

	// An antonym (WordNet) of a question word in the sentence, the word
	// itself not: "increase" asked, "decrease" said.
	terms := ix.sentTerms[g]
	for i, w := range qw {
		if best[i] >= 1 {
			continue
		}
		for _, a := range antonymStems(w.word) {
			if contains(terms, a) {
				f[cAntonym] = 1
			}
		}
	}

	// The encoder's view of the best sentence against the other candidates.
	e := cands[0].features[fEncoder]
	others, above := -1.0, 0
	for _, c := range cands[1:] {
		others = max(others, c.features[fEncoder])
		if c.features[fEncoder] > e {
			above++
		}
	}
	if len(cands) > 1 {
		f[cEncGap] = e - others
		f[cEncRank] = float64(above) / float64(len(cands)-1)
	}
	ix.qualifierFeatures(f, qi, g)
	f[cTypeMissing] = b2f(!cands[0].cue && (qi.kind == askWho || qi.kind == askWhen || qi.kind == askNumber || qi.kind == askWhere))
}

// Thresholds of the word-vector cosine: below unsupportedBelow a word is
// not supported by the text; from nearMissAbove to an exact match it is a
// near miss, a word of the same kind that is not the same word.
const (
	unsupportedBelow = 0.35
	nearMissAbove    = 0.5
)

// adjacent reports whether b follows a in ws, with at most one word between.
func adjacent(ws []string, a, b string) bool {
	for i, w := range ws {
		if w != a {
			continue
		}
		for j := i + 1; j < len(ws) && j <= i+2; j++ {
			if ws[j] == b {
				return true
			}
		}
	}
	return false
}

// align is, per question word, its best match among the sentence's words
// and among the sentence's and neighbours' words: 1 for the same term or
// family, else the highest word-vector cosine (0 for words without one).
func (ix *Index) align(qw []contentWord, sent, near []string) (best, bestCtx []float64) {
	best = make([]float64, len(qw))
	bestCtx = make([]float64, len(qw))
	texts := make([]string, 0, len(qw)+len(sent)+len(near))
	for _, w := range qw {
		texts = append(texts, w.word)
	}
	texts = append(append(texts, sent...), near...)
	var vecs [][]float32
	if e, err := wordTable(); err == nil {
		vecs, _ = e.Embed(context.Background(), texts)
	}
	for i, w := range qw {
		for j, s := range texts[len(qw):] {
			var sim float64
			if t := stem(s); t == w.term || sameFamily(t, w.term) {
				sim = 1
			} else if vecs != nil {
				sim = dot(vecs[i], vecs[len(qw)+j])
			}
			if j < len(sent) {
				best[i] = max(best[i], sim)
			}
			bestCtx[i] = max(bestCtx[i], sim)
		}
	}
	return best, bestCtx
}

func dot(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// qualifiers narrow or turn what a sentence says: most are stop words, so
// coverage never sees a question's "only" or "first" that the sentence
// lacks.
var qualifiers = toSet("all", "only", "some", "more", "most", "few", "fewer", "less", "least", "before", "after", "each", "every",
	"any", "both", "above", "below", "under", "over", "first", "last", "second", "third", "fourth", "fifth", "final", "earliest", "latest",
	"many", "none", "always", "never", "not", "no", "without", "largest", "smallest", "highest", "lowest", "biggest", "best", "worst",
	"major", "minor", "main", "primary", "early", "late", "earlier", "later", "former", "current", "previous", "next", "north", "south",
	"east", "west", "northern", "southern", "eastern", "western", "upper", "lower", "inner", "outer", "same", "different", "new", "old")

var countWords = toSet("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty",
	"thirty", "forty", "fifty", "hundred", "hundreds", "thousand", "thousands", "million", "millions", "billion", "billions", "dozen", "half")

// qualifierFeatures: a qualifier or count the question holds that sentence
// g lacks, or a qualifier of the sentence's, just before a question word,
// that the question lacks.
func (ix *Index) qualifierFeatures(f *confFeatures, qi questionInfo, g int) {
	sent := words(ix.sentenceText(g))
	has := toSetOf(sent)
	for _, w := range qi.allWords {
		if qualifiers[w] && !has[w] {
			f[cQualifier] = 1
		}
		if countWords[w] && !has[w] {
			f[cCountWord] = 1
		}
	}
	for i, w := range sent {
		if !qualifiers[w] || qi.lower[w] {
			continue
		}
		for j := i + 1; j < len(sent) && j <= i+2; j++ {
			if !stopWords[sent[j]] && qi.lower[sent[j]] {
				f[cSentQualifier] = 1
			}
		}
	}
}
