package retrieval

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"storybot/retrieval/wordnet"
)

// Answer is what storybot says to a question: quoted sentences with numbered
// citations, the closest sentences when the story does not say exactly, or a
// plain statement that the stories do not say.
type Answer struct {
	Question string `json:"question"`
	// Outcome is OutcomeAnswer, OutcomeClosest or OutcomeNone.
	Outcome string `json:"outcome"`
	// Found is Outcome == OutcomeAnswer: a sentence answers confidently.
	Found bool   `json:"found"`
	Text  string `json:"text"`
	// Preface, when set, says what the citations are before they are
	// quoted ("I know 73 stories; …" over a list of their leads). Text
	// opens with it; a reply rebuilt from Citations must show it too.
	Preface string `json:"preface,omitempty"`
	// Citations are the quoted sentences: the answer, or with
	// OutcomeClosest the nearest the story comes. None with OutcomeNone.
	Citations []Citation `json:"citations"`
	// Kind is the kind of question read: "factoid", "overview", "stance",
	// "role", "yesno", "reason" or "meta".
	Kind string `json:"kind"`
	// Degraded is set when the vector leg failed (a provider timed out or
	// returned garbage) and the answer comes from keyword search alone;
	// Note says so in words.
	Degraded bool   `json:"degraded,omitempty"`
	Note     string `json:"note,omitempty"`
	// Score is the best sentence's answerability (its share of the
	// question's weighted terms plus half its cosine with the question), the
	// figure the decline threshold is applied to.
	Score float64 `json:"score"`
	// Confidence is the best sentence's fitted chance of holding the
	// answer; below the answer threshold the outcome is OutcomeClosest.
	Confidence float64       `json:"confidence"`
	Index      string        `json:"index"`
	Took       time.Duration `json:"took_ns"`
}

// Citation locates one quoted sentence in its story.
type Citation struct {
	N         int    `json:"n"`
	StoryID   string `json:"story_id"`
	Title     string `json:"title"`
	Publisher string `json:"publisher,omitempty"`
	Year      int    `json:"year,omitempty"`
	URL       string `json:"url,omitempty"`
	Paragraph int    `json:"paragraph"`
	Sentence  int    `json:"sentence"`
	Quote     string `json:"quote"`
	// Start and End are byte offsets of Quote in the story's body.
	Start   int    `json:"start"`
	End     int    `json:"end"`
	ChunkID string `json:"chunk_id"`
	// From is empty for a sentence of the story's text; "front matter" or
	// "attribution" when Quote is the story's publisher and year or its
	// copyright line (Paragraph and Sentence are then 0).
	From string `json:"from,omitempty"`
}

// The three outcomes of a question.
const (
	// OutcomeAnswer: the cited sentences answer it.
	OutcomeAnswer = "answer"
	// OutcomeClosest: the story is on the question's topic but does not
	// say exactly; the cited sentences are the closest it comes.
	OutcomeClosest = "closest"
	// OutcomeNone: the stories do not touch it.
	OutcomeNone = "none"
)

// ClosestIntro opens a hedged answer. It never claims the passage does not
// answer: the bot cannot know that, only that it is not sure.
const ClosestIntro = "The story doesn't say exactly; the closest it comes:"

// NotFoundText is how an answer declines. It reads as an answer, not an error.
func notFoundText(stories int) string {
	if stories == 1 {
		return "The story does not say."
	}
	return "None of the stories say."
}

// partialCredit is what a word of the same family counts for: "mexican" for
// "mexico".
const partialCredit = 0.8

// typeCredit is what a sentence naming someone new counts for the word
// that names the answer's type ("newspaper" in "which newspaper …").
const typeCredit = 0.7

const maxSupporting = 2

// Ask answers a question from the snapshot. Bad questions return one of the
// Err* values; a question the stories do not answer is an Answer with Found
// false, not an error.
func (ix *Index) Ask(ctx context.Context, question string) (*Answer, error) {
	return ix.ask(ctx, question, -1)
}

