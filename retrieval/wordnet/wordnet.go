package wordnet

import (
	"fmt"
	"slices"
	"strings"
)

// The table is generated, and committed so that a plain go build needs no
// WordNet. To regenerate it, install the Debian package (apt-get install
// wordnet-base) and run `go generate` in this directory; the output is
// byte-identical for the same input and flags, which TestTableMatchesSource
// checks. The flags are justified in ./internal/gen.
//
//go:generate go run ./internal/gen -in /usr/share/wordnet -out wordnet.bin.gz -senses 2 -hypersenses 2

// Relation is how two words are linked in WordNet. The zero value is no link.
type Relation uint8

const (
	// Inflection: the words share a base form ("supported", "supports";
	// "went", "go"), including a word and itself.
	Inflection Relation = iota + 1
	// Synonym: the words share a synset that is a kept (common) sense of
	// at least one of them ("back", "support").
	Synonym
	// Antonym: WordNet opposes the words ("official", "unofficial").
	Antonym
	// Derivation: one is derived from the other ("support", "supporter";
	// "bomb", "bombing"; "officially", "official").
	Derivation
	// Hypernym: the second word names a class of the first ("strike" is an
	// "attack"), in one of the first's first senses.
	Hypernym
	// Hyponym: the first word names a class of the second ("attack",
	// "strike"): the inverse of Hypernym.
	Hyponym
	// Coordinate: the words' first senses share a hypernym synset that few
	// words share ("strike" and "bombing" are both an "attack, onslaught"),
	// or two such synsets of one word in different parts of speech ("bomb"
	// is a verb "attack, assail").
	Coordinate
)

// relations lists the links in the order Similar tries them: an antonym
// first, since taking opposites for the same is the worse mistake (4 pairs
// are both, by different senses: father/mother, king/queen,
// hungry/thirsty, ravel/unravel), then the closer link before the looser.
var relations = []Relation{Antonym, Synonym, Derivation, Hypernym, Hyponym, Coordinate}

func (r Relation) String() string {
	switch r {
	case 0:
		return "none"
	case Inflection:
		return "inflection"
	case Synonym:
		return "synonym"
	case Antonym:
		return "antonym"
	case Derivation:
		return "derivation"
	case Hypernym:
		return "hypernym"
	case Hyponym:
		return "hyponym"
	case Coordinate:
		return "coordinate"
	}
	return fmt.Sprintf("Relation(%d)", r)
}

// Load decodes the embedded table, once per process (about 0.1 s; see
// doc.go). The other functions call it; call it yourself at start-up to
// pay the cost there and to see the error, which only a corrupt build can
// cause. The functions below treat a table that fails to load as empty.
func Load() error {
	_, err := loadTable()
	return err
}

func get() *table {
	t, err := loadTable()
	if err != nil {
		return nil
	}
	return t
}

// Lemma returns word's base forms in WordNet, as morphy finds them: the word
// itself if WordNet has it, the forms its exception lists give ("went" →
// "go"), and the forms its suffix rules give that WordNet has ("supported" →
// "support", "cartels" → "cartel"). It returns nil for an unknown word.
func Lemma(word string) []string {
	t := get()
	if t == nil {
		return nil
	}
	var buf [maxBases]int32
	ids := t.bases(normalize(word), buf[:0])
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.words[id]
	}
	return out
}

// IrregularForms returns the forms WordNet's exception lists give word as
// the base of ("lead" → "led"; "find" → "found"), in byte order: what
// Lemma maps back to word without a suffix rule. It returns nil for a word
// without irregular forms or unknown to WordNet.
func IrregularForms(word string) []string {
	t := get()
	if t == nil {
		return nil
	}
	id := t.id(normalize(word))
	if id < 0 {
		return nil
	}
	var out []string
	for _, f := range t.forms.row(id) {
		out = append(out, t.words[f])
	}
	slices.Sort(out)
	return out
}

// Related returns the words that rel links to word or to one of its base
// forms, in byte order, without word and its base forms. For Inflection it
// returns word's other base forms.
func Related(word string, rel Relation) []string {
	t := get()
	if t == nil {
		return nil
	}
	word = normalize(word)
	var buf [maxBases]int32
	ids := t.bases(word, buf[:0])
	if rel == Inflection {
		var out []uint32
		for _, id := range ids {
			if t.words[id] != word {
				out = append(out, uint32(id))
			}
		}
		return t.wordsOf(out)
	}
	out := t.related(ids, rel, nil)
	slices.Sort(out)
	out = slices.Compact(out)
	out = slices.DeleteFunc(out, func(v uint32) bool { return containsID(ids, int32(v)) })
	return t.wordsOf(out)
}

// related appends to dst the words rel links to the words ids, with
// repeats and ids themselves.
func (t *table) related(ids []int32, rel Relation, dst []uint32) []uint32 {
	for _, id := range ids {
		switch rel {
		case Synonym:
			// The other members of id's senses, and the words whose
			// senses id is a member of: see linked.
			for _, s := range t.senses.row(id) {
				dst = append(dst, t.members.row(int32(s>>1))...)
			}
			for _, s := range t.memberOf.row(id) {
				dst = append(dst, t.senseOf.row(int32(s))...)
			}
		case Antonym:
			dst = append(dst, t.ant.row(id)...)
		case Derivation:
			dst = append(dst, t.deriv.row(id)...)
		case Hypernym:
			dst = append(dst, t.hyperWords.row(id)...)
		case Hyponym:
			dst = append(dst, t.hypoWords.row(id)...)
		case Coordinate:
			for _, h := range t.hyper.row(id) {
				t.eachCoordinateClass(h, func(c uint32) bool {
					dst = append(dst, t.hypoSyn.row(int32(c))...)
					return false
				})
			}
		}
	}
	return dst
}

