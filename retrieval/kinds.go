package retrieval

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Questions about the story as a whole are not answered by one sentence:
// "tl;dr" wants a summary, "who published this" the front matter. They are
// recognised before retrieval and answered from the story itself.

var (
	// overviewAnywhere: words that ask for a summary wherever they are.
	overviewAnywhere = regexp.MustCompile(`(?i)(\btl\s?;?\s?dr\b|\btldr\b|\bsummar(y|ies|i[sz]e|i[sz]ing)\b|\bsum (it |this |that )?up\b|\bgist\b|\b(main|key) (points?|ideas?|facts?|takeaways?)\b|\boverview\b|\brecap\b|\bin a nutshell\b|\bbrief me\b|\beli5\b|\bexplain (it |this |that )?(to me )?like (i'?m|im|i am) (5|five)\b)`)
	// overviewWhole: whole questions that ask what the story is about.
	overviewWhole = regexp.MustCompile(`(?i)^\W*(so |ok |okay )?(what(?:'?s| is| was)|whats) (this|the|that|it)\b.*\babout\W*$|^\W*(so |ok |okay )?(what happened|what(?:'?s| is) (going on|happening)|whats (going on|happening))\b|^\W*(so )?(what'?s|whats|wht'?s|wats|what is) (up with|the deal with|the big deal|new with|the (\S+ ){0,3}(story|news|article|piece|interview))\b.*$` +
		`|^\W*(so |ok |okay )?(what|wat|wht) (does|did) (this|the|that) (\S+ ){0,3}(story|news|article|piece|report|interview) (say|tell us|tell me|cover)\W*$` +
		`|^\W*(so |ok |okay )?((can|could) you |pls |please )?(tell|fill|catch) (me|us) (in )?(up )?(about|on) ((this|the|that) (\S+ ){0,3}(story|news|article|piece|report|interview)|it|this|that)\W*(pls|please)?\W*$`)

	// topicQuestion asks what the story says about something, in words no
	// sentence holds: "tell me about the strikes", "what does the article
	// say about Miller", "anything on Gorka?". What it asks is its topic.
	topicQuestion = regexp.MustCompile(`(?i)^\W*(?:so |ok |okay )?(?:(?:can|could|would) you |pls |please )?` +
		`(?:tell (?:me|us)(?: more)?|talk|what (?:does|did|do) (?:the|this|that|these|those) (?:\S+ ){0,2}(?:story|stories|article|articles|piece|report|news|interview) (?:say|tell us|tell me|mention|report)` +
		`|what do (?:we|you) know|what(?:'?s| is) (?:there|known|said|reported)|(?:is there )?anything|what about|any (?:news|info|updates?)|more|info|details)` +
		`\s+(?:about|on|regarding|re:?)\s+(.+?)(?:\W+(?:pls|please|plz|thanks|thx|ty))?\W*$`)

	// topicWith: "what's up with Gorka", "what's Gorka's deal". It asks
	// for an overview when what it names is a story's title, and is a
	// topic question otherwise.
	topicWith = regexp.MustCompile(`(?i)^\W*(?:so |ok |okay )?(?:what'?s|whats|wats|what is) (?:(?:up|new|going on|happening) with|the (?:big )?deal with|the story with) (.+?)\W*$` +
		`|^\W*(?:so |ok |okay )?(?:what'?s|whats|wats|what is) (.+?)(?:'s|’s) deal\W*$`)
	// metaQuestion: who wrote or published the story, when, where from.
	metaQuestion = regexp.MustCompile(`(?i)\b(who (wrote|published|authored|posted|reported)|who'?s the (author|publisher|writer|source)|who is the (author|publisher|writer|source)|(written|published|posted) (by|when|on)|(when|what (year|date|day)|which (year|date|day)) (was|is) (this|it|that|the)\b.*\b(published|written|posted|released|out|from)|(what|which) (year|date|day)(?:'?s| is| was) (this|it|that|the)\b.*\bfrom|when was (the|this) (\S+ ){0,3}(article|story|interview|piece|post)\W*$|what(?:'?s| is)? the (source|publisher|author|publication|outlet|byline)|whats the (source|publisher|author|publication|outlet|date)|(what|which) (site|outlet|paper|newspaper|publication|website)|(what|which) year is|date on (this|it|the)|publisher|what(?:'?s| is) the date|where(?:'?s| is)? (this|it) from|source\W*$|\bsources? (for|of|on|behind) (this|it|that|the (story|article))\W*$|what are (the|its|your) sources\b|when did (this|it|that|all this) (happen|take place|occur)\W*$|\b(link|url)\W*(pls|please|plz)?\W*$|(what'?s|whats|what is) the (link|url)( to (it|this|that|the (story|article)))?\W*$|(got|have|is there) a (link|url|date)( to (it|this|that|the (story|article)))?\W*$|how old is (this|the|that|it)\b|^\W*(the )?(link|url) (to|for|of) (this|that|the) (\S+ ){0,3}(story|article|piece|interview)\W*(pls|please|plz)?\W*$)`)
	// storyWords refer to the story itself: a meta question must name it
	// ("who published this article") unless it is a few words long.
	storyWords = toSet("this", "it", "article", "story", "piece", "post", "one", "news", "link", "source", "interview")
)

