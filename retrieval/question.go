package retrieval

import (
	"errors"
	"fmt"
	"iter"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
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
)

var (
	whenQuestion    = regexp.MustCompile(`(?i)\b(when|what (year|date|day|month|time|century|decade)|which (year|date|day|month|century|decade)|how long ago)\b`)
	numberQuestion  = regexp.MustCompile(`(?i)\b(how (many|much|long|far|old|large|big|high|tall)|what (number|percentage|percent|amount|proportion))\b`)
	nameQuestion    = regexp.MustCompile(`(?i)\b(called|known as|referred to|refer to|another (name|term|word)|(name|term|word) for|(what|which) (name|term)|nicknamed?)\b`)
	exampleQuestion = regexp.MustCompile(`(?i)\b(an example|example of|one example|instance of|name one|name an?)\b`)
	whoQuestion     = regexp.MustCompile(`(?i)\b(who|whom|whose|which (person|people|official|officials|organi[sz]ation|group|company|agency|country|newspaper|paper|outlet|network|publication|magazine|channel|broadcaster|firm|team|party|university|uni))\b`)
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
			lw := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s"))
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
	}
	return "factoid"
}
