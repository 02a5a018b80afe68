package retrieval

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// People ask two things at once: "who is Gorka and what does he want?",
// "when were the cartels designated? why?". Read as one question, the
// second half's words count against every sentence that answers the
// first, and the question is declined. Each part is answered on its own,
// and the answer quotes what answers each.

// questionJoin is where a second question starts: after a question mark,
// or after "and"/"also"/"plus" followed by a question word.
var questionJoin = regexp.MustCompile(`(?i)(\?+\s*|[,;]?\s+(?:and|also|plus|&)\s+(?:also\s+)?)((?:who|whom|whose|what|what's|whats|when|where|why|how|which|is|are|was|were|does|do|did|can|could|will|would|has|have)\b)`)

// questionStart: a part that asks opens on a question word.
var questionStart = regexp.MustCompile(`(?i)^\W*(?:who|whom|whose|what|what's|whats|when|where|why|how|which|is|are|was|were|does|do|did|can|could|will|would|has|have)\b`)

// maxParts bounds how many questions one message is read as.
const maxParts = 3

// splitQuestion is q's questions, or q alone when it asks one thing. When
// the first part names nothing ("who is for" in "who is for and who is
// against the strikes") it is no question of its own, and q is read whole.
// A pronoun in a later part ("what does he want") stands for what the
// first part names ("Gorka"), and a later part that names nothing ("why?")
// asks about it too.
func splitQuestion(q string) []string {
	ms := questionJoin.FindAllStringSubmatchIndex(q, -1)
	if len(ms) == 0 || len(ms)+1 > maxParts {
		return []string{q}
	}
	var parts []string
	from := 0
	for _, m := range ms {
		parts = append(parts, strings.TrimSpace(q[from:m[2]]))
		from = m[4]
	}
	parts = append(parts, strings.TrimSpace(q[from:]))
	subject := strings.Join(contentWords(parts[0]), " ")
	// "Who wrote this and what is it about?": a first part about the
	// story as a whole names the story, and "it" is the story.
	whole := aboutWholeStory(parts[0])
	if !whole && (subject == "" || !questionStart.MatchString(parts[0])) {
		// "Communities are large, spread-out, and what other
		// characteristic?" is one question.
		return []string{q}
	}
	if isMeta(parts[0]) && namesNothing(parts[1:]) && !anyWholeStory(parts[1:]) {
		// "Who published this and when?" asks the front matter both
		// things at once: its answer gives the publisher and the year.
		return []string{q}
	}
	for i := 1; i < len(parts) && !whole; i++ {
		parts[i] = replacePronoun(parts[i], subject)
		if len(contentWords(parts[i])) == 0 && !aboutWholeStory(parts[i]) {
			// "… designated? why?" asks why of the first part.
			parts[i] = strings.TrimRight(parts[i], "?!. ") + " " + subject
		}
	}
	return parts
}

// namesNothing reports whether no part names anything of its own ("when?").
func namesNothing(parts []string) bool {
	for _, p := range parts {
		if len(contentWords(p)) > 0 {
			return false
		}
	}
	return true
}

// aboutWholeStory reports whether part p asks about the story as a whole:
// "what is it about" names nothing, and asks no question of the first
// part's subject.
func aboutWholeStory(p string) bool { return isOverview(p) || isMeta(p) }

// anyWholeStory reports whether any of parts is about the story as a whole.
func anyWholeStory(parts []string) bool {
	for _, p := range parts {
		if aboutWholeStory(p) {
			return true
		}
	}
	return false
}

// contentWords are q's words past stop words and question frames.
func contentWords(q string) []string {
	var out []string
	for _, w := range words(q) {
		if !stopWords[w] && !frameWords[askStance][w] && !frameWords[askRole][w] && !chatFillers[w] && !stanceVerbs[w] {
			out = append(out, w)
		}
	}
	return out
}

var chatFillers = toSet("pls", "please", "plz", "thanks", "thx", "ty")

// stanceVerbs say who is for what; what a later part asks about is the
// thing, not the verb: "who favors strikes? who is against them?".
var stanceVerbs = toSet("support", "supports", "favor", "favors", "favour", "favours", "back", "backs", "oppose", "opposes", "want", "wants", "like", "likes")

var subjectPronoun = regexp.MustCompile(`(?i)\b(he|she|they|him|her|them|it)\b|\b(his|their|its)\b`)

// replacePronoun puts subject in place of the first personal pronoun of p
// ("what does he want" → "what does gorka want"; "his job" → "gorka's job").
func replacePronoun(p, subject string) string {
	if subject == "" {
		return p
	}
	m := subjectPronoun.FindStringSubmatchIndex(p)
	if m == nil {
		return p
	}
	repl := subject
	if m[4] >= 0 {
		repl = subject + "'s"
	}
	return p[:m[0]] + repl + p[m[1]:]
}

// askParts answers each part and joins the answers: the quotes of each in
// turn, numbered anew, a sentence quoted once. The outcome is the weakest
// part's, so that a part the story does not answer is never hidden behind
// one it does: hedged when any part is hedged or declined and some part has
// quotes, declined when no part has any.
func (ix *Index) askParts(ctx context.Context, asked string, parts []string, follow int, start time.Time) (*Answer, error) {
	out := &Answer{Question: asked, Outcome: OutcomeAnswer, Index: ix.version, Confidence: 1, Score: 1}
	seen := map[string]bool{}
	var declined []string
	for i, p := range parts {
		a, err := ix.answerOne(ctx, p, p, follow, start)
		if err != nil {
			return nil, fmt.Errorf("part %d of the question: %w", i+1, err)
		}
		if i == 0 {
			out.Kind = a.Kind
		}
		out.Degraded = out.Degraded || a.Degraded
		if out.Note == "" {
			out.Note = a.Note
		}
		out.Score = min(out.Score, a.Score)
		out.Confidence = min(out.Confidence, a.Confidence)
		if a.Outcome != OutcomeAnswer && out.Outcome == OutcomeAnswer {
			out.Outcome = OutcomeClosest
		}
		if len(a.Citations) == 0 {
			declined = append(declined, p)
		}
		for _, c := range a.Citations {
			key := fmt.Sprintf("%s/%d/%d/%s", c.StoryID, c.Paragraph, c.Sentence, c.From)
			if seen[key] {
				continue
			}
			seen[key] = true
			c.N = len(out.Citations) + 1
			out.Citations = append(out.Citations, c)
		}
	}
	if len(out.Citations) == 0 {
		out.Outcome, out.Confidence = OutcomeNone, 0
		out.Text = notFoundText(len(ix.stories))
		out.Took = time.Since(start)
		return out, nil
	}
	writeText(out)
	out.Took = time.Since(start)
	return out, nil
}