// frameWords are the words of a question's frame rather than its content:
// "what position does Miller hold" asks about Miller. They do not count in
// coverage, so a sentence is not marked down for lacking "position".
var frameWords = map[questionType]map[string]bool{
	askRole:   toSet("job", "title", "position", "role", "hold", "holds", "work", "works", "do", "does", "post", "rank", "play", "plays", "occupation", "who", "whos", "s"),
	askStance: toSet("think", "thinks", "feel", "feels", "say", "says", "said", "stance", "position", "opinion", "view", "views", "take", "respond", "responded", "react", "reacted", "want", "wants", "tell", "told", "believe", "believes", "for", "against", "whats", "stand", "pro", "anti", "quote", "quotes", "quoted", "quotation", "quotations", "saying", "any"),
	askYesNo:  toSet("really", "actually", "true"),
}

// overviewVocab and metaVocab are the words that make a question an overview
// or meta question; the rest of its words point at a story.
var (
	overviewVocab = toSet("tl", "dr", "deal", "new", "with", "interview", "wht", "wats", "tldr", "summary", "summarize", "summarise", "summarizing", "sum", "up", "gist", "main", "key", "points", "point", "ideas", "idea",
		"facts", "takeaways", "overview", "recap", "nutshell", "brief", "happened", "going", "happening", "whats", "pls", "please", "plz", "thing", "give", "me", "quick", "short", "in", "of",
		"tell", "fill", "catch", "cover", "us", "can", "could", "you", "eli5", "explain", "like", "im", "am", "5", "five", "big")
	peopleVocab = toSet("people", "players", "figures", "characters", "names", "persons", "officials", "individuals", "involved", "mentioned",
		"named", "quoted", "featured", "main", "key", "important", "major", "big", "list", "name", "give", "me", "whos", "else", "ok", "so")
	metaVocab = toSet("wrote", "written", "published", "publisher", "author", "authored", "posted", "reported", "source", "sources", "happen", "publication", "outlet", "byline",
		"site", "website", "paper", "newspaper", "year", "date", "when", "who", "whos", "from", "released", "out", "interview",
		"link", "url", "pls", "please", "plz", "got", "old")
)

// maxPointerWords bounds the words a whole-story question may spend naming
// its story ("tl;dr of the afghan robotics story"). A question with more is
// about something in a story: "What happened to the crew onboard during the
// plugs-out test?" wants the sentence that says.
const maxPointerWords = 3

// pointerWords are the words of a whole-story question that are not its
// frame: what it says the story is about.
func pointerWords(q string, vocab map[string]bool) []string {
	var out []string
	for _, w := range words(q) {
		if !stopWords[w] && !vocab[w] && !storyWords[w] && !frameWords[askStance][w] {
			out = append(out, w)
		}
	}
	return out
}

// topicOf is the topic a topic question asks about, or "" for any other
// question.
func topicOf(q string) string {
	if m := topicQuestion.FindStringSubmatch(q); m != nil {
		return m[1]
	}
	return withTopic(q)
}

// withTopic is what a topicWith question names, or "".
func withTopic(q string) string {
	if m := topicWith.FindStringSubmatch(q); m != nil {
		return m[1] + m[2]
	}
	return ""
}