// ask is Ask for a question that follows up on story follow (-1: none).
func (ix *Index) ask(ctx context.Context, question string, follow int) (*Answer, error) {
	start := time.Now()
	q, err := CleanQuestion(question)
	if err != nil {
		return nil, err
	}
	asked := q
	q = ix.normalizeQuestion(q)
	if parts := splitQuestion(q); len(parts) > 1 {
		return ix.askParts(ctx, asked, parts, follow, start)
	}
	return ix.answerOne(ctx, asked, q, follow, start)
}

// answerOne answers q, one question read as Ask reads it; asked is what was
// typed, which the answer repeats. follow is the story q follows up on, or -1.
func (ix *Index) answerOne(ctx context.Context, asked, q string, follow int, start time.Time) (*Answer, error) {
	if ix.looksForeign(q) {
		return &Answer{Question: asked, Outcome: OutcomeNone, Kind: askOther.name(), Text: ForeignText, Index: ix.version, Took: time.Since(start)}, nil
	}
	kind := kindOf(q)
	if kind == askOverview && ix.namesNoTitle(withTopic(q)) {
		kind = askOther // "what's up with Gorka" asks about Gorka
	}
	if a := ix.wholeStoryAnswer(ctx, q, kind, follow); a != nil {
		a.Question = asked
		a.Took = time.Since(start)
		return a, nil
	}
	// "Tell me about the strikes" is read as "the strikes": the frame's
	// words ("tell", "story", "say") are in no sentence, and would count
	// against every one.
	if t := topicOf(q); t != "" {
		q = t
	}
	r, err := ix.read(ctx, q)
	if err != nil {
		return nil, err
	}
	a := &Answer{Question: asked, Index: ix.version}
	switch {
	case r.search.Degraded != nil:
		a.Degraded = true
		a.Note = "Semantic search was unavailable, so this answer comes from keyword search alone."
	case r.encoderErr != nil:
		a.Degraded = true
		a.Note = "The sentence encoder was unavailable, so this answer was picked by word vectors and keywords."
	}
	qi, cands, threshold := r.question, r.cands, r.threshold
	a.Kind = qi.asked.name()
	// With several stories, the answer comes from the one the question
	// points to.
	// Its sentences are read from that story's best passages, as if it
	// were the only story, not just from those that made the top k.
	cands, story := ix.pointedCandidates(qi, cands)
	// Chosen on the natural set's fit half, folder mode: 3 more of 62
	// unanswerable questions declined, no answerable one lost. A follow-up
	// read against the story it follows is not judged by another's
	// passing mention; one that leaves it for that story is.
	passing := len(cands) > 0 && ix.passingMention(qi, story, cands[0].sentence)
	story = ix.followedStory(qi, r.search, story, follow)
	passing = passing && story != follow
	all := qi
	if story >= 0 {
		if hits := ix.storyHits(r.search, story, ix.opts.TopK); len(hits) > 0 {
			qi = ix.inStory(qi, story)
			cands = ix.score(ctx, qi, hits)
		}
	}
	// Below the threshold a question that names what its one story names
	// is hedged, not declined: the story touches it.
	below := len(cands) > 0 && onTopic(cands) < threshold
	hedgeOnly := below && (ix.namesRareTerm(qi, topScored(cands)) || ix.namesTitleTerm(qi))
	if len(cands) == 0 || below && !hedgeOnly || passing || ix.offTopic(ctx, all, topScored(cands)) {
		a.Outcome = OutcomeNone
		a.Text = notFoundText(len(ix.stories))
		if len(cands) > 0 {
			a.Score = onTopic(cands)
		}
		a.Took = time.Since(start)
		return a, nil
	}
	if qi.asked == askStance || qi.asked == askYesNo {
		ix.holderFirst(cands, holderTerms(q))
	}
	// The best sentence is [1]: the answer first, then what supports it.
	picked := ix.pickSupporting(qi, cands, threshold)
	// "When did the broadcasts start?" — "South Korea had recently
	// started to broadcast propaganda. The broadcasts began on August
	// 10." The next sentence holds the date the best one lacks: it is
	// the answer, so it is quoted first. (Chosen on the natural set's fit
	// half; a name for "who" is not swapped: the sentence that states the
	// position reads first.)
	if len(picked) > 1 && (qi.kind == askWhen || qi.kind == askNumber) && !picked[0].cue && picked[1].cue && picked[1].score >= 0.8*picked[0].score && ix.distance(picked[0].sentence, picked[1].sentence) == 1 {
		picked[0], picked[1] = picked[1], picked[0]
	}
	a.Score = cands[0].answerability()
	a.Confidence = ix.confidence(qi, cands)
	a.Outcome = OutcomeAnswer
	if a.Confidence < ix.opts.AnswerAbove || hedgeOnly {
		a.Outcome = OutcomeClosest
	}
	if ix.casualtyMismatch(q, qi, cands[0].sentence) {
		a.Outcome = OutcomeClosest
	}
	if qi.asked == askNumber && !ix.givesQuantity(q, cands[0]) {
		a.Outcome = OutcomeClosest
	}
	if h := holderTerms(q); h != nil && qi.asked == askStance && (!ix.namesHolder(cands[0].sentence, h) || sayQuestion.MatchString(q) && !ix.givesWords(cands[0].sentence, h)) {
		a.Outcome = OutcomeClosest
	}
	if qi.asked != askYesNo && ignorance.MatchString(ix.sentenceText(picked[0].sentence)) {
		a.Outcome = OutcomeClosest
	}
	ix.quote(a, picked)
	a.Took = time.Since(start)
	return a, nil
}

