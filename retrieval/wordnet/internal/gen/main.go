// Command gen converts WordNet 3.0's database files into the compact table
// that package wordnet embeds.
//
// The input is the Debian package wordnet-base (apt-get install
// wordnet-base), which installs the Princeton files under /usr/share/wordnet.
// From retrieval/wordnet:
//
//	go run ./internal/gen -in /usr/share/wordnet -out wordnet.bin.gz
//
// The output is deterministic: the same input and flags give the same bytes
// (the gzip header carries no name and no time).
//
// What is kept, and why:
//
//   - Lemmas storybot's tokeniser can produce: lower-case ASCII letters and
//     digits only. Collocations ("back_up"), hyphenated and apostrophe forms
//     can never match a single token, so they are dropped, as targets too.
//   - A lemma's senses are the ones SemCor saw (index.*'s tagsense_cnt, which
//     WordNet lists first, by frequency), and always the first sense, at
//     most -senses of them per part of speech. Untagged senses are the rare
//     ones ("strike" as a bowling score): they add links a reader would not
//     make. When the first sense is a name, the first common sense stands in
//     for it. -senses 2 was chosen on the even-numbered XQuAD articles
//     (TestLinksFavourAnswerSentences' measure: a question word missing from
//     a sentence but linked to one of its words, answer sentence against the
//     paragraph's others): synonym lift 3.21 at 7.4% of answer sentences,
//     against 3.65 at 6.1% (-senses 1), 3.05 at 7.9% (3) and 2.65 at 8.7%
//     (all tagged senses); 2 and 3 carry the most information (mutual
//     information 0.00365 and 0.00366 nats, all: 0.00326), 2 the higher lift.
//   - Proper-noun senses are dropped (a member written with a capital in
//     data.*: "Miller" the playwright), and so are instance hypernyms: names
//     are what questions ask about, and must not match their category.
//   - Hypernyms come from a lemma's first -hypersenses kept senses per part
//     of speech. 2 keeps "strike" (noun sense 2) an "attack" and "title"
//     (noun sense 2) a "name" and gives "strike" 5 hypernym words; taking
//     all tagged senses gives it 31 ("make", "happen", "show", ...) for
//     0.9% more bytes, and is what "position" (sense 6) needs to be a "job".
//     On the even XQuAD articles, hypernym lift is 1.76 (-hypersenses 1),
//     1.67 (2), 1.33 (4), 1.26 (all), and the links found grow with n.
//
// The format (version 1) must match parse in ../../table.go. All integers
// are unsigned varints; the whole payload is gzipped.
//
//	magic     "WORDNET\x00"
//	version   1
//	nwords    then per word, in byte order: length, bytes
//	nsynsets  then per synset: pos (1 n, 2 v, 3 a, 4 r), nmembers, member
//	          word ids (ascending)
//	per word: nsenses, then per sense: synset id<<1 | 1 if its hypernyms
//	          count (a first sense); nhyper, hypernym synset ids of its
//	          first senses; nderiv, derivation targets; nant, antonyms;
//	          nbase, the base forms its exception lists give
//	crc       CRC-32C of the payload before it, as 4 little-endian bytes
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "/usr/share/wordnet", "directory holding WordNet 3.0's data.*, index.* and *.exc")
	out := flag.String("out", "wordnet.bin.gz", "output table")
	maxSenses := flag.Int("senses", 0, "keep at most n senses of a lemma per part of speech, 0 for all tagged ones")
	hyperSenses := flag.Int("hypersenses", 2, "take hypernyms from a lemma's first n kept senses per part of speech")
	flag.Parse()
	log.SetFlags(0)
	b, st, err := Build(*in, *maxSenses, *hyperSenses)
	if err != nil {
		log.Fatalf("gen: %v", err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatalf("gen: %v", err)
	}
	log.Printf("wrote %s: %d bytes gzipped, %d bytes raw", *out, len(b), st.raw)
	log.Printf("%d words (%d with senses), %d synsets, %d senses, %d first senses", st.words, st.lemmas, st.synsets, st.senses, st.first)
	log.Printf("links: %d synonym pairs (word, other member), %d hypernym synsets, %d derivations, %d antonyms, %d exception forms",
		st.synonyms, st.hypers, st.derivs, st.ants, st.excs)
}

