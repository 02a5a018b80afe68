package retrieval

import (
	"errors"
	"fmt"
	"iter"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxQuestionRunes bounds a question. Real questions are a sentence or two;
// the bound keeps a pasted wall of text from becoming a very slow query.
const MaxQuestionRunes = 1000

// Errors for questions that cannot be asked. They are meant to be shown to
// the person who asked.
var (
	ErrEmptyQuestion   = errors.New("the question is empty")
	ErrQuestionTooLong = fmt.Errorf("the question is longer than %d characters", MaxQuestionRunes)
	ErrInvalidText     = errors.New("the question is not valid UTF-8 text")
	ErrNoWords         = errors.New("the question has no words to look up (only emoji, symbols or punctuation); ask it in words")
)

// CleanQuestion checks a question and normalises its white space. Invisible
// formatting characters (zero-width joiners, direction marks) are dropped so
// they cannot hide words from the index.
func CleanQuestion(q string) (string, error) {
	if !utf8.ValidString(q) {
		return "", ErrInvalidText
	}
	q = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, q)
	q = strings.Join(strings.Fields(q), " ")
	if q == "" {
		return "", ErrEmptyQuestion
	}
	if utf8.RuneCountInString(q) > MaxQuestionRunes {
		return "", ErrQuestionTooLong
	}
	if len(words(q)) == 0 {
		return "", ErrNoWords
	}
	return q, nil
}

// questionType is what kind of answer a question wants, read from its wh-word.
type questionType int

const (
	askOther    questionType = iota
	askWho                   // a person or organisation
	askWhen                  // a date or time
	askNumber                // how many, how much
	askWhy                   // a reason
	askWhere                 // a place
	askName                  // what something is called
	askExample               // an example or instance of something
	askOverview              // a summary of the story
	askMeta                  // who published the story, when, where from
	askStance                // what someone thinks, says or wants; who backs what
	askRole                  // who someone is: their title or job
	askYesNo                 // is/does/did …: the sentences that decide it
	askPeople                // who the story names: its people, each cited
)

var (
	whenQuestion    = regexp.MustCompile(`(?i)\b(when|what (year|date|day|month|time|century|decade)|which (year|date|day|month|century|decade)|how long ago)\b`)
	numberQuestion  = regexp.MustCompile(`(?i)\b(how (many|much|long|far|close|near|old|large|big|high|tall)|what (number|percentage|percent|amount|proportion))\b`)
	nameQuestion    = regexp.MustCompile(`(?i)\b(called|known as|referred to|refer to|another (name|term|word)|(name|term|word) for|(what|which) (name|term)|nicknamed?)\b`)
	exampleQuestion = regexp.MustCompile(`(?i)\b(an example|example of|one example|instance of|name one|name an?)\b`)
	whoQuestion     = regexp.MustCompile(`(?i)\b(who|whom|whose|which (person|people|official|officials|organi[sz]ation|group|company|agency|country|newspaper|paper|outlet|network|publication|magazine|channel|broadcaster|firm|team|party|university|uni))\b`)
	// answerTypeQuestion: "which newspaper …" names what the answer is; the
	// sentence that answers names the newspaper, not the word.
	answerTypeQuestion = regexp.MustCompile(`(?i)\b(?:which|what) (person|people|official|officials|organi[sz]ation|group|company|agency|country|newspaper|paper|outlet|network|publication|magazine|channel|broadcaster|firm|team|party|university|uni)\b`)
)

func classify(q string) questionType {
	lower := strings.ToLower(q)
	switch {
	case whenQuestion.MatchString(q):
		return askWhen
	case numberQuestion.MatchString(q):
		return askNumber
	case nameQuestion.MatchString(q):
		return askName
	case exampleQuestion.MatchString(q):
		return askExample
	case whoQuestion.MatchString(q):
		return askWho
	case strings.Contains(lower, "why"), strings.Contains(lower, "what reason"), strings.Contains(lower, "for what purpose"):
		return askWhy
	case strings.HasPrefix(lower, "where") || strings.Contains(lower, " where "):
		return askWhere
	}
	return askOther
}

var (
	datePattern    = regexp.MustCompile(`\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b|\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|century|decade|centuries)\b`)
	numberPattern  = regexp.MustCompile(`(?i)\b[0-9][0-9,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|half|several|percent)\b`)
	reasonPattern  = regexp.MustCompile(`(?i)\b(because|due to|since|so that|in order to|as a result|reason|owing to|thanks to|led to|caused|result of|in response|to avoid|aimed|so as to)\b`)
	namingPattern  = regexp.MustCompile(`(?i)\b(called|known as|named|termed|referred to as|nicknamed|dubbed|also)\b|\(|"|“`)
	examplePattern = regexp.MustCompile(`(?i)\b(example|for instance|such as|include|includes|including|e\.g\.)\b`)
	placePattern   = regexp.MustCompile(`\b(in|at|near|from|to|on|across|outside|inside)\s+(the\s+)?[A-Z][\p{L}]+`)
)