// quote cites the picked sentences in a and writes its text: the quotes
// with their [n] markers, after ClosestIntro for a hedged answer.
func (ix *Index) quote(a *Answer, picked []candidate) {
	for n, c := range picked {
		a.Citations = append(a.Citations, ix.citation(c, n+1))
	}
	writeText(a)
}

// writeText sets a's text from its outcome and citations, the way every
// answer reads: ClosestIntro when hedged, the preface, then each quote with
// its [n].
func writeText(a *Answer) {
	var text strings.Builder
	if a.Outcome == OutcomeClosest {
		text.WriteString(ClosestIntro)
	}
	if a.Preface != "" {
		if text.Len() > 0 {
			text.WriteByte(' ')
		}
		text.WriteString(a.Preface)
	}
	for _, c := range a.Citations {
		if text.Len() > 0 {
			text.WriteByte(' ')
		}
		fmt.Fprintf(&text, "%s [%d]", c.Quote, c.N)
	}
	a.Found = a.Outcome == OutcomeAnswer
	a.Text = text.String()
}

// reading is a question read against the snapshot: the passages found, the
// question prepared for scoring, its candidate sentences (best first) and
// the answerability the best must reach.
type reading struct {
	search     SearchResult
	question   questionInfo
	cands      []candidate
	threshold  float64
	encoderErr error // the encoder failed; the candidates were scored without it
}

func (ix *Index) read(ctx context.Context, q string) (reading, error) {
	res, qvec, err := ix.search(ctx, q, ix.opts.TopK)
	if err != nil {
		return reading{}, fmt.Errorf("search: %w", err)
	}
	r := reading{search: res, question: ix.analyze(q)}
	r.question.vec = qvec
	// The encoder's weights and threshold were fitted beside the word
	// vectors' cosine; a question without one is read without the other.
	if qvec != nil && !isZero(qvec) {
		if r.question.enc, r.encoderErr = ix.encodeQuestion(ctx, q); r.encoderErr != nil && ctx.Err() != nil {
			return reading{}, ctx.Err()
		}
	}
	r.cands = ix.score(ctx, r.question, res.Hits)
	switch {
	case r.question.enc != nil:
		r.threshold = ix.opts.DeclineBelowEncoder
	case qvec == nil || isZero(qvec):
		r.threshold = ix.opts.DeclineBelowLexical
	default:
		r.threshold = ix.opts.DeclineBelow
	}
	return r, nil
}