// pos is a part of speech in the table's numbering.
type pos uint8

const (
	noun pos = 1 + iota
	verb
	adj
	adv
)

var posFiles = []struct {
	p    pos
	name string
}{{noun, "noun"}, {verb, "verb"}, {adj, "adj"}, {adv, "adv"}}

func posOf(c byte) (pos, bool) {
	switch c {
	case 'n':
		return noun, true
	case 'v':
		return verb, true
	case 'a', 's':
		return adj, true
	case 'r':
		return adv, true
	}
	return 0, false
}

type synsetKey struct {
	p   pos
	off int
}

type pointer struct {
	sym    string
	target synsetKey
	src    int // 1-based source word, 0 for a semantic pointer
	dst    int
}

type member struct {
	lemma  string // lower case, as in index.*
	proper bool   // written with a capital in data.*
}

type synset struct {
	key     synsetKey
	members []member
	ptrs    []pointer
}

type stats struct {
	raw, words, lemmas, synsets, senses, first int
	synonyms, hypers, derivs, ants, excs       int
}

// Build reads WordNet from dir and returns the gzipped table.
func Build(dir string, maxSenses, hyperSenses int) ([]byte, stats, error) {
	var st stats
	synsets := map[synsetKey]*synset{}
	for _, f := range posFiles {
		if err := readData(filepath.Join(dir, "data."+f.name), f.p, synsets); err != nil {
			return nil, st, err
		}
	}
	type sense struct {
		key   synsetKey
		first bool
	}
	senses := map[string][]sense{} // lemma -> kept senses, n v a r, by frequency
	for _, f := range posFiles {
		err := eachLine(filepath.Join(dir, "index."+f.name), func(line string) error {
			if strings.HasPrefix(line, " ") {
				return nil // the licence header
			}
			fs := strings.Fields(line)
			if len(fs) < 6 {
				return fmt.Errorf("short index line %q", line)
			}
			lemma := fs[0]
			if !tokenizable(lemma) {
				return nil
			}
			pcnt, err := strconv.Atoi(fs[3])
			if err != nil || 4+pcnt+2 > len(fs) {
				return fmt.Errorf("bad pointer count in %q", line)
			}
			rest := fs[4+pcnt:]
			nsense, err1 := strconv.Atoi(rest[0])
			tagged, err2 := strconv.Atoi(rest[1])
			offs := rest[2:]
			if err1 != nil || err2 != nil || nsense != len(offs) {
				return fmt.Errorf("bad sense counts in %q", line)
			}
			firsts := 0
			for i, o := range offs {
				if i >= tagged && firsts > 0 {
					break // the rest are untagged, and this part of speech has a sense
				}
				if maxSenses > 0 && firsts == maxSenses {
					break
				}
				off, err := strconv.Atoi(o)
				if err != nil {
					return fmt.Errorf("bad offset in %q", line)
				}
				k := synsetKey{f.p, off}
				ss := synsets[k]
				if ss == nil {
					return fmt.Errorf("%s sense %d: no synset %v", lemma, i+1, k)
				}
				m := memberIndex(ss, lemma)
				if m < 0 {
					return fmt.Errorf("%s is not in its synset %v", lemma, k)
				}
				if ss.members[m].proper {
					continue // a name's sense; the next one may be common
				}
				senses[lemma] = append(senses[lemma], sense{k, firsts < hyperSenses})
				firsts++
			}
			return nil
		})
		if err != nil {
			return nil, st, err
		}
	}

	// Exceptions: inflected form -> base forms, all parts of speech.
	bases := map[string][]string{}
	for _, f := range posFiles {
		err := eachLine(filepath.Join(dir, f.name+".exc"), func(line string) error {
			fs := strings.Fields(line)
			if len(fs) < 2 {
				return fmt.Errorf("short exception line %q", line)
			}
			if !tokenizable(fs[0]) {
				return nil
			}
			for _, b := range fs[1:] {
				if tokenizable(b) && senses[b] != nil && b != fs[0] && !slices.Contains(bases[fs[0]], b) {
					bases[fs[0]] = append(bases[fs[0]], b)
				}
			}
			return nil
		})
		if err != nil {
			return nil, st, err
		}
	}

	// Which synsets and words the table holds.
	keepSynset := map[synsetKey]bool{}
	for _, ss := range senses {
		for _, s := range ss {
			keepSynset[s.key] = true
			if s.first {
				for _, h := range hypernyms(synsets[s.key]) {
					keepSynset[h] = true
				}
			}
		}
	}
	wordSet := map[string]bool{}
	for l := range senses {
		wordSet[l] = true
	}
	for k := range keepSynset {
		for _, m := range synsets[k].members {
			if usable(m) {
				wordSet[m.lemma] = true
			}
		}
	}
	// Lexical links, from kept senses only.
	derivs := map[string][]string{}
	ants := map[string][]string{}
	for l, ss := range senses {
		for _, s := range ss {
			syn := synsets[s.key]
			self := memberIndex(syn, l) + 1
			for _, p := range syn.ptrs {
				var into map[string][]string
				switch p.sym {
				case "+", "\\":
					into = derivs
				case "!":
					into = ants
				default:
					continue
				}
				if p.src != self {
					continue
				}
				t := synsets[p.target]
				if t == nil || p.dst < 1 || p.dst > len(t.members) {
					return nil, st, fmt.Errorf("%s: bad pointer %+v", l, p)
				}
				m := t.members[p.dst-1]
				if !usable(m) || m.lemma == l || slices.Contains(into[l], m.lemma) {
					continue
				}
				into[l] = append(into[l], m.lemma)
				wordSet[m.lemma] = true
			}
		}
	}
	// WordNet pairs its lexical pointers, but keeping senses per word can
	// drop one half: make both relations symmetric, then order them.
	for _, rel := range []map[string][]string{derivs, ants} {
		for l, ts := range rel {
			for _, t := range ts {
				if !slices.Contains(rel[t], l) {
					rel[t] = append(rel[t], l)
				}
			}
		}
		for _, ts := range rel {
			slices.Sort(ts)
		}
	}
	for f := range bases {
		wordSet[f] = true
	}

	words := make([]string, 0, len(wordSet))
	for w := range wordSet {
		words = append(words, w)
	}
	slices.Sort(words)
	wordID := make(map[string]int, len(words))
	for i, w := range words {
		wordID[w] = i
	}
	keys := make([]synsetKey, 0, len(keepSynset))
	for k := range keepSynset {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b synsetKey) int {
		if a.p != b.p {
			return int(a.p) - int(b.p)
		}
		return a.off - b.off
	})
	synID := make(map[synsetKey]int, len(keys))
	for i, k := range keys {
		synID[k] = i
	}

	var buf []byte
	uv := func(x int) { buf = binary.AppendUvarint(buf, uint64(x)) }
	buf = append(buf, "WORDNET\x00"...)
	uv(1)
	uv(len(words))
	for _, w := range words {
		uv(len(w))
		buf = append(buf, w...)
	}
	uv(len(keys))
	for _, k := range keys {
		var ids []int
		for _, m := range synsets[k].members {
			if usable(m) {
				ids = append(ids, wordID[m.lemma])
			}
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		buf = append(buf, byte(k.p))
		uv(len(ids))
		for _, id := range ids {
			uv(id)
		}
		st.synonyms += len(ids) * max(len(ids)-1, 0)
	}
	ids := func(ws []string) {
		uv(len(ws))
		for _, w := range ws {
			uv(wordID[w])
		}
	}
	for _, w := range words {
		ss := senses[w]
		uv(len(ss))
		var hyper []int
		for _, s := range ss {
			x := synID[s.key] << 1
			if s.first {
				x |= 1
				st.first++
				for _, h := range hypernyms(synsets[s.key]) {
					if !slices.Contains(hyper, synID[h]) {
						hyper = append(hyper, synID[h])
					}
				}
			}
			uv(x)
		}
		uv(len(hyper))
		for _, h := range hyper {
			uv(h)
		}
		ids(derivs[w])
		ids(ants[w])
		ids(bases[w])
		if len(ss) > 0 {
			st.lemmas++
		}
		st.senses += len(ss)
		st.hypers += len(hyper)
		st.derivs += len(derivs[w])
		st.ants += len(ants[w])
		if len(bases[w]) > 0 {
			st.excs++
		}
	}
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, crc32.MakeTable(crc32.Castagnoli)))
	st.raw = len(buf)
	st.words = len(words)
	st.synsets = len(keys)

	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, st, err
	}
	if _, err := zw.Write(buf); err != nil {
		return nil, st, err
	}
	if err := zw.Close(); err != nil {
		return nil, st, err
	}
	return out.Bytes(), st, nil
}