// hasAnswerCue reports whether a sentence holds the kind of thing the
// question asks for, not counting words the question already has: "Who is
// Miller?" is not answered by a sentence whose only name is Miller.
func hasAnswerCue(t questionType, sentence string, questionWords map[string]bool) bool {
	switch t {
	case askWho:
		return hasNewName(sentence, questionWords)
	case askWhen:
		return anyNew(datePattern.FindAllString(sentence, -1), questionWords)
	case askNumber:
		return anyNew(numberPattern.FindAllString(sentence, -1), questionWords)
	case askWhy:
		return reasonPattern.MatchString(sentence) ||
			(questionWords["risk"] || questionWords["happens"] || questionWords["happen"] || questionWords["consequences"] || questionWords["effect"] || questionWords["impact"]) && consequencePattern.MatchString(sentence)
	case askStance:
		return stancePattern.MatchString(sentence)
	case askRole:
		return hasRoleCue(sentence, questionWords)
	case askWhere:
		return placePattern.MatchString(sentence)
	case askName:
		return namingPattern.MatchString(sentence)
	case askExample:
		return examplePattern.MatchString(sentence)
	}
	return false
}

func anyNew(found []string, questionWords map[string]bool) bool {
	for _, f := range found {
		if !questionWords[strings.ToLower(f)] {
			return true
		}
	}
	return false
}

// hasNewName looks for a capitalised word past the sentence's first word
// that the question does not contain: a cheap stand-in for a named entity.
func hasNewName(sentence string, questionWords map[string]bool) bool {
	for lw := range capitalisedWords(sentence, false) {
		if !questionWords[lw] {
			return true
		}
	}
	return false
}

// capitalisedWords yields, lower-cased and without a possessive 's, each
// word past the text's first that starts with a capital letter and is not
// a capitalised common word (notNames). The word is trimmed of everything
// but letters, and of everything but letters and digits with digits set.
func capitalisedWords(text string, digits bool) iter.Seq[string] {
	trim := func(r rune) bool { return !unicode.IsLetter(r) && (!digits || !unicode.IsDigit(r)) }
	return func(yield func(string) bool) {
		for i, f := range strings.Fields(text) {
			w := strings.TrimFunc(f, trim)
			if i == 0 || w == "" {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) {
				continue
			}
			lw := strings.ToLower(withoutPossessive(w))
			if notNames[lw] {
				continue
			}
			if !yield(lw) {
				return
			}
		}
	}
}

// notNames are capitalised words that are rarely the answer to "who".
var notNames = toSet("i", "the", "a", "an", "in", "on", "but", "and", "as", "at",
	"january", "february", "march", "april", "may", "june", "july", "august",
	"september", "october", "november", "december", "monday", "tuesday",
	"wednesday", "thursday", "friday", "saturday", "sunday")

// name is the kind as Answer.Kind reports it.
func (t questionType) name() string {
	switch t {
	case askOverview:
		return "overview"
	case askMeta:
		return "meta"
	case askStance:
		return "stance"
	case askRole:
		return "role"
	case askYesNo:
		return "yesno"
	case askWhy:
		return "reason"
	case askPeople:
		return "people"
	}
	return "factoid"
}

// chatWords spell out what people abbreviate or misspell in chat so often
// that no story holds the short form: "ppl", "teh", "whats". The question is
// read with the long form; what it asks does not change.
var chatWords = map[string]string{
	"whats": "what's", "wats": "what's", "wat": "what", "wht": "what", "wut": "what",
	"waht": "what", "whta": "what", "hwat": "what", "wehre": "where", "whre": "where",
	"wich": "which", "whcih": "which", "becuase": "because", "becasue": "because",
	"whos": "who's", "wheres": "where's", "hows": "how's", "whens": "when's",
	"ppl": "people", "teh": "the", "u": "you", "ur": "your", "r": "are", "abt": "about",
	"bc": "because", "cuz": "because", "coz": "because", "b4": "before", "govt": "government",
	"hrs": "hours", "mins": "minutes", "yrs": "years", "pls": "please", "plz": "please",
	"dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "isnt": "isn't", "wasnt": "wasn't",
	"arent": "aren't", "werent": "weren't", "cant": "can't", "wont": "won't", "wouldnt": "wouldn't",
	"couldnt": "couldn't", "shouldnt": "shouldn't", "hasnt": "hasn't", "havent": "haven't",
	// Fillers ask nothing: "lol who is miller" asks "who is miller".
	"lol": "", "lmao": "", "lmfao": "", "rofl": "", "haha": "", "hahaha": "", "hehe": "", "xd": "",
	"tbh": "", "ngl": "", "smh": "", "omg": "", "bruh": "",
}

