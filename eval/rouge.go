package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"storybot/knowledge"
	"storybot/retrieval"
)

// Summary is one human summary of a story (wikinews/summaries.jsonl).
type Summary struct {
	StoryID string `json:"story_id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	Genre   string `json:"genre"`
}

// ReadSummaries decodes a summaries JSONL file.
func ReadSummaries(r io.Reader) ([]Summary, error) {
	var out []Summary
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var s Summary
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if s.StoryID == "" || strings.TrimSpace(s.Summary) == "" {
			return nil, fmt.Errorf("line %d: field \"story_id\" or \"summary\" is empty", n)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no summaries")
	}
	return out, nil
}

// Rouge holds mean ROUGE-1, ROUGE-2 and ROUGE-L F1 (×100) against the human
// summaries.
type Rouge struct {
	R1 float64 `json:"rouge_1"`
	R2 float64 `json:"rouge_2"`
	RL float64 `json:"rouge_l"`
	// Words is the mean length of the system's summaries.
	Words float64 `json:"words"`
}

// SummaryReport compares the bot's overview answers with the lead
// baselines, all against the same human summaries.
type SummaryReport struct {
	Articles int   `json:"articles"`
	Overview Rouge `json:"overview"`
	// Lead1 and Lead3 are the first sentences from the news lead on, past
	// the dateline and captions the Wikinews texts keep; First1 and First3
	// the first sentences of the text as it is.
	Lead1  Rouge `json:"lead_1"`
	Lead3  Rouge `json:"lead_3"`
	First1 Rouge `json:"first_1"`
	First3 Rouge `json:"first_3"`
	// OverviewAnswered is the share of overview questions answered
	// confidently (the rest are scored as empty summaries).
	OverviewAnswered float64 `json:"overview_answered"`
}

// OverviewQuestion is what the summary run asks of each story.
const OverviewQuestion = "what is this story about"

// RunSummaries asks each summarised story, alone in a knowledge base, the
// overview question, and scores the answer's quotes beside the story's
// first sentence and first three sentences.
func RunSummaries(ctx context.Context, sums []Summary, storiesDir string, opts Options) (*SummaryReport, error) {
	stories, err := knowledge.LoadDir(storiesDir)
	if err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	byID := map[string]*knowledge.Story{}
	for _, s := range stories {
		byID[s.ID] = s
	}
	rep := &SummaryReport{}
	var answered int
	for i, sum := range sums {
		s, ok := byID[sum.StoryID]
		if !ok {
			return nil, fmt.Errorf("summary %d: story %q is not in %s", i, sum.StoryID, storiesDir)
		}
		ix, err := retrieval.Build(ctx, []*knowledge.Story{s}, opts.Retrieval)
		if err != nil {
			return nil, fmt.Errorf("story %s: %w", s.ID, err)
		}
		ans, err := ix.Ask(ctx, OverviewQuestion)
		if err != nil {
			return nil, fmt.Errorf("story %s: %w", s.ID, err)
		}
		var quotes []string
		if ans.Found {
			answered++
			for _, c := range ans.Citations {
				quotes = append(quotes, c.Quote)
			}
		}
		if opts.Record != nil {
			r := newResult(ans, nil)
			r.ID, r.Article, r.Question, r.Answerable, r.Kind = sum.StoryID, s.Title, OverviewQuestion, true, "overview"
			opts.Record(r)
		}
		sents := retrieval.SplitStory(s.Body)
		first := func(n int) string {
			var b []string
			for _, st := range sents[:min(n, len(sents))] {
				b = append(b, s.Body[st.Start:st.End])
			}
			return strings.Join(b, " ")
		}
		lead := func(n int) string { return strings.Join(ix.LeadSentences(0, n), " ") }
		ref := rougeTokens(sum.Summary)
		addRouge(&rep.Overview, rougeTokens(strings.Join(quotes, " ")), ref)
		addRouge(&rep.Lead1, rougeTokens(lead(1)), ref)
		addRouge(&rep.Lead3, rougeTokens(lead(3)), ref)
		addRouge(&rep.First1, rougeTokens(first(1)), ref)
		addRouge(&rep.First3, rougeTokens(first(3)), ref)
		rep.Articles++
		if opts.Progress != nil {
			opts.Progress(i+1, len(sums))
		}
	}
	for _, r := range []*Rouge{&rep.Overview, &rep.Lead1, &rep.Lead3, &rep.First1, &rep.First3} {
		n := float64(max(1, rep.Articles))
		r.R1, r.R2, r.RL, r.Words = r.R1/n, r.R2/n, r.RL/n, r.Words/n
	}
	rep.OverviewAnswered = pct(float64(answered), rep.Articles)
	return rep, nil
}

func addRouge(r *Rouge, sys, ref []string) {
	r.R1 += 100 * ngramF1(sys, ref, 1)
	r.R2 += 100 * ngramF1(sys, ref, 2)
	r.RL += 100 * lcsF1(sys, ref)
	r.Words += float64(len(sys))
}

// rougeTokens lower-cases and splits on anything not a letter or digit, as
// the reference ROUGE scorer does (without stemming).
func rougeTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func ngramF1(sys, ref []string, n int) float64 {
	count := func(t []string) map[string]int {
		m := map[string]int{}
		for i := 0; i+n <= len(t); i++ {
			m[strings.Join(t[i:i+n], " ")]++
		}
		return m
	}
	cs, cr := count(sys), count(ref)
	overlap, ns, nr := 0, 0, 0
	for g, c := range cs {
		overlap += min(c, cr[g])
		ns += c
	}
	for _, c := range cr {
		nr += c
	}
	return fscore(overlap, ns, nr)
}

func lcsF1(sys, ref []string) float64 {
	prev := make([]int, len(ref)+1)
	cur := make([]int, len(ref)+1)
	for i := range sys {
		for j := range ref {
			if sys[i] == ref[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return fscore(prev[len(ref)], len(sys), len(ref))
}

func fscore(overlap, nSys, nRef int) float64 {
	if overlap == 0 || nSys == 0 || nRef == 0 {
		return 0
	}
	p, r := float64(overlap)/float64(nSys), float64(overlap)/float64(nRef)
	return 2 * p * r / (p + r)
}