// encodeQuestion is the question's sentence-encoder vector, or nil when the
// snapshot has no encoder or the question has no known word.
func (ix *Index) encodeQuestion(ctx context.Context, q string) ([]float32, error) {
	if !ix.hasEncoder() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, ix.opts.QueryTimeout)
	defer cancel()
	vecs, err := ix.opts.Encoder.Embed(ctx, []string{q})
	if err != nil {
		return nil, fmt.Errorf("encode question with %s: %w", ix.opts.Encoder.ID(), err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("encode question with %s: got %d vectors for 1 text", ix.opts.Encoder.ID(), len(vecs))
	}
	if isZero(vecs[0]) {
		return nil, nil
	}
	return vecs[0], nil
}

// questionInfo is a question prepared for scoring sentences.
type questionInfo struct {
	kind     questionType // what the answer sentence should hold
	asked    questionType // the kind reported: a "who backs" stance question is scored as askWho
	terms    []string     // distinct stems
	weights  []float64    // IDF over the snapshot's sentences
	total    float64
	lower    map[string]bool      // every word of the question, lower case
	allWords []string             // every word of the question in order, lower case
	rarest   string               // the term with the highest IDF
	vec      []float32            // the question's vector; nil without an embedder
	enc      []float32            // the question's sentence-encoder vector; nil without one
	links    []map[string]float64 // per term: stems WordNet links to it, and their credit (Options.WordNet)
	// rankLinks are WordNet's links used only to rank the candidates,
	// never in coverage: they find the paraphrase among on-topic
	// sentences without lifting an off-topic one over the decline rule.
	rankLinks []map[string]float64
	antonyms  map[string]bool // stems WordNet opposes to the question's words
	names     []string        // capitalised words past the first, lower case
	phrases   [][]string      // runs of capitalised words past the first (namephrase.go)
	numbers   []string        // numbers and years the question names
	// bases memoises sentence terms' WordNet base forms (baseStems) for
	// this question's ranking.
	bases map[string][]string
	// irregular are, per term, the stems of its irregular forms, which
	// coverage counts as the term: "led" for "lead", "found" for "find".
	irregular [][]string
	// defines is what a "what is X" question asks to define, lower case,
	// or "" (definition.go).
	defines string
	// lists: a "which Ns" question asks for a list (definition.go).
	lists bool
	// typeTerm is the index in terms of the word that names what the
	// answer is ("newspaper" in "which newspaper reported …"), or -1. A
	// sentence naming someone new earns it partly: it names the newspaper.
	typeTerm int
}

