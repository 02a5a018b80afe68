package wordvec

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Tokenisation mirrors what the vocabulary holds. GloVe's top ranks, as
// converted, are lower-case ASCII letters and digits, with hyphenated
// compounds ("al-qaeda", "mid-1990s") but no apostrophe forms and no
// single letters. So: lower-case, fold Latin accents to ASCII ("México"
// finds "mexico"), split on anything but letters and digits, and keep '-'
// and apostrophes only between two of them, to resolve below.

// scanner turns texts into table rows. It reuses its buffers, so one
// scanner serves one goroutine.
type scanner struct {
	t    *table
	buf  []byte  // the token being read
	join []byte  // scratch for apostrophe-joined forms
	ids  []int32 // rows of the known words, in text order
}

// scan sets s.ids to the rows of text's known words; unknown words are
// skipped.
func (s *scanner) scan(text string) {
	s.ids = s.ids[:0]
	s.buf = s.buf[:0]
	var pending byte // a joiner ('-' or '\'') seen right after a letter or digit
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r == '-' || r == '\u2010' || r == '\u2011':
			pending = s.joiner(pending, '-')
			continue
		case r == '\'' || r == '\u2019' || r == '\u02bc':
			pending = s.joiner(pending, '\'')
			continue
		case r < utf8.RuneSelf:
			s.flush()
			pending = 0
			continue
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent: drop it, as folding does
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		default:
			s.flush()
			pending = 0
			continue
		}
		if pending != 0 {
			s.buf = append(s.buf, pending)
			pending = 0
		}
		if r < utf8.RuneSelf {
			s.buf = append(s.buf, byte(r))
		} else {
			s.buf = appendFolded(s.buf, unicode.ToLower(r))
		}
	}
	s.flush()
}

// joiner handles a '-' or apostrophe: it joins only when a letter or digit
// is on both sides, so "--", quotes and dangling hyphens split words.
func (s *scanner) joiner(pending, j byte) byte {
	if pending != 0 || len(s.buf) == 0 {
		s.flush()
		return 0
	}
	return j
}

func (s *scanner) flush() {
	if len(s.buf) > 0 {
		s.resolve(s.buf)
		s.buf = s.buf[:0]
	}
}

// resolve looks a token up. Apostrophes first: clitics become the words
// they stand for ("don't" → do not, "they're" → they are), a possessive
// 's is dropped, and any other form ("o'brien") is tried joined, then by
// parts. Then hyphens: a compound the vocabulary knows stays whole
// ("co-operation"), otherwise its parts count ("military-style").
func (s *scanner) resolve(tok []byte) {
	if i := bytes.LastIndexByte(tok, '\''); i >= 0 {
		stem, suffix := tok[:i], tok[i+1:]
		switch string(suffix) {
		case "s":
			s.resolve(stem)
			return
		case "re":
			s.resolve(stem)
			s.word("are")
			return
		case "ll":
			s.resolve(stem)
			s.word("will")
			return
		case "ve":
			s.resolve(stem)
			s.word("have")
			return
		case "m":
			s.resolve(stem)
			s.word("am")
			return
		case "d":
			s.resolve(stem)
			s.word("would")
			return
		case "t":
			if n := len(stem); n >= 2 && stem[n-1] == 'n' {
				switch base := stem[:n-1]; string(base) {
				case "ca":
					s.word("can")
				case "wo":
					s.word("will")
				case "sha":
					s.word("shall")
				default:
					s.resolve(base)
				}
				s.word("not")
				return
			}
		}
		s.join = s.join[:0]
		for _, c := range tok {
			if c != '\'' {
				s.join = append(s.join, c)
			}
		}
		if s.lookup(s.join) {
			return
		}
		for part := range bytes.SplitSeq(tok, []byte{'\''}) {
			s.resolve(part)
		}
		return
	}
	if bytes.IndexByte(tok, '-') >= 0 {
		if s.lookup(tok) {
			return
		}
		for part := range bytes.SplitSeq(tok, []byte{'-'}) {
			s.lookup(part)
		}
		return
	}
	s.lookup(tok)
}

// lookup appends w's row if the table has it.
func (s *scanner) lookup(w []byte) bool {
	id, ok := s.t.index[string(w)]
	if ok {
		s.ids = append(s.ids, id)
	}
	return ok
}

func (s *scanner) word(w string) {
	if id, ok := s.t.index[w]; ok {
		s.ids = append(s.ids, id)
	}
}

// appendFolded appends r, a lower-case letter or digit, with a Latin
// accent or ligature spelt in ASCII.
func appendFolded(b []byte, r rune) []byte {
	switch {
	case 0xdf <= r && r <= 0xff:
		return append(b, latin1Fold[r-0xdf]...)
	case 0x100 <= r && r <= 0x17f:
		return append(b, latinExtAFold[r-0x100]...)
	}
	return utf8.AppendRune(b, r)
}

// latin1Fold spells U+00DF..U+00FF (ß, à..ÿ) in ASCII; ÷ is not a letter.
var latin1Fold = [...]string{
	"ss", "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",
	"i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th",
	"y",
}

// latinExtAFold spells Latin Extended-A, U+0100..U+017F (ā..ž, ł, œ), in
// ASCII.
var latinExtAFold = [...]string{
	"a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
	"d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
	"g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
	"i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
	"l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
	"o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
	"s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
	"u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
}