// hypernyms lists the synsets ss is a kind of ("@"), not the classes it is
// an instance of ("@i", which only names have).
func hypernyms(ss *synset) []synsetKey {
	var out []synsetKey
	for _, p := range ss.ptrs {
		if p.sym == "@" {
			out = append(out, p.target)
		}
	}
	return out
}

func usable(m member) bool { return !m.proper && tokenizable(m.lemma) }

// memberIndex returns the position of lemma in ss, preferring its common
// spelling: a synset may hold both ("Z", "z").
func memberIndex(ss *synset, lemma string) int {
	at := -1
	for i, m := range ss.members {
		if m.lemma == lemma {
			if !m.proper {
				return i
			}
			if at < 0 {
				at = i
			}
		}
	}
	return at
}

// tokenizable reports whether storybot's tokeniser can produce w as one
// word: lower-case ASCII letters and digits.
func tokenizable(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// readData parses one data.* file:
//
//	offset lex_filenum ss_type w_cnt [word lex_id]... p_cnt [ptr]... [frames] | gloss
func readData(path string, p pos, into map[synsetKey]*synset) error {
	return eachLine(path, func(line string) error {
		if strings.HasPrefix(line, " ") {
			return nil
		}
		head, _, _ := strings.Cut(line, " | ")
		fs := strings.Fields(head)
		bad := func(what string) error { return fmt.Errorf("%s in %q", what, line) }
		if len(fs) < 4 {
			return bad("short line")
		}
		off, err := strconv.Atoi(fs[0])
		if err != nil {
			return bad("bad offset")
		}
		wcnt, err := strconv.ParseInt(fs[3], 16, 0)
		if err != nil || 4+2*int(wcnt)+1 > len(fs) {
			return bad("bad word count")
		}
		ss := &synset{key: synsetKey{p, off}}
		for i := 0; i < int(wcnt); i++ {
			w := fs[4+2*i]
			if j := strings.IndexByte(w, '('); j > 0 { // adjective marker: "galore(ip)"
				w = w[:j]
			}
			low := strings.ToLower(w)
			ss.members = append(ss.members, member{lemma: low, proper: low != w})
		}
		at := 4 + 2*int(wcnt)
		pcnt, err := strconv.Atoi(fs[at])
		if err != nil || at+1+4*pcnt > len(fs) {
			return bad("bad pointer count")
		}
		for i := 0; i < pcnt; i++ {
			f := fs[at+1+4*i:]
			tp, ok := posOf(f[2][0])
			toff, err := strconv.Atoi(f[1])
			st, err2 := strconv.ParseUint(f[3], 16, 16)
			if !ok || err != nil || err2 != nil {
				return bad("bad pointer")
			}
			ss.ptrs = append(ss.ptrs, pointer{sym: f[0], target: synsetKey{tp, toff}, src: int(st >> 8), dst: int(st & 0xff)})
		}
		into[ss.key] = ss
		return nil
	})
}

func eachLine(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(sc.Text()); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