func (ix *Index) analyze(q string) questionInfo {
	qi := questionInfo{kind: kindOf(q), lower: map[string]bool{}, typeTerm: -1, bases: map[string][]string{}}
	var typeWord string
	if m := answerTypeQuestion.FindStringSubmatch(q); m != nil {
		typeWord = strings.ToLower(m[1])
	}
	qi.asked = qi.kind
	qi.allWords = words(q)
	if qi.kind == askStance && whoQuestion.MatchString(q) {
		// "Who backs strikes?" wants a name, as "who" questions do: a
		// sentence saying "a faction supports strikes" is completed by
		// the nearby one that names who.
		qi.kind = askWho
	}
	qi.names, qi.numbers = questionNames(q), questionNumbers(q)
	qi.phrases = namePhrases(q)
	if qi.kind == askOther {
		qi.defines = definedTerm(q)
		qi.lists = listedKind(q) != ""
	}
	rarestIDF := 0.0
	frame := frameWords[qi.asked]
	for j, w := range qi.allWords {
		qi.lower[w] = true
		if stopWords[w] || frame[w] || countsPeople(qi.allWords, j) {
			continue
		}
		t := stem(w)
		if contains(qi.terms, t) {
			continue
		}
		if w == typeWord && qi.typeTerm < 0 {
			qi.typeTerm = len(qi.terms)
		}
		qi.terms = append(qi.terms, t)
		links := rankParaphrases(w)
		if qi.asked == askYesNo {
			// "Is the White House united?" is decided by the sentence
			// that says it is divided.
			for _, a := range wordnet.Antonyms(w) {
				if links == nil {
					links = map[string]float64{}
				}
				links[stem(a)] = max(links[stem(a)], synonymCredit)
				for s := range rankParaphrases(a) {
					links[s] = max(links[s], synonymCredit) // "division" for "divided"
				}
			}
		}
		qi.rankLinks = append(qi.rankLinks, links)
		qi.irregular = append(qi.irregular, irregularStems(w))
		if ix.opts.WordNet {
			qi.links = append(qi.links, paraphrases(w))
			for _, a := range antonymStems(w) {
				if qi.antonyms == nil {
					qi.antonyms = map[string]bool{}
				}
				qi.antonyms[a] = true
			}
		}
		idf := ix.sentenceIDF(t)
		qi.weights = append(qi.weights, idf)
		qi.total += idf
		if idf > rarestIDF {
			rarestIDF, qi.rarest = idf, t
		}
	}
	return qi
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// candidate is a sentence of a retrieved passage, scored for the question.
type candidate struct {
	sentence int // global sentence index
	chunk    int // best-ranked chunk holding it
	coverage float64
	cue      bool
	// stated: the sentence states something; it is not a question, nor a
	// fragment of fewer than minQuotedWords words. Only such a sentence
	// is quoted first.
	stated   bool
	features features
	score    float64
}

// score gathers the sentences of the retrieved chunks and scores each, best
// first.
func (ix *Index) score(ctx context.Context, qi questionInfo, hits []Hit) []candidate {
	if qi.total == 0 || len(hits) == 0 {
		return nil
	}
	type read struct{ g, chunk, rank int }
	seen := map[int]bool{}
	var sents []read
	var gs []int
	for rank, h := range hits {
		c := ix.chunks[h.Chunk]
		base := ix.storyBase[c.Story]
		for g := base + c.First; g <= base+c.Last; g++ {
			if !seen[g] {
				seen[g] = true
				sents = append(sents, read{g, h.Chunk, rank})
				gs = append(gs, g)
			}
		}
	}
	semantic := ix.sentenceCosines(ctx, gs, qi.vec)
	out := make([]candidate, 0, len(sents))
	for j, s := range sents {
		g, rank, h := s.g, s.rank, hits[s.rank]
		cand := candidate{sentence: g, chunk: s.chunk}
		text := ix.sentenceText(g)
		sentWords := words(text)
		cand.stated = !interrogative(text) && !captionLike(text, len(sentWords)) && len(sentWords) >= minQuotedWords
		cand.coverage = ix.coverage(qi, g)
		cand.cue = hasAnswerCue(qi.kind, text, qi.lower)
		f := &cand.features
		f[fCoverage] = cand.coverage
		sentTerms := ix.sentenceTerms(g)
		f[fBigram] = bigrams(qi.terms, sentTerms)
		f[fCue] = b2f(cand.cue)
		if qi.defines != "" && definesTerm(text, qi.defines) || qi.lists && listsItems(text) {
			f[fCue] = 1 // "The Torino scale is …", "the following languages: …"
		}
		if qi.asked == askStance && !cand.cue && stancePattern.MatchString(text) {
			// "Who backs strikes?" is answered by "a faction supports
			// strikes" as much as by a name; the name, if it is nearby,
			// is quoted after it (pickSupporting), so cue stays false.
			f[fCue] = 1
		}
		f[fRank] = 1 / float64(rank+1)
		f[fChunkScore] = h.Score / hits[0].Score
		f[fLength] = math.Log1p(float64(len(sentTerms)))
		f[fNeighbor] = ix.neighborCoverage(qi, g)
		f[fSemantic] = semantic[j]
		if n := len(qi.allWords); n > 1 {
			f[fPhrase] = float64(longestRun(qi.allWords, sentWords)) / float64(n)
		}
		f[fRarest] = b2f(contains(sentTerms, qi.rarest))
		weights := &pickerWeights
		if qi.enc != nil {
			f[fEncoder] = ix.encoderCosine(g, qi.enc)
			weights = &pickerWeightsEncoder
		}
		cand.score = f.dot(*weights) + weights[fCoverage]*(ix.rankCoverage(qi, g)-cand.coverage)
		out = append(out, cand)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	ix.answerAfterQuestion(qi, out)
	// A sentence that asks a question answers none: an interview's
	// question repeats the reader's words, and its answer follows it.
	// Such sentences go last, behind every sentence that states something.
	// So do fragments of a few words (a caption's "Tina McKenzie."): they
	// repeat the question's name and say nothing about it.
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].stated && !out[j].stated
	})
	return out
}

