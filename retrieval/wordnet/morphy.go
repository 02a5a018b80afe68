package wordnet

// Morphy: WordNet's own lemmatiser (morph.c, "morphy(7WN)"). A word's base
// forms are the word itself, what the exception lists give for it, and what
// stripping a part of speech's inflectional suffix gives, each kept only if
// WordNet has it in that part of speech.

// Parts of speech, numbered as in the table.
const (
	posNoun = 1 + iota
	posVerb
	posAdj
	posAdv
)

// maxBases bounds a word's base forms; no English form has more than a few
// ("saw": saw, see; "axes": axe, ax, axis).
const maxBases = 8

type suffixRule struct {
	pos          uint8
	suffix, base string
}

// morphRules are morph.c's detachment rules, in its order.
var morphRules = []suffixRule{
	{posNoun, "s", ""}, {posNoun, "ses", "s"}, {posNoun, "xes", "x"}, {posNoun, "zes", "z"},
	{posNoun, "ches", "ch"}, {posNoun, "shes", "sh"}, {posNoun, "men", "man"}, {posNoun, "ies", "y"},
	{posVerb, "s", ""}, {posVerb, "ies", "y"}, {posVerb, "es", "e"}, {posVerb, "es", ""},
	{posVerb, "ed", "e"}, {posVerb, "ed", ""}, {posVerb, "ing", "e"}, {posVerb, "ing", ""},
	{posAdj, "er", ""}, {posAdj, "est", ""}, {posAdj, "er", "e"}, {posAdj, "est", "e"},
}

// bases appends the ids of w's base forms to dst, the word itself first.
// It allocates only for a candidate form, on the stack when short.
func (t *table) bases(w string, dst []int32) []int32 {
	add := func(id int32) {
		if id >= 0 && len(dst) < maxBases && !containsID(dst, id) {
			dst = append(dst, id)
		}
	}
	id := t.id(w)
	if id >= 0 {
		if t.posMask[id] != 0 {
			add(id)
		}
		for _, b := range t.base.row(id) {
			add(int32(b))
		}
	}
	var buf [64]byte
	for _, r := range morphRules {
		n := len(w) - len(r.suffix)
		if n <= 0 || w[n:] != r.suffix || n+len(r.base) > len(buf) {
			continue
		}
		cand := append(append(buf[:0], w[:n]...), r.base...)
		// A map lookup keyed by string(bytes) does not allocate.
		if c, ok := t.index[string(cand)]; ok && t.posMask[c]&(1<<r.pos) != 0 {
			add(c)
		}
	}
	return dst
}