// namesNoTitle reports whether topic names something, and nothing that a
// story's title holds: "Gorka", not "the cartels" or "the story".
func (ix *Index) namesNoTitle(topic string) bool {
	named := false
	for _, w := range words(topic) {
		if stopWords[w] || storyWords[w] {
			continue
		}
		named = true
		t := stem(w)
		for _, st := range ix.stories {
			for _, tw := range words(st.Title) {
				if stem(tw) == t {
					return false
				}
			}
		}
	}
	return named
}

// linkWord: "what's the link to the article" asks for the story's
// address, not what it says.
var linkWord = regexp.MustCompile(`(?i)\b(link|url)\b`)

func isOverview(q string) bool {
	return !linkWord.MatchString(q) && (overviewAnywhere.MatchString(q) || overviewWhole.MatchString(q)) && len(pointerWords(q, overviewVocab)) <= maxPointerWords
}

func isMeta(q string) bool {
	if !metaQuestion.MatchString(q) || len(pointerWords(q, metaVocab)) > maxPointerWords {
		return false
	}
	ws := words(q)
	if len(ws) <= 4 {
		return true
	}
	for _, w := range ws {
		if storyWords[w] {
			return true
		}
	}
	return false
}

var (
	roleQuestion   = regexp.MustCompile(`(?i)^\W*(who(?:'?s| is| was|s)|whos) [\p{L}'’.\- ]+?\W*$|\b(job|title|position|role|post|occupation|rank)\b.*\b(of|does|did|has|hold|holds|have|play|plays)\b|\b\w+(?:'?s|s’) (job|title|position|role|occupation)\b|\bwhat (position|role|job|title|post)\b|\bwhat does [\p{L}'’.\- ]+ do\W*$`)
	stanceQuestion = regexp.MustCompile(`(?i)\b(what (does|did|do|is|was|has|have) [\p{L}'’.\- ]+ (think|thinks|say|said|want|wants|feel|believe|tell|told|argue|claim|propose|suggest|make of|stand)|who (supports?|favou?rs?|backs?|opposes?|wants?|is (for|against)|are (for|against)|advocates?|pushe?s? for|criticiz|criticis|calls? for|argues?)|how (has|have|did|does|do|is|was) [\p{L}'’.\- ]+ (respond|react|reply|replied|feel|view|see)|(for or against|in favou?r of)|\b(stance|opinion|position|view|views|take|thoughts?) (on|of|about|regarding)|what(?:'?s| is|s) [\p{L}'’.\- ]+(?:'?s|s’) (stance|position|view|take|opinion|response|reaction)|what did [\p{L}'’.\- ]+ (tell|say)|where (does|do|did|is|are) [\p{L}'’.\- ]+ stand\b|^\W*(is|are|was|were) [\p{L}'’.\- ]+ (pro|anti)\s+\p{L}|\bquot(?:es?|ations?) (?:from|by|of)\b|\bwhat (?:has|have|did|does|do|is|was) [\p{L}'’.\- ]+ (?:been )?quoted\b)`)
	yesNoQuestion  = regexp.MustCompile(`(?i)^\W*(is|are|was|were|does|do|did|has|have|had|will|would|can|could|should|shall|may|might|must|isn'?t|aren'?t|doesn'?t|didn'?t|won'?t|can'?t)\b`)
	reasonQuestion = regexp.MustCompile(`(?i)\b(why|what reason|for what purpose|how come|what (could|would|might|will) (\w+ ){0,6}(put at risk|risk|threaten|happen|mean|cause|lead to|result)|what happens if|what would happen|what (are|were|is) the (consequences?|effects?|impacts?|risks?|results?|reasons?)|what (caused|led to|prompted|triggered|made|started|sparked|set off))\b`)
	// relationQuestion: "who's IE's main competitor", "who is behind
	// firefox" ask for a name related to X, not for X's title; isRelation
	// reads it.
	relationQuestion = regexp.MustCompile(`(?i)^\W*(?:who(?:'?s| is| was|s)|whos) (?:[\p{L}.\-]+(?:'s|’s|s’) ((?:\w+ ?){1,2})|(?:behind|in charge of|running|leading|responsible for)\b)`)
)

