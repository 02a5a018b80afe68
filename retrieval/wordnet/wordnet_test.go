package wordnet

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestLoad(t *testing.T) {
	if err := Load(); err != nil {
		t.Fatal(err)
	}
}

// TestIrregularForms: the exception lists read backwards, and every form
// returned lemmatises to the word again.
func TestIrregularForms(t *testing.T) {
	for word, want := range map[string]string{"go": "went", "lead": "led", "find": "found", "mouse": "mice", "good": "better"} {
		got := IrregularForms(word)
		if !slices.Contains(got, want) {
			t.Errorf("IrregularForms(%q) = %q, want it to hold %q", word, got, want)
		}
		for _, f := range got {
			if !slices.Contains(Lemma(f), word) {
				t.Errorf("IrregularForms(%q) holds %q, whose Lemma %q lacks it", word, f, Lemma(f))
			}
		}
	}
	for _, w := range []string{"support", "cartel", "xqzzyv", ""} {
		if got := IrregularForms(w); got != nil {
			t.Errorf("IrregularForms(%q) = %q, want none", w, got)
		}
	}
}

func TestLemma(t *testing.T) {
	for _, c := range []struct {
		word string
		want []string
	}{
		{"supported", []string{"supported", "support"}}, // also an adjective
		{"supports", []string{"support"}},
		{"cartels", []string{"cartel"}},
		{"went", []string{"go"}},    // verb.exc
		{"mice", []string{"mouse"}}, // noun.exc
		{"better", []string{"better", "good", "well"}},
		{"bombing", []string{"bombing", "bomb"}},
		{"strikes", []string{"strike"}},
		{"Strikes", []string{"strike"}}, // upper case is folded
		{"reporters", []string{"reporter"}},
		{"glasses", []string{"glasses", "glass"}},
		{"officially", []string{"officially"}},
		{"the", nil},    // WordNet has no function words
		{"xqzzyv", nil}, // unknown
		{"", nil},
		{"back_up", nil}, // collocations are not kept
		{"miller's", nil},
	} {
		got := Lemma(c.word)
		if !slices.Equal(got, c.want) {
			t.Errorf("Lemma(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

// TestSimilar pins what WordNet 3.0, as cut by internal/gen, links and
// does not link. The misses are WordNet's, not bugs: they say what the
// table cannot do for paraphrase.
func TestSimilar(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want Relation // 0: not linked
	}{
		// "who backs hitting the cartels" / "a faction supports military strikes"
		{"backs", "supports", Synonym},
		{"hitting", "strikes", Synonym},
		{"cartels", "cartel", Inflection},
		{"supported", "supports", Inflection},
		{"went", "go", Inflection},
		{"strike", "strike", Inflection},
		{"favor", "prefer", Synonym},
		{"favors", "favour", Synonym},
		{"position", "post", Hyponym}, // post, noun sense 1, is a position
		{"reporter", "newsman", Synonym},
		{"support", "supporter", Derivation},
		{"supporters", "support", Derivation},
		{"reporter", "report", Derivation},
		{"officially", "official", Derivation}, // an adverb's "derived from"
		{"official", "unofficial", Antonym},
		{"officially", "unofficially", Antonym},
		{"good", "bad", Antonym},
		{"mother", "father", Antonym},   // also synonyms, as verbs ("beget")
		{"strikes", "attack", Hypernym}, // strike, noun sense 2
		{"title", "name", Hypernym},     // title, noun sense 2
		{"attack", "strike", Hyponym},
		{"bombing", "strike", Coordinate}, // both an "attack, onslaught"
		{"bomb", "strike", Coordinate},    // the verb "attack, assail"
		{"bombed", "strikes", Coordinate},
		{"raid", "strike", Coordinate},
		{"bomb", "bombing", Inflection}, // morphy: bombing -> bomb

		// Not linked in WordNet 3.0, or only beyond what is kept.
		{"favor", "support", 0},   // two hops: favor -> approval, approve <- support
		{"reporters", "press", 0}, // press is the "print media", reporter a "communicator"
		{"reporter", "journalist", 0},
		{"position", "title", 0},
		{"position", "job", 0},    // position sense 6 is a job; hypernyms come from the first 2
		{"strike", "apoplexy", 0}, // both an "attack", but different synsets
		{"cartel", "drug", 0},
		{"xqzzyv", "strike", 0},
		{"strike", "", 0},
	} {
		got, ok := Similar(c.a, c.b)
		if got != c.want || ok != (c.want != 0) {
			t.Errorf("Similar(%q, %q) = %v, %v; want %v", c.a, c.b, got, ok, c.want)
		}
	}
}

func TestRelated(t *testing.T) {
	for _, c := range []struct {
		word     string
		rel      Relation
		has, not []string
	}{
		{"supports", Synonym, []string{"back", "endorse", "tolerate"}, []string{"support", "supports"}},
		{"supports", Derivation, []string{"supporter", "supportive"}, nil},
		{"strike", Hypernym, []string{"attack"}, []string{"strike"}},
		{"attack", Hyponym, []string{"strike", "bombing", "raid"}, nil},
		{"bombing", Coordinate, []string{"strike", "raid"}, []string{"bombing", "apoplexy"}},
		{"official", Antonym, []string{"unofficial"}, nil},
		{"went", Inflection, []string{"go"}, []string{"went"}},
		{"Went", Inflection, []string{"go"}, []string{"went"}},
		{"Supporters", Derivation, []string{"support"}, []string{"supporter"}},
		{"reporter", Synonym, []string{"newsman", "newsperson"}, nil},
		{"miller", Hypernym, nil, []string{"dramatist", "playwright"}}, // names are dropped
	} {
		got := Related(c.word, c.rel)
		for _, w := range c.has {
			if !slices.Contains(got, w) {
				t.Errorf("Related(%q, %v) = %q, lacks %q", c.word, c.rel, got, w)
			}
		}
		for _, w := range c.not {
			if slices.Contains(got, w) {
				t.Errorf("Related(%q, %v) = %q, has %q", c.word, c.rel, got, w)
			}
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("Related(%q, %v) = %q: not sorted and unique", c.word, c.rel, got)
		}
	}
	if got := Antonyms("unofficially"); !slices.Equal(got, []string{"officially"}) {
		t.Errorf(`Antonyms("unofficially") = %q, want [officially]`, got)
	}
	for _, rel := range []Relation{0, Relation(99)} {
		if got := Related("strike", rel); got != nil {
			t.Errorf("Related(strike, %v) = %q, want nil", rel, got)
		}
	}
	if got := Related("xqzzyv", Synonym); got != nil {
		t.Errorf("Related of an unknown word = %q", got)
	}
}

// TestRelatedAgreesWithSimilar checks the two views of the table against
// each other over every third word: each word Related returns is one Similar
// links, and the lexical relations are symmetric.
func TestRelatedAgreesWithSimilar(t *testing.T) {
	tb, err := loadTable()
	if err != nil {
		t.Fatal(err)
	}
	step := 3 // every word takes ~50 s under -race on two cores
	if testing.Short() {
		step = 17
	}
	checked := 0
	for i := 0; i < len(tb.words); i += step {
		a := tb.words[i]
		for _, rel := range []Relation{Synonym, Antonym, Derivation, Hypernym, Hyponym, Coordinate} {
			for _, b := range Related(a, rel) {
				checked++
				if _, ok := Similar(a, b); !ok {
					t.Fatalf("%q is in Related(%q, %v) but Similar(%[2]q, %[1]q) is false", b, a, rel)
				}
				if rel == Antonym || rel == Derivation || rel == Synonym {
					if _, ok := Similar(b, a); !ok {
						t.Fatalf("Similar(%q, %q) is false though %[2]q's %v include %[1]q", b, a, rel)
					}
				}
			}
		}
	}
	t.Logf("%d links checked", checked)
}

func TestLinks(t *testing.T) {
	links := Links("strikes")
	got := map[string]Relation{}
	for i, l := range links {
		if i > 0 && links[i-1].Word >= l.Word {
			t.Fatalf("Links not sorted and unique at %d: %v", i, links[i-1:i+1])
		}
		got[l.Word] = l.Relation
	}
	for w, want := range map[string]Relation{"strike": Inflection, "hit": Synonym, "striker": Derivation, "attack": Hypernym, "walkout": Hyponym, "bombing": Coordinate} {
		if got[w] != want {
			t.Errorf("Links(strikes)[%q] = %v, want %v", w, got[w], want)
		}
	}
	// Similar links each pair, as closely or closer.
	order := append([]Relation{Inflection}, relations...)
	for _, l := range links {
		r, ok := Similar("strikes", l.Word)
		if !ok || slices.Index(order, r) > slices.Index(order, l.Relation) {
			t.Errorf("Links(strikes) has %q as %v, Similar says %v, %v", l.Word, l.Relation, r, ok)
		}
	}
	if got := Links("xqzzyv"); got != nil {
		t.Errorf("Links of an unknown word = %v", got)
	}
}

func TestRelationString(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range append([]Relation{0, Inflection}, relations...) {
		s := r.String()
		if seen[s] || strings.HasPrefix(s, "Relation(") {
			t.Errorf("Relation %d: name %q repeated or missing", r, s)
		}
		seen[s] = true
	}
	if got := Relation(99).String(); got != "Relation(99)" {
		t.Errorf("Relation(99).String() = %q", got)
	}
}

// TestConcurrent runs the first load and lookups from many goroutines;
// run it with -race. Each goroutine must see what one goroutine sees.
func TestConcurrent(t *testing.T) {
	words := []string{"strikes", "supported", "bombing", "official", "went", "reporters", "position", "favor"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([][]string, 8)
	for g := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var out []string
			for i := range 200 {
				w := words[(g+i)%len(words)]
				r, _ := Similar(w, words[(g+i+1)%len(words)])
				if i < len(words) {
					out = append(out, strings.Join(Related(w, Synonym), ","), strings.Join(Lemma(w), ","), r.String())
				}
			}
			results[g] = out
		}()
	}
	close(start)
	wg.Wait()
	for g := range results {
		for i, got := range results[g] {
			w := words[(g+i/3)%len(words)]
			var want string
			switch i % 3 {
			case 0:
				want = strings.Join(Related(w, Synonym), ",")
			case 1:
				want = strings.Join(Lemma(w), ",")
			case 2:
				r, _ := Similar(w, words[(g+i/3+1)%len(words)])
				want = r.String()
			}
			if got != want {
				t.Errorf("goroutine %d result %d for %q: %q, want %q", g, i, w, got, want)
			}
		}
	}
}

func TestParseRejectsBadTables(t *testing.T) {
	raw := gunzip(t, tableData)
	body := raw[:len(raw)-4]

	flipped := slices.Clone(raw)
	flipped[len(flipped)/2] ^= 0x40
	otherVersion := slices.Clone(body)
	otherVersion[len(tableMagic)] = tableVersion + 1
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"not gzip", []byte("WORDNET"), "gunzip"},
		{"truncated gzip", tableData[:len(tableData)/2], "unexpected EOF"},
		{"flipped bit", gzipBytes(t, flipped), "checksum mismatch"},
		{"other version", gzipBytes(t, withCRC(otherVersion)), "version 2"},
		{"bad magic", gzipBytes(t, withCRC(append([]byte("WORDVEC\x00"), body[8:]...))), "bad magic"},
		{"cut body", gzipBytes(t, withCRC(body[:len(body)/3])), ""},
		{"empty", gzipBytes(t, nil), "truncated"},
	} {
		_, err := parseTable(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestParseSurvivesCorruptBodies changes bytes of the table behind a valid
// checksum, as a bug in gen could: parsing must fail or succeed, never
// panic, and never hand out ids outside the table.
func TestParseSurvivesCorruptBodies(t *testing.T) {
	body := gunzip(t, tableData)
	body = body[:len(body)-4]
	rng := rand.New(rand.NewPCG(1, 2))
	for range 12 {
		b := slices.Clone(body)
		at := len(tableMagic) + rng.IntN(len(b)-len(tableMagic))
		b[at] = byte(rng.Uint32())
		tb, err := parseTable(gzipBytes(t, withCRC(b)))
		if err != nil {
			continue
		}
		for w := 0; w < len(tb.words); w += 50 {
			for _, rel := range relations {
				var buf [maxBases]int32
				for _, v := range tb.related(tb.bases(tb.words[w], buf[:0]), rel, nil) {
					if int(v) >= len(tb.words) {
						t.Fatalf("byte %d changed: %v of %q gives id %d of %d", at, rel, tb.words[w], v, len(tb.words))
					}
				}
			}
		}
	}
}

func withCRC(body []byte) []byte {
	return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