// Link is a word WordNet links to another, and how.
type Link struct {
	Word     string
	Relation Relation
}

// Links returns every word Related gives for word, each with the closest
// relation that gives it, in the order Similar tries them, sorted by Word.
// It is the batch form of Related, for callers that test many words
// against one: build a set from a question word's links once (tens of µs),
// then look sentence words up in it rather than calling Similar per pair.
// Similar(word, l.Word) may report a closer relation than l.Relation, as it
// also takes l.Word's base forms ("hitting" is a noun, and a form of "hit").
func Links(word string) []Link {
	t := get()
	if t == nil {
		return nil
	}
	word = normalize(word)
	var buf [maxBases]int32
	ids := t.bases(word, buf[:0])
	if len(ids) == 0 {
		return nil
	}
	closest := map[uint32]Relation{}
	for _, id := range ids {
		if t.words[id] != word {
			closest[uint32(id)] = Inflection
		}
	}
	var scratch []uint32
	for _, rel := range relations {
		scratch = t.related(ids, rel, scratch[:0])
		for _, v := range scratch {
			if _, ok := closest[v]; !ok && !containsID(ids, int32(v)) {
				closest[v] = rel
			}
		}
	}
	out := make([]Link, 0, len(closest))
	for v, rel := range closest {
		out = append(out, Link{t.words[v], rel})
	}
	slices.SortFunc(out, func(a, b Link) int { return strings.Compare(a.Word, b.Word) })
	return out
}

// Antonyms returns the words WordNet opposes to word: Related(word, Antonym).
func Antonyms(word string) []string { return Related(word, Antonym) }

// Similar reports whether WordNet links a and b and how: Inflection if they
// share a base form, else the first of Antonym, Synonym, Derivation,
// Hypernym (b is a class of a), Hyponym (a is a class of b) and Coordinate
// that links one of a's base forms to one of b's. It does not allocate.
func Similar(a, b string) (Relation, bool) {
	t := get()
	if t == nil {
		return 0, false
	}
	var bufA, bufB [maxBases]int32
	ia := t.bases(normalize(a), bufA[:0])
	ib := t.bases(normalize(b), bufB[:0])
	if len(ia) == 0 || len(ib) == 0 {
		return 0, false
	}
	for _, x := range ia {
		if containsID(ib, x) {
			return Inflection, true
		}
	}
	for _, rel := range relations {
		for _, x := range ia {
			for _, y := range ib {
				if t.linked(x, y, rel) {
					return rel, true
				}
			}
		}
	}
	return 0, false
}

// linked reports whether rel links word x to word y.
func (t *table) linked(x, y int32, rel Relation) bool {
	switch rel {
	case Synonym:
		// Either word's kept senses: a synset may be a common sense of one
		// and a rare, dropped sense of the other.
		for _, s := range t.senses.row(x) {
			if contains(t.members.row(int32(s>>1)), uint32(y)) {
				return true
			}
		}
		for _, s := range t.senses.row(y) {
			if contains(t.members.row(int32(s>>1)), uint32(x)) {
				return true
			}
		}
	case Antonym:
		return contains(t.ant.row(x), uint32(y))
	case Derivation:
		return contains(t.deriv.row(x), uint32(y))
	case Hypernym:
		return contains(t.hyperWords.row(x), uint32(y))
	case Hyponym:
		return contains(t.hyperWords.row(y), uint32(x))
	case Coordinate:
		return t.coordinate(x, y) || t.coordinate(y, x)
	}
	return false
}

// coordinate reports whether one of x's first-sense classes, or its twin in
// another part of speech, is one of y's.
func (t *table) coordinate(x, y int32) bool {
	hy := t.hyper.row(y)
	for _, h := range t.hyper.row(x) {
		if t.eachCoordinateClass(h, func(c uint32) bool { return contains(hy, c) }) {
			return true
		}
	}
	return false
}

// eachCoordinateClass calls fn with hypernym synset h, if specific, and with
// the specific synsets that share a member word with h in another part of
// speech (the verb "attack, assail" and the noun "attack, onslaught"),
// until fn returns true.
func (t *table) eachCoordinateClass(h uint32, fn func(uint32) bool) bool {
	if !t.specific(h) {
		return false
	}
	if fn(h) {
		return true
	}
	for _, m := range t.members.row(int32(h)) {
		for _, s := range t.senses.row(int32(m)) {
			c := s >> 1
			if t.synPos[c] != t.synPos[h] && t.specific(c) && fn(c) {
				return true
			}
		}
	}
	return false
}

// specific reports whether synset h is a first-sense hypernym of few
// enough words to make them coordinate terms.
func (t *table) specific(h uint32) bool {
	return t.hypoSyn.off[h+1]-t.hypoSyn.off[h] <= coordinateLimit
}

// normalize lower-cases ASCII letters, the only case WordNet's lemmas have.
func normalize(w string) string {
	for i := 0; i < len(w); i++ {
		if 'A' <= w[i] && w[i] <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}

func containsID(s []int32, x int32) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