// answerAfterQuestion: when the sentence that best matches the question
// is itself a question (an interviewer's), the statement right after it
// is its answer; it is scored just below the question, so that it is
// quoted first while the question still shows the story is on topic. For
// what someone thinks or says, so is the statement after a lead-in ending
// in a colon ("Here's what reviewers said about Firefox:"). Other lead-ins
// hold their own answer ("in his article "A Machine to End War",
// published in 1937, Tesla stated:").
func (ix *Index) answerAfterQuestion(qi questionInfo, out []candidate) {
	if len(out) == 0 {
		return
	}
	if lead := ix.sentenceText(out[0].sentence); !interrogative(lead) && (qi.asked != askStance || !leadsIn(lead)) {
		return
	}
	q := out[0]
	for i := range out {
		if g := out[i].sentence; g == q.sentence+1 && ix.storyOf(g) == ix.storyOf(q.sentence) && out[i].stated {
			out[i].score = max(out[i].score, q.score-1e-9)
			out[0].stated = false // a lead-in goes behind what it leads in to
			sort.SliceStable(out, func(a, b int) bool { return out[a].score > out[b].score })
			return
		}
	}
}

// photoPosition marks a picture's caption: "Hill (right) with …".
var photoPosition = regexp.MustCompile(`(?i)\((left|right|centre|center|pictured|top|bottom|above|below|front|second from (left|right))\)`)