// stancePattern marks a sentence that states a position or reports words.
var stancePattern = regexp.MustCompile(`(?i)\b(said|says|say|told|tell|stated|states|argued|argues|believes?|thinks?|wants?|wanted|supports?|supported|favou?rs?|favou?red|backs?|backed|opposes?|opposed|against|criticiz\w*|criticis\w*|praised?|urged?|warned?|responded|response|insisted|claimed|claims|announced|agreed|rejected|denied|called for|according to|approach|advocat\w*|proposed|pushing|cautious|would never|tolerate|hinted|stance|position|view)\b|["“”]`)

// consequencePattern widens reasonPattern for "what could X put at risk"
// and "what happens if".
var consequencePattern = regexp.MustCompile(`(?i)\b(risk|risks|jeopardi[sz]e|threaten\w*|could|would|might|lead to|result in|consequence\w*|impact\w*|affect\w*|undermine\w*|damage\w*|harm\w*|cost)\b`)

// titleWords are what a role is: the title in "Deputy Chief of Staff for
// Policy Stephen Miller" or "Sebastian Gorka, Trump's senior director".
var titleWords = toSet("president", "director", "chief", "secretary", "minister", "spokesman", "spokeswoman", "spokesperson",
	"ambassador", "editor", "coach", "member", "leader", "official", "adviser", "advisor", "senator", "governor", "ceo",
	"founder", "head", "chairman", "chairwoman", "chair", "professor", "agency", "firm", "company", "organization",
	"organisation", "group", "deputy", "staff", "general", "commander", "mayor", "king", "queen", "prime", "representative",
	"manager", "executive", "analyst", "researcher", "scientist", "biologist", "expert", "candidate", "judge", "lawyer",
	"attorney", "author", "writer", "journalist", "reporter", "correspondent", "student", "teacher", "officer", "captain",
	"vice", "counsel", "councillor", "councilor", "mp", "lawmaker", "party", "player", "champion", "actor", "singer", "band",
	"magician", "inventor", "engineer", "doctor", "dr", "sheikh", "prince", "princess", "lord", "bishop", "pope", "imam",
	"commissioner", "administrator", "superintendent", "inspector", "police", "army", "newspaper", "network", "news",
	"university", "institute", "association", "federation", "union", "council", "committee", "department", "ministry")

// isRelation: a "who is …" question that asks for someone related to X
// ("who's IE's main competitor") rather than for a title ("who's Miller's
// job" stays a role question).
func isRelation(q string) bool {
	m := relationQuestion.FindStringSubmatch(q)
	if m == nil {
		return false
	}
	for _, w := range strings.Fields(strings.ToLower(m[1])) {
		if frameWords[askRole][w] {
			return false
		}
	}
	return true
}

// kindOf reads what kind of answer a question wants. Factoid kinds come from
// the wh-word (classify); the others from the question's frame.
func kindOf(q string) questionType {
	switch {
	case isPeople(q):
		return askPeople
	case isOverview(q):
		return askOverview
	case isMeta(q):
		return askMeta
	case reasonQuestion.MatchString(q):
		return askWhy
	case stanceQuestion.MatchString(q):
		return askStance
	case roleQuestion.MatchString(q) && !isRelation(q):
		return askRole
	}
	t := classify(q)
	if t == askOther && yesNoQuestion.MatchString(q) {
		return askYesNo
	}
	return t
}

// hasRoleCue: the sentence names one of the question's people beside a
// title word, within a few words either side.
func hasRoleCue(sentence string, questionWords map[string]bool) bool {
	fields := strings.Fields(sentence)
	for i, f := range fields {
		w := strings.ToLower(strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) }))
		bare := withoutPossessive(w)
		r, _ := utf8.DecodeRuneInString(strings.TrimLeft(f, "\"“'‘("))
		if bare == "" || stopWords[bare] || !questionWords[bare] || !unicode.IsUpper(r) {
			continue
		}
		// "Trump's senior director" is someone else's title: after a
		// possessive, only the words before the name are its title.
		end := i + 7
		if bare != w {
			end = i
		}
		for j := max(0, i-6); j < min(len(fields), end); j++ {
			t := strings.ToLower(strings.TrimFunc(fields[j], func(r rune) bool { return !unicode.IsLetter(r) }))
			if j != i && titleWords[t] && !questionWords[t] {
				return true
			}
		}
	}
	return false
}

