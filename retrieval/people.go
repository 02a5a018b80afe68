package retrieval

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// "Who are the main people in this story?" asks for no one in particular:
// the answer names the people the story names most, each cited from the
// sentence that first gives their full name. A person is read off the
// text, not a gazetteer: a run of capitalised words ending in a surname
// the story uses again on its own ("Sebastian Gorka" … "Gorka said").

// peopleQuestion asks who a story is about, naming no one.
var peopleQuestion = func() *regexp.Regexp {
	const (
		named = `(?:involved|mentioned|named|quoted|featured|talked about|in the news)`
		in    = `(?:in|by) (?:this|the|it)(?:(?: [\p{L}'’-]+){0,2}? (?:story|article|piece|news|report))?`
		where = `(?: ` + in + `)?`
		who   = `(?:people|players|figures|characters|names|persons|officials|individuals)`
	)
	return regexp.MustCompile(`(?i)^\W*(?:so |ok |and )?(?:` +
		`(?:who|whos)(?:'?s| is| are| was| were| all| else| gets?)* (?:all )?(?:` + named + where + `|` + in + `|(?:this|the) (?:story|article) (?:is )?(?:about|mentions?|names?|quotes?))` +
		`|(?:who are|list|name|give me|what are) (?:all )?(?:the |all )?(?:main |key |important |major |big )?` + who + `(?: ` + named + `)?` + where +
		`|(?:which|what) ` + who + ` (?:are |were )?` + named + where +
		`|whos who` +
		`)\W*$`)
}()

func isPeople(q string) bool { return peopleQuestion.MatchString(strings.TrimSpace(q)) }

// maxPeople is how many people a people answer names.
const maxPeople = 4

// notSurnames end runs of capitalised words that name no one: "White
// House", "New York Times", "Justice Department".
var notSurnames = toSet("house", "times", "post", "news", "press", "journal", "department", "party", "council", "court",
	"university", "ministry", "agency", "company", "states", "union", "nations", "congress", "senate", "administration",
	"government", "committee", "office", "force", "forces", "army", "navy", "cartel", "cartels", "republic", "kingdom",
	"city", "county", "street", "center", "centre", "group", "association", "federation", "league", "team", "club",
	"church", "mosque", "school", "college", "institute", "foundation", "bank", "corporation", "inc", "corp", "ltd",
	"airport", "station", "hotel", "program", "programme", "project", "act", "law", "bill", "war", "cup", "games",
	"international", "america", "american", "americans", "explorer", "internet", "web", "online", "tv", "radio",
	"image", "museum", "festival", "magazine", "herald", "paralympics", "olympics", "shuttle", "species", "pictures",
	"palace", "collection", "sheriff", "service", "community", "movement", "today", "second", "undersecretary", "economy", "cups", "wiki")

// notFirstNames begin runs that name places, seasons and greetings:
// "South Korea", "Winter Paralympics", "Hey Frank".
var notFirstNames = toSet("north", "south", "east", "west", "northern", "southern", "eastern", "western", "central", "new", "old",
	"national", "royal", "english", "great", "united", "winter", "summer", "spring", "autumn", "hey", "hi", "hello", "dear",
	"happy", "merry", "image", "photo", "space", "social", "white", "red", "black", "green", "blue", "cyclone", "hurricane", "typhoon", "storm")

// person is one person a story names: the name as first written in full,
// the sentence that writes it and the sentences that name the surname.
type person struct {
	name       string
	surname    string
	first      int
	mentions   int
	introduced bool // given a title or words where named
}