var questionToken = regexp.MustCompile(`[\p{L}\p{M}\p{N}]+`)

// minCorrected is the shortest word typo correction touches: shorter words
// are one letter away from too many others.
const minCorrected = 5

// normalizeQuestion reads a typed question the way it was meant: chat
// abbreviations spelled out, and a lower-case word the stories never use
// replaced by the one story word a typo away from it ("suprme" → "supreme",
// "licen" → "Ličen"), when there is one. A word the embedder's vocabulary
// knows is English, not a typo ("hobbit" is not "hobby"); without such a
// vocabulary nothing is corrected.
func (ix *Index) normalizeQuestion(q string) string {
	known, _ := ix.opts.Embedder.(wordKnower)
	initials := 0
	return questionToken.ReplaceAllStringFunc(q, func(tok string) string {
		lw := strings.ToLower(tok)
		if long, ok := chatWords[lw]; ok {
			return long
		}
		// Initials typed in capitals ("NYT") or without a vowel ("nyt"),
		// or a word English does not have ("fto"): "far", "egg" and "cat" are words, not initials.
		// Each look-up reads every sentence: a question of a thousand
		// "QQQ"s reads them maxInitialisms times, not a thousand.
		if initials < maxInitialisms && (tok == strings.ToUpper(tok) || known != nil && !known.Knows(lw) || vowelless(lw)) {
			long, scanned := ix.initialism(lw)
			if scanned {
				initials++
			}
			if long != "" {
				return long
			}
		}
		if g := droppedG(lw); tok == lw && g != "" && ix.termSentences(stem(lw)) == 0 && (stopWords[g] || ix.termSentences(stem(g)) > 0) {
			return g
		}
		if tok != lw || utf8.RuneCountInString(lw) < minCorrected || stopWords[lw] || strings.ContainsFunc(lw, unicode.IsDigit) {
			return tok
		}
		s := stem(lw)
		if known == nil || known.Knows(lw) || ix.termSentences(s) > 0 {
			return tok
		}
		if fixed := ix.nearestTerm(s); fixed != "" {
			return ix.surfaceWord(fixed, tok)
		}
		return tok
	})
}

// vowelless: initials typed in lower case ("nyt", "wsj"), which the word
// vectors may know as words.
func vowelless(w string) bool {
	return utf8.RuneCountInString(w) >= 3 && !strings.ContainsAny(w, "aeiou") && !strings.ContainsFunc(w, unicode.IsDigit)
}

// droppedG is w with the "g" chat drops put back ("bein" → "being",
// "sayin" → "saying"), or "" when w does not end so. Ask uses it only for
// a word the stories do not have whose "-ing" form they do, or that is a
// stop word: "cabin" does not become "cabing".
func droppedG(w string) string {
	if len(w) < 4 || !strings.HasSuffix(w, "in") {
		return ""
	}
	return w + "g"
}

// wordKnower is an embedder that can say whether a word is in its
// vocabulary (the built-in word vectors' 100,000 words).
type wordKnower interface{ Knows(word string) bool }

// termSentences is how many sentences hold index term t.
func (ix *Index) termSentences(t string) int { return ix.sentencesWith(t) }

// nearestTerm is the index term closest to t in edit distance (one edit,
// two for long words; same first letter), the most common on a tie; "" when
// none is that close. A term that t spells without its accents ("licen"
// for "ličen") is closest of all: a name typed on a plain keyboard, not a
// typo of a commoner word one letter away ("license").
func (ix *Index) nearestTerm(t string) string {
	tr := []rune(t)
	limit := 1
	if len(tr) >= 8 {
		limit = 2
	}
	best, bestD, bestN := "", limit+1, 0
	df := ix.sentDF.df
	ix.dict.each(len(df), func(id uint32, v string) {
		n := int(df[id])
		if n == 0 || len(v) < len(t)-limit || len(v) > len(t)+limit+1 || stopWords[v] {
			return
		}
		vr := []rune(v)
		if vr[0] != tr[0] || len(vr) < minCorrected-1 {
			return
		}
		d := editDistance(tr, vr, limit)
		if d > 0 && d <= limit && withoutAccents(v) == t {
			d = 0
		}
		if d > limit {
			return
		}
		if d < bestD || d == bestD && (n > bestN || n == bestN && v < best) {
			best, bestD, bestN = v, d, n
		}
	})
	return best
}