// captionLike reports whether a sentence reads as a picture's caption or a
// fragment of one rather than as a statement: it marks a position in the
// picture, or it is short and starts in lower case (the splitter cut it
// from a caption) or ends without a full stop, as captions and datelines
// do. A long sentence that does so is a statement the splitter cut badly.
func captionLike(s string, nWords int) bool {
	s = strings.TrimSpace(s)
	if photoPosition.MatchString(s) {
		return true
	}
	if nWords >= maxCaptionWords {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(strings.TrimRight(s, " \"'”’)]"))
	return unicode.IsLower(r) || !strings.ContainsRune(".!?:;…", last)
}

// maxCaptionWords: a caption fragment is shorter than this.
const maxCaptionWords = 12

// minQuotedWords is the fewest words a sentence quoted first has.
const minQuotedWords = 4

// onTopic is the answerability of the best-scored candidate, the question
// sentences that score sorts last among them: an interviewer's question
// shows that the story is on the question's topic, though the statement
// after it is what is quoted.
func onTopic(cands []candidate) float64 {
	best := topScored(cands)
	return best.answerability()
}

// topScored is the candidate of the highest score.
func topScored(cands []candidate) candidate {
	best := cands[0]
	for _, c := range cands[1:] {
		if c.score > best.score {
			best = c
		}
	}
	return best
}

// neighborCoverage is the best coverage of the sentences just before and
// after g in the same paragraph: an answer sentence often follows the one
// that repeats the question's words.
func (ix *Index) neighborCoverage(qi questionInfo, g int) float64 {
	best := 0.0
	for _, n := range ix.paragraphNeighbours(g) {
		if n >= 0 {
			best = max(best, ix.coverage(qi, n))
		}
	}
	return best
}

// paragraphNeighbours are the sentences just before and after g in its
// paragraph, -1 where there is none (an array: the picker asks for every
// candidate, and a slice would be allocated each time).
func (ix *Index) paragraphNeighbours(g int) [2]int {
	out := [2]int{-1, -1}
	for i, n := range [2]int{g - 1, g + 1} {
		if n >= 0 && n < ix.nSents && ix.storyOf(n) == ix.storyOf(g) && ix.paragraphOf(n) == ix.paragraphOf(g) {
			out[i] = n
		}
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// coverage is the IDF-weighted share of the question's terms that sentence g
// holds, exactly or as a word of the same family. Word-vector similarity is
// deliberately not counted here: it lifts the coverage of unrelated text as
// much as of paraphrases, and coverage is what the decline rule reads.
func (ix *Index) coverage(qi questionInfo, g int) float64 {
	var got float64
	for i := range qi.terms {
		got += ix.termCredit(qi, i, g) * qi.weights[i]
	}
	return got / qi.total
}

// rankCoverage is coverage with WordNet's rank links credited: what the
// picker ranks by. A sentence word is linked by its base form too, since
// the stemmer leaves irregular forms alone ("began" for "start" → "begin").
// Coverage itself, which the decline rule and the confidence read, stays
// as it was.
func (ix *Index) rankCoverage(qi questionInfo, g int) float64 {
	if qi.rankLinks == nil || qi.links != nil {
		return ix.coverage(qi, g)
	}
	var got float64
	terms := ix.sentenceTerms(g)
	for i := range qi.terms {
		credit := ix.termCredit(qi, i, g)
		if credit < 1 && qi.rankLinks[i] != nil {
			for _, s := range terms {
				credit = max(credit, qi.rankLinks[i][s])
				for _, b := range qi.baseStems(s) {
					credit = max(credit, qi.rankLinks[i][b])
				}
			}
		}
		got += credit * qi.weights[i]
	}
	return got / qi.total
}

// termCredit is how much of question term i sentence g holds: 1 for the
// term or an irregular form of it, partialCredit for a word of its family, synonymCredit for a word of
// its news class ("killed" for "died"), WordNet's credit for a linked word
// (with Options.WordNet), else 0.
func (ix *Index) termCredit(qi questionInfo, i, g int) float64 {
	t := qi.terms[i]
	best := 0.0
	if i == qi.typeTerm && hasNewName(ix.sentenceText(g), qi.lower) {
		best = typeCredit
	}
	class := newsClasses[t]
	for _, s := range ix.sentenceTerms(g) {
		if s == t {
			return 1
		}
		if best < partialCredit && sameFamily(s, t) {
			best = partialCredit
		}
		if qi.irregular != nil && contains(qi.irregular[i], s) {
			return 1 // an irregular form of the term: "led" for "lead"
		}
		if class != nil && contains(class, s) {
			best = max(best, synonymCredit)
		}
		if qi.links != nil {
			best = max(best, qi.links[i][s])
		}
	}
	return best
}

// sameFamily is a cheap morphology check the stemmer misses: "mexican" and
// "mexico" share a long prefix.
func sameFamily(a, b string) bool {
	short := min(len(a), len(b))
	if short < 5 {
		return false
	}
	n := 0
	for n < short && a[n] == b[n] {
		n++
	}
	return n >= 5 && float64(n) >= 0.8*float64(short)
}

// pickSupporting chooses the best sentence and up to maxSupporting more by
// maximal marginal relevance: relevant to the question, not a repeat of what
// is already quoted. A neighbour that supplies what the best sentence lacks
// ("who" answered by a name in the next sentence) is preferred.
func (ix *Index) pickSupporting(qi questionInfo, cands []candidate, threshold float64) []candidate {
	best := cands[0]
	picked := []candidate{best}
	used := map[int]bool{best.sentence: true}
	for len(picked) < 1+maxSupporting {
		bestMMR, bestI := -1.0, -1
		for i, c := range cands {
			// A caption, a fragment or the interviewer's question supports
			// nothing: it repeats the question's name and states nothing.
			if used[c.sentence] || !c.stated {
				continue
			}
			rel := c.score / best.score
			red := 0.0
			for _, p := range picked {
				red = max(red, overlap(ix.sentenceTerms(c.sentence), ix.sentenceTerms(p.sentence)))
			}
			dist := ix.distance(best.sentence, c.sentence)
			complement := qi.kind != askOther && !best.cue && c.cue && dist <= 2
			strong := rel >= 0.8 && c.answerability() >= threshold
			if !complement && !strong {
				continue
			}
			if complement {
				// A neighbour of the best sentence owes part of its score
				// to that neighbour: it does not tell which one names who.
				rel = (c.score - pickerWeights[fNeighbor]*c.features[fNeighbor]) / best.score
			}
			mmr := 0.7*rel - 0.3*red
			if complement {
				mmr += 0.5 / float64(dist) // the next sentence before the one after
			}
			if mmr > bestMMR {
				bestMMR, bestI = mmr, i
			}
		}
		if bestI < 0 || bestMMR <= 0 {
			break
		}
		picked = append(picked, cands[bestI])
		used[cands[bestI].sentence] = true
		if !best.cue && cands[bestI].cue {
			best.cue = true // the gap is filled; no second complement
		}
	}
	return picked
}

// distance counts the sentences between a and b in the same story; sentences
// of different stories are infinitely far apart.
func (ix *Index) distance(a, b int) int {
	if ix.storyOf(a) != ix.storyOf(b) {
		return math.MaxInt
	}
	return max(a-b, b-a)
}

// overlap is the Jaccard similarity of two term lists.
func overlap(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	set := make(map[string]bool, len(a))
	for _, t := range a {
		set[t] = true
	}
	inter, union := 0, len(set)
	seen := map[string]bool{}
	for _, t := range b {
		if seen[t] {
			continue
		}
		seen[t] = true
		if set[t] {
			inter++
		} else {
			union++
		}
	}
	return float64(inter) / float64(union)
}

func (ix *Index) sentenceText(g int) string {
	s := ix.sentence(g)
	return ix.stories[ix.storyOf(g)].Body[s.Start:s.End]
}

func (ix *Index) citation(c candidate, n int) Citation {
	s := ix.sentence(c.sentence)
	st := ix.stories[ix.storyOf(c.sentence)]
	return Citation{
		N:         n,
		StoryID:   st.ID,
		Title:     st.Title,
		Publisher: st.Publisher,
		Year:      st.Year,
		URL:       st.URL,
		Paragraph: s.Paragraph,
		Sentence:  s.Number,
		Quote:     st.Body[s.Start:s.End],
		Start:     s.Start,
		End:       s.End,
		ChunkID:   ix.chunks[c.chunk].ID,
	}
}

// bigrams is the share of the question's adjacent term pairs that occur
// adjacent in the sentence.
func bigrams(q, s []string) float64 {
	if len(q) < 2 {
		return 0
	}
	pairs := map[[2]string]bool{}
	for i := 0; i+1 < len(s); i++ {
		pairs[[2]string{s[i], s[i+1]}] = true
	}
	n := 0
	for i := 0; i+1 < len(q); i++ {
		if pairs[[2]string{q[i], q[i+1]}] {
			n++
		}
	}
	return float64(n) / float64(len(q)-1)
}

// baseStems is baseStems(s), memoised for the question's candidates.
func (qi questionInfo) baseStems(s string) []string {
	bases, ok := qi.bases[s]
	if !ok {
		bases = baseStems(s)
		qi.bases[s] = bases
	}
	return bases
}