// people are the story's people, most mentioned first.
func (ix *Index) people(story int) []person {
	lo, hi := ix.storyRange(story)
	found := map[string]*person{}
	var order []string
	for g := lo; g < hi; g++ {
		fields := strings.Fields(ix.sentenceText(g))
		for _, run := range capitalisedRuns(fields) {
			name, titled := personName(run.words)
			if name == nil || run.start == 0 && !titled && len(run.words) == len(name) {
				// A sentence's first word is capitalised anyway: "Six
				// Mexican cartels were designated".
				continue
			}
			sur := strings.ToLower(name[len(name)-1])
			p := found[sur]
			if p == nil {
				p = &person{name: strings.Join(name, " "), surname: sur, first: g}
				found[sur] = p
				order = append(order, sur)
			} else if titleWords[strings.ToLower(strings.Fields(p.name)[0])] && !titleWords[strings.ToLower(name[0])] {
				p.name, p.first = strings.Join(name, " "), g // "President Trump", then "Donald Trump"
			}
			p.introduced = p.introduced || titled || introduces(fields, run.end) || described(fields, run.start)
		}
	}
	var out []person
	for _, sur := range order {
		p := found[sur]
		if f := strings.Fields(p.name); len(f) > 1 && ix.namedAlone(lo, hi, strings.ToLower(f[0])) > 0 {
			continue // "Indiana Pacers" … "Indiana": no first name stands alone
		}
		p.mentions = ix.namedAlone(lo, hi, p.surname)
		// A run may be anything ("Grand Mosque", "South Korea"); a
		// person is named again by surname alone, or given a title.
		if p.mentions > 0 || p.introduced {
			out = append(out, *p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].mentions > out[j].mentions })
	return out
}

// namedAlone is how many sentences of [lo, hi) write surname on its own,
// capitalised, after no other capitalised word but a title and before
// none: "Miller said", "President Trump", not "South Korea" for "Korea"
// nor "Indiana Pacers" for "Indiana" nor "the Pistons".
func (ix *Index) namedAlone(lo, hi int, surname string) int {
	n := 0
	for g := ix.firstSentenceWith(stem(surname), lo, hi); g >= 0 && g < hi; g = ix.firstSentenceWith(stem(surname), g+1, hi) {
		fields := strings.Fields(ix.sentenceText(g))
		for i, f := range fields {
			r, _ := utf8.DecodeRuneInString(strings.TrimLeft(f, "\"“'‘("))
			if !unicode.IsUpper(r) || bareWord(f) != surname {
				continue
			}
			if i+1 < len(fields) && !strings.ContainsAny(f[len(f)-1:], ",;:.!?\"”)") && !strings.HasSuffix(f, "'s") && !strings.HasSuffix(f, "’s") {
				if nx, _ := utf8.DecodeRuneInString(strings.TrimLeft(fields[i+1], "\"“'‘(")); unicode.IsUpper(nx) {
					continue // part of a longer name
				}
			}
			if i > 0 && bareWord(fields[i-1]) == "the" {
				continue // "the Pistons" is a team
			}
			prev := fields[max(i-1, 0)]
			initial := utf8.RuneCountInString(prev) == 2 && strings.HasSuffix(prev, ".")
			if i == 0 || titleWords[bareWord(prev)] || !initial && strings.ContainsAny(prev[len(prev)-1:], ",;:.\"”)") {
				n++
				break
			}
			if p, _ := utf8.DecodeRuneInString(strings.TrimLeft(prev, "\"“'‘(")); !unicode.IsUpper(p) {
				n++
				break
			}
		}
	}
	return n
}

// described reports whether the words before a name at fields[start:]
// say what the person is: "the beekeeper Ada Crane", "Trump's adviser
// Stephen Miller", "forward Ron Artest".
func described(fields []string, start int) bool {
	if start == 0 {
		return false
	}
	before := bareWord(fields[start-1])
	if titleWords[before] && !orgTitles[before] {
		return true
	}
	r, _ := utf8.DecodeRuneInString(fields[start-1])
	if start < 2 || !unicode.IsLower(r) || stopWords[before] {
		return false
	}
	prev := strings.ToLower(fields[start-2])
	return prev == "the" || prev == "a" || prev == "an" || strings.HasSuffix(prev, "'s") || strings.HasSuffix(prev, "’s")
}

// introduces reports whether the words after a name at fields[:end]
// give its title: "Sebastian Gorka, Trump's senior director".
func introduces(fields []string, end int) bool {
	if end >= len(fields) {
		return false
	}
	if !strings.HasSuffix(fields[end-1], ",") {
		return false
	}
	for _, f := range fields[end:min(len(fields), end+4)] {
		if titleWords[bareWord(f)] {
			return true
		}
	}
	return false
}

func bareWord(f string) string {
	w := strings.ToLower(strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) }))
	return withoutPossessive(w)
}

// capitalisedRun is a run of capitalised words, bare of punctuation, at
// fields[start:end] of its sentence.
type capitalisedRun struct {
	words      []string
	start, end int
}