// withoutAccents is s with its combining marks removed: "ličen" → "licen".
func withoutAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// surfaceWord is a word of the stories whose stem is t, as a sentence
// spells it, lower case: what a corrected question says instead of typed.
func (ix *Index) surfaceWord(t, typed string) string {
	g := ix.firstSentenceWith(t, 0, ix.nSents)
	if g < 0 {
		return typed
	}
	for _, w := range words(ix.sentenceText(g)) {
		if stem(w) == t {
			return w
		}
	}
	return typed
}

// editDistance is the optimal-string-alignment distance of a and b (an
// adjacent swap counts one edit), or limit+1 once it must exceed limit.
func editDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

// chatInitialisms are initials people type that stand for no story's
// words: "lol" is not "leader of labs".
var chatInitialisms = toSet("lol", "lmao", "wtf", "idk", "imo", "imho", "tbh", "ngl", "omg", "btw", "fyi", "afaik", "iirc", "smh", "irl", "asap", "tldr", "eli5", "pls", "plz", "thx", "rofl", "brb", "jk", "nvm", "ikr", "fwiw")

// maxInitialisms is how many words of one question are looked up as
// initials.
const maxInitialisms = 3

// maxInitialismSentences bounds the scan to about 50 ms.
const maxInitialismSentences = 50_000

// initialWords join the words of a name without an initial of their own:
// "Department of Homeland Security" is DHS.
var initialWords = toSet("of", "for", "and", "the", "on", "in", "&")

// initialism is the phrase of the stories that an abbreviation typed in
// the question stands for ("nyt" → "New York Times", "fto" → "foreign
// terrorist organizations"), the most frequent one, or "" when the word is
// a story term, a chat initialism, or stands for no phrase; scanned says
// whether it read the sentences. It reads every sentence (about 1 µs
// each), so it runs only for a 3–5 letter word no story holds, and not
// past maxInitialismSentences.
func (ix *Index) initialism(w string) (phrase string, scanned bool) {
	if len(w) < 3 || len(w) > 5 || stopWords[w] || chatInitialisms[w] || ix.nSents > maxInitialismSentences || ix.sentencesWith(stem(w)) > 0 {
		return "", false
	}
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return "", false
		}
	}
	count := map[string]int{}
	best, bestN := "", 0
	first := rune(w[0])
	for g := range ix.nSents {
		text := ix.sentenceText(g)
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !inInitialWord(r) {
				i += size
				continue
			}
			if unicode.ToLower(r) == first {
				if phrase := initialsAt(text[i:], w); phrase != "" {
					count[phrase]++
					if n := count[phrase]; n > bestN {
						best, bestN = phrase, n
					}
				}
			}
			i += wordEnd(text[i:])
		}
	}
	// A name's initials are its own; a run of common words must recur to
	// be read as what the initials stand for, not a chance spelling.
	if bestN < 2 && !capitalised(best) {
		return "", true
	}
	return best, true
}

// capitalised: every word of the phrase but its joining words starts in
// upper case.
func capitalised(phrase string) bool {
	for _, w := range strings.Fields(phrase) {
		if r, _ := utf8.DecodeRuneInString(w); !initialWords[strings.ToLower(w)] && !unicode.IsUpper(r) {
			return false
		}
	}
	return phrase != ""
}

func inInitialWord(r rune) bool { return unicode.IsLetter(r) || r == '&' }

// wordEnd is the length of the word s starts with.
func wordEnd(s string) int {
	for i, r := range s {
		if !inInitialWord(r) {
			return i
		}
	}
	return len(s)
}

// initialsAt is the phrase s starts with whose words' initials spell w,
// joining words aside, or "".
func initialsAt(s, w string) string {
	k, end := 0, 0
	for i := 0; i < len(s) && k < len(w); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !inInitialWord(r) {
			i += size
			continue
		}
		n := wordEnd(s[i:])
		lw := strings.ToLower(s[i : i+n])
		switch {
		case k > 0 && initialWords[lw]:
		case unicode.ToLower(r) == rune(w[k]) && !stopWords[lw]:
			k++
			end = i + n
		default:
			return ""
		}
		i += n
	}
	if k < len(w) {
		return ""
	}
	return s[:end]
}