// eventWhen asks when what the story tells happened: "when did this
// happen".
var eventWhen = regexp.MustCompile(`(?i)\bwhen did (this|it|that|all this) (happen|take place|occur)\b`)

// wholeStoryAnswer answers overview and meta questions, or returns nil when
// q is neither.
func (ix *Index) wholeStoryAnswer(ctx context.Context, q string, kind questionType, follow int) *Answer {
	if kind != askOverview && kind != askMeta && kind != askPeople {
		return nil
	}
	a := &Answer{Question: q, Index: ix.version, Kind: kind.name(), Outcome: OutcomeAnswer, Found: true, Confidence: 1, Score: 1}
	story, ok, missing := ix.pointedStory(q, kind, follow)
	switch {
	case len(missing) > 0:
		ix.notLoaded(a, missing)
		return a
	case !ok && follow >= 0:
		story = follow // "who published this" asks about the story just quoted
	case !ok:
		ix.listStories(a)
		return a
	}
	if kind == askMeta {
		ix.metaAnswer(a, story, q)
		if eventWhen.MatchString(q) && a.Outcome == OutcomeAnswer {
			// The story is dated, not every event in it: the date it
			// was published is the closest it comes.
			a.Outcome, a.Found = OutcomeClosest, false
			a.Text = ClosestIntro + " " + a.Text
		}
		return a
	}
	if kind == askPeople {
		ix.peopleAnswer(a, story)
		return a
	}
	ix.quote(a, ix.overview(ctx, story))
	return a
}

// pointedStory is the story a whole-story question is about: the only one,
// or the one its other words find; in a follow-up on story follow (≥ 0),
// that one when it holds them all. ok is false when several stories are
// loaded and nothing points to one. missing holds the words that point at
// a story the bot does not have ("tl;dr of the bitcoin story").
func (ix *Index) pointedStory(q string, kind questionType, follow int) (story int, ok bool, missing []string) {
	vocab := overviewVocab
	switch kind {
	case askMeta:
		vocab = metaVocab
	case askPeople:
		vocab = peopleVocab
	}
	named := pointerWords(q, vocab)
	var pointer []string
	for _, w := range named {
		pointer = append(pointer, stem(w))
	}
	hits := ix.lexical.search(pointer, 1)
	if len(pointer) > 0 && len(hits) == 0 {
		// Words too short to name a story ("teh") are typos, not pointers.
		for _, w := range named {
			if utf8.RuneCountInString(w) >= 4 {
				missing = append(missing, w)
			}
		}
		if len(missing) > 0 {
			return 0, false, missing
		}
	}
	switch {
	case len(ix.stories) == 1:
		return 0, true, nil
	case follow >= 0 && len(pointer) > 0 && ix.holdsAll(follow, pointer):
		return follow, true, nil
	case len(hits) == 0:
		return 0, false, nil
	}
	return ix.chunks[hits[0].doc].Story, true, nil
}

// notLoaded declines a whole-story question about a story the bot does not
// have, and says which stories it has.
func (ix *Index) notLoaded(a *Answer, missing []string) {
	a.Outcome, a.Found, a.Confidence, a.Score = OutcomeNone, false, 0, 0
	var titles []string
	for i, s := range ix.stories {
		if i == 5 {
			titles = append(titles, fmt.Sprintf("and %d more", len(ix.stories)-5))
			break
		}
		titles = append(titles, s.Citation())
	}
	none := fmt.Sprintf("none of the %d stories I have mentions it", len(ix.stories))
	if len(ix.stories) == 1 {
		none = "the story I have does not mention it"
	}
	a.Text = fmt.Sprintf("I have no story about %q, and %s. I have: %s.", strings.Join(missing, " "), none, strings.Join(titles, "; "))
}

// leadSentence is the story's news lead: its first sentence that reads as
// one, past a dateline and picture captions.
func (ix *Index) leadSentence(story int) int {
	base := ix.storyBase[story]
	end := ix.nSents
	if story+1 < len(ix.storyBase) {
		end = ix.storyBase[story+1]
	}
	for g := base; g < end; g++ {
		text := ix.sentenceText(g)
		first, _ := utf8.DecodeRuneInString(strings.TrimLeft(text, "\"“'‘("))
		last, _ := utf8.DecodeLastRuneInString(text)
		// An interview's first question is not its lead: the answer is.
		if len(words(text)) >= 10 && (unicode.IsUpper(first) || unicode.IsDigit(first)) && strings.ContainsRune(".!\"”'’", last) && !interrogative(text) && !strings.Contains(text, "Image:") && !aboutItself.MatchString(text) {
			return g
		}
	}
	return base
}