// capitalisedRuns are a sentence's runs of capitalised words; a comma, a
// possessive or a full stop ends a run.
func capitalisedRuns(fields []string) []capitalisedRun {
	var runs []capitalisedRun
	cur := capitalisedRun{start: -1}
	flush := func(end int) {
		if len(cur.words) > 0 {
			cur.end = end
			runs = append(runs, cur)
		}
		cur = capitalisedRun{start: -1}
	}
	for i, f := range fields {
		w := strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && r != '.' && r != '\'' && r != '’' && r != '-' })
		w = strings.Trim(w, "-")
		w = strings.Trim(w, ".'’")
		possessive := strings.HasSuffix(w, "'s") || strings.HasSuffix(w, "’s")
		w = withoutPossessive(w)
		r, _ := utf8.DecodeRuneInString(w)
		if w == "" || !unicode.IsUpper(r) {
			flush(i)
			continue
		}
		if utf8.RuneCountInString(w) == 1 && strings.Contains(f, w+".") {
			w += "." // an initial: "George W. Bush"
		}
		if cur.start < 0 {
			cur.start = i
		}
		cur.words = append(cur.words, w)
		last, _ := utf8.DecodeLastRuneInString(f)
		if possessive || strings.ContainsRune(",;:!?\"”)", last) || last == '.' && !strings.HasSuffix(w, ".") {
			flush(i + 1)
		}
	}
	flush(len(fields))
	return runs
}

// personName is the name a run ends in, first name (and a middle
// initial) and surname, or a surname after a title ("President Trump"),
// or nil when it names no one; titles before it ("Deputy Chief of Staff
// for Policy Stephen Miller") are dropped. titled: a title came before.
func personName(run []string) (name []string, titled bool) {
	n := len(run)
	if n < 2 {
		return nil, false
	}
	sur := strings.ToLower(run[n-1])
	if notSurnames[sur] || titleWords[sur] || stopWords[sur] || notNames[sur] || utf8.RuneCountInString(sur) < 3 {
		return nil, false
	}
	if allCaps(run[n-1]) || allCaps(run[n-2]) {
		return nil, false // "MST", "KCNA", "IV": initials of things
	}
	if t := strings.ToLower(run[n-2]); titleWords[t] {
		if orgTitles[t] {
			return nil, false // "the company Petrobras"
		}
		return run[n-2:], true // "President Trump": the title is all the name the story gives
	}
	start := n - 2
	if start > 0 && strings.HasSuffix(run[start], ".") {
		start-- // "George W. Bush"
	}
	first := strings.ToLower(run[start])
	if titleWords[first] || stopWords[first] || notNames[first] || notSurnames[first] || notFirstNames[first] || utf8.RuneCountInString(first) < 2 {
		return nil, false
	}
	if _, ok := numberWords[first]; ok {
		return nil, false
	}
	return run[start:], start > 0 && titleWords[strings.ToLower(run[start-1])] && !orgTitles[strings.ToLower(run[start-1])]
}

// allCaps: "KCNA", not "Gorka" nor "W.".
func allCaps(w string) bool {
	return utf8.RuneCountInString(w) >= 2 && !strings.HasSuffix(w, ".") && strings.ToUpper(w) == w
}

// orgTitles are the titleWords that name organisations, not people.
var orgTitles = toSet("agency", "firm", "company", "organization", "organisation", "group", "party", "band", "newspaper", "network",
	"news", "university", "institute", "association", "federation", "union", "council", "committee", "department", "ministry", "army", "police")

// peopleAnswer names the people story s names most and cites where each
// is first named in full.
func (ix *Index) peopleAnswer(a *Answer, story int) {
	ps := ix.people(story)
	if len(ps) == 0 {
		a.Outcome, a.Found, a.Confidence, a.Score = OutcomeNone, false, 0, 0
		a.Text = "The story names no people that I can find."
		return
	}
	ps = ps[:min(len(ps), maxPeople)]
	names := make([]string, len(ps))
	var picked []candidate
	for i, p := range ps {
		names[i] = p.name
		seen := false
		for _, c := range picked {
			seen = seen || c.sentence == p.first
		}
		if !seen {
			picked = append(picked, candidate{sentence: p.first, chunk: ix.chunkOf(p.first)})
		}
	}
	sort.Slice(picked, func(i, j int) bool { return picked[i].sentence < picked[j].sentence })
	a.Preface = fmt.Sprintf("The people it names most: %s.", joinNames(names))
	ix.quote(a, picked)
}

// joinNames writes "A", "A and B", "A, B and C".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