// aboutItself is a notice about the article, not news: "This exclusive
// interview features first-hand journalism by a Wikinews reporter."
var aboutItself = regexp.MustCompile(`(?i)^\W*this (exclusive |original )?(interview|article|story|report|piece|page) (features|contains|was (first |originally )?(published|written|updated)|has been updated|is based on)\b`)

// overviewWindow is how many sentences past the lead an overview draws on:
// chosen on the odd lines of wikinews/summaries.jsonl (ROUGE-1/2/L with
// windows 2, 3, 4, 6: 37.0/16.6/25.6, 37.5/17.0/26.1, 35.4/15.3/24.4,
// 33.8/13.5/23.7), reported on the even ones (README).
const overviewWindow = 3

// DefaultOverviewSentences is how many sentences an overview quotes: the
// lead and the most central others.
const DefaultOverviewSentences = 2

// LeadSentences are the story's first n sentences from its news lead on
// (past a dateline and picture captions): the Lead-n baseline of summaries.
func (ix *Index) LeadSentences(story, n int) []string {
	var out []string
	for g := ix.leadSentence(story); g < ix.nSents && ix.storyOf(g) == story && len(out) < n; g++ {
		out = append(out, ix.sentenceText(g))
	}
	return out
}

// overview is the story's lead and its most central other sentences (by
// cosine with the story's mean sentence vector, encoder's when there is
// one), each unlike those already picked, in story order after the lead.
func (ix *Index) overview(ctx context.Context, story int) []candidate {
	lead := ix.leadSentence(story)
	base := ix.storyBase[story]
	end := ix.nSents
	if story+1 < len(ix.storyBase) {
		end = ix.storyBase[story+1]
	}
	vecs := ix.centralVectors(ctx, base, end)
	picked := []int{lead}
	if vecs != nil {
		rows, _ := vecs(base)
		centre := make([]float32, rows.dims)
		for g := base; g < end; g++ {
			rows, r := vecs(g)
			rows.addTo(centre, r)
		}
		type central struct {
			g int
			c float64
		}
		var cs []central
		// News puts what matters first: the central sentences are sought
		// among the lead's next few (overviewWindow), not deep in quotes.
		for g := lead + 1; g < min(end, lead+1+overviewWindow); g++ {
			if len(words(ix.sentenceText(g))) < 8 {
				continue
			}
			rows, r := vecs(g)
			cs = append(cs, central{g, rows.cosine(r, centre)})
		}
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].c > cs[j].c })
		for _, c := range cs {
			if len(picked) == ix.opts.OverviewSentences {
				break
			}
			redundant := false
			for _, p := range picked {
				redundant = redundant || overlap(ix.sentenceTerms(c.g), ix.sentenceTerms(p)) > 0.5
			}
			if !redundant {
				picked = append(picked, c.g)
			}
		}
	} else {
		for g := lead + 1; g < end && len(picked) < ix.opts.OverviewSentences; g++ {
			picked = append(picked, g)
		}
	}
	sort.Ints(picked[1:])
	out := make([]candidate, len(picked))
	for i, g := range picked {
		out[i] = candidate{sentence: g, chunk: ix.chunkOf(g)}
	}
	return out
}

// chunkOf is the first chunk holding global sentence g.
func (ix *Index) chunkOf(g int) int {
	story := ix.storyOf(g)
	local := g - ix.storyBase[story]
	for i, c := range ix.chunks {
		if c.Story == story && c.First <= local && local <= c.Last {
			return i
		}
	}
	return 0
}

// listStories answers a whole-story question that points at no story of
// several: what the bot knows, each story's lead cited.
func (ix *Index) listStories(a *Answer) {
	const shown = 5
	var picked []candidate
	for s := range ix.stories {
		if len(picked) == shown {
			break
		}
		g := ix.leadSentence(s)
		picked = append(picked, candidate{sentence: g, chunk: ix.chunkOf(g)})
	}
	a.Preface = fmt.Sprintf("I know %d stories; ask about one of them by what it is about.", len(ix.stories))
	if len(ix.stories) > shown {
		a.Preface += fmt.Sprintf(" %d of them:", shown)
	}
	ix.quote(a, picked)
	var b strings.Builder
	b.WriteString(a.Preface)
	for _, c := range a.Citations {
		fmt.Fprintf(&b, " %s: %s [%d]", c.Title, c.Quote, c.N)
	}
	if len(ix.stories) > shown {
		fmt.Fprintf(&b, " … and %d more.", len(ix.stories)-shown)
	}
	a.Text = b.String()
}

// metaAnswer answers who published the story and when from its front matter
// and attribution line, and cites its dateline when it has one.
func (ix *Index) metaAnswer(a *Answer, story int, q string) {
	st := ix.stories[story]
	var facts []string
	if st.Publisher != "" {
		facts = append(facts, st.Publisher)
	}
	if st.Year != 0 {
		facts = append(facts, strconv.Itoa(st.Year))
	}
	quote := strings.Join(facts, ", ")
	from := "front matter"
	if quote == "" && st.Attribution != "" {
		quote, from = st.Attribution, "attribution"
	}
	if quote == "" {
		a.Outcome, a.Found, a.Confidence = OutcomeNone, false, 0
		a.Text = "The story does not say who published it or when."
		return
	}
	a.Citations = []Citation{{N: 1, StoryID: st.ID, Title: st.Title, Publisher: st.Publisher, Year: st.Year, URL: st.URL, Quote: quote, From: from}}
	var text strings.Builder
	fmt.Fprintf(&text, "%q", st.Title)
	if st.Publisher != "" {
		fmt.Fprintf(&text, " was published by %s", st.Publisher)
	}
	if st.Year != 0 {
		fmt.Fprintf(&text, " in %d", st.Year)
	}
	text.WriteString(" [1].")
	if st.Attribution != "" && from != "attribution" {
		text.WriteString(" " + st.Attribution)
	}
	if st.URL != "" {
		text.WriteString(" " + st.URL)
	}
	// A dateline ("Friday, July 21, 2017") dates the story to the day.
	if g := ix.storyBase[story]; g < ix.nSents && ix.storyOf(g) == story {
		if dl := ix.sentenceText(g); len(words(dl)) <= 6 && datePattern.MatchString(dl) {
			cit := ix.citation(candidate{sentence: g, chunk: ix.chunkOf(g)}, 2)
			a.Citations = append(a.Citations, cit)
			fmt.Fprintf(&text, " Dated %s [2].", dl)
		}
	}
	a.Text = text.String()
}

// ForeignText is the reply to a question that is not in English: the stories
// are read in English, so any quote would be a guess.
const ForeignText = "I can only read questions in English, and this one does not look like English. Please ask in English."

// looksForeign: a question of two or more words with no English function
// word, whose words the stories do not have either, or one written mostly in
// a script the stories do not use. Names alone ("Claudia Sheinbaum?") are
// in the stories, so they pass.
func (ix *Index) looksForeign(q string) bool {
	ws := words(q)
	latin, letters := 0, 0
	for _, r := range q {
		if unicode.IsLetter(r) {
			letters++
			if unicode.Is(unicode.Latin, r) {
				latin++
			}
		}
	}
	if letters > 0 && latin*2 < letters {
		// Mostly another script: foreign unless the stories use it too.
		for _, w := range ws {
			if ix.sentencesWith(stem(w)) > 0 {
				return false
			}
		}
		return true
	}
	if len(ws) < 3 {
		return false
	}
	known := 0
	for _, w := range ws {
		if stopWords[w] || englishQuestionWords[w] {
			return false
		}
		if ix.sentencesWith(stem(w)) > 0 {
			known++
		}
	}
	return known*2 < len(ws)
}

// englishQuestionWords are typed in questions but are not stop words.
var englishQuestionWords = toSet("whats", "whos", "wheres", "hows", "pls", "plz", "tl", "dr", "tldr", "gist", "summary", "summarize",
	"explain", "like", "im", "ive", "eli5", "describe", "tell", "show", "give", "know", "think", "please", "thanks", "ok", "okay", "lol")
