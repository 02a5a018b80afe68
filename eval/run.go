package eval

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"storybot/knowledge"
	"storybot/retrieval"
)

// Options configure a run.
type Options struct {
	Retrieval retrieval.Options
	// AbstainTest also asks each article's questions against the next
	// article, where every one of them should be declined.
	AbstainTest bool
	// Indexing, if set, is called after each article is indexed: with the
	// sentence encoder that is most of a run's time.
	Indexing func(done, total int)
	// Progress, if set, is called after each question.
	Progress func(done, total int)
}

// Report holds the figures of a run, as percentages where the name says so.
type Report struct {
	Articles  int `json:"articles"`
	Questions int `json:"questions"`
	Chunks    int `json:"chunks"`

	// Recall@k: the share of questions whose gold answer text is in one of
	// the first k chunks retrieved.
	Recall1  float64 `json:"recall_at_1"`
	Recall3  float64 `json:"recall_at_3"`
	Recall5  float64 `json:"recall_at_5"`
	Recall10 float64 `json:"recall_at_10"`
	MRR10    float64 `json:"mrr_at_10"`

	// AnswerSentence1 is the share of questions whose first quoted
	// sentence holds a gold answer.
	AnswerSentence1 float64 `json:"answer_sentence_at_1"`
	// EM and F1 score the shortest quoted span with SQuAD's normalisation.
	EM float64 `json:"exact_match"`
	F1 float64 `json:"f1"`
	// AnswerRate is the share of questions answered rather than declined.
	AnswerRate float64 `json:"answer_rate"`
	// DeclineRate is the share of off-article questions declined (with
	// AbstainTest).
	DeclineRate *float64 `json:"off_article_decline_rate,omitempty"`

	MedianMillis float64 `json:"median_ms"`
	P99Millis    float64 `json:"p99_ms"`
}

// Run evaluates d. Each article becomes one story whose paragraphs are its
// contexts, separated by blank lines.
func Run(ctx context.Context, d *Dataset, opts Options) (*Report, error) {
	total := d.Questions()
	if opts.AbstainTest {
		total *= 2
	}
	indexes := make([]*retrieval.Index, len(d.Data))
	rep := &Report{Articles: len(d.Data)}
	for i, a := range d.Data {
		ix, err := buildArticle(ctx, a, opts.Retrieval)
		if err != nil {
			return nil, fmt.Errorf("article %q: %w", a.Title, err)
		}
		indexes[i] = ix
		rep.Chunks += len(ix.Chunks())
		if opts.Indexing != nil {
			opts.Indexing(i+1, len(d.Data))
		}
	}

	var (
		done                           int
		hits1, hits3, hits5, hits10    int
		rr, sent1, em, f1sum, answered float64
		declined, offTotal             int
		times                          []time.Duration
	)
	for i, a := range d.Data {
		ix := indexes[i]
		for _, p := range a.Paragraphs {
			for _, q := range p.QAs {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				gold := goldTexts(q)
				res, err := ix.Search(ctx, q.Question, 10)
				if err != nil {
					return nil, fmt.Errorf("article %q, question %s: %w", a.Title, q.ID, err)
				}
				if rank := goldRank(ix, res.Hits, gold); rank > 0 {
					rr += 1 / float64(rank)
					hits1 += b2i(rank <= 1)
					hits3 += b2i(rank <= 3)
					hits5 += b2i(rank <= 5)
					hits10 += b2i(rank <= 10)
				}
				start := time.Now()
				ans, err := ix.Ask(ctx, q.Question)
				times = append(times, time.Since(start))
				if err != nil {
					return nil, fmt.Errorf("article %q, question %s: %w", a.Title, q.ID, err)
				}
				if ans.Found {
					answered++
					first := ans.Citations[0].Quote
					if containsAny(first, gold) {
						sent1++
					}
					span := shortestSpan(ans)
					em += exactMatch(span, gold)
					f1sum += f1(span, gold)
				}
				rep.Questions++
				done++
				if opts.Progress != nil {
					opts.Progress(done, total)
				}
			}
		}
	}
	if opts.AbstainTest && len(d.Data) > 1 {
		for i, a := range d.Data {
			other := indexes[(i+1)%len(d.Data)]
			for _, p := range a.Paragraphs {
				for _, q := range p.QAs {
					ans, err := other.Ask(ctx, q.Question)
					if err != nil {
						return nil, fmt.Errorf("abstain test, article %q, question %s: %w", a.Title, q.ID, err)
					}
					offTotal++
					declined += b2i(!ans.Found)
					done++
					if opts.Progress != nil {
						opts.Progress(done, total)
					}
				}
			}
		}
		rate := pct(float64(declined), offTotal)
		rep.DeclineRate = &rate
	}
	n := rep.Questions
	rep.Recall1 = pct(float64(hits1), n)
	rep.Recall3 = pct(float64(hits3), n)
	rep.Recall5 = pct(float64(hits5), n)
	rep.Recall10 = pct(float64(hits10), n)
	if n > 0 {
		rep.MRR10 = rr / float64(n)
	}
	rep.AnswerSentence1 = pct(sent1, n)
	rep.EM = pct(em, n)
	rep.F1 = pct(f1sum, n)
	rep.AnswerRate = pct(answered, n)
	rep.MedianMillis, rep.P99Millis = percentileMillis(times, 0.5), percentileMillis(times, 0.99)
	return rep, nil
}

func buildArticle(ctx context.Context, a Article, opts retrieval.Options) (*retrieval.Index, error) {
	contexts := make([]string, len(a.Paragraphs))
	for i, p := range a.Paragraphs {
		contexts[i] = strings.TrimSpace(p.Context)
	}
	s := &knowledge.Story{ID: a.Title, Title: strings.ReplaceAll(a.Title, "_", " "), Body: strings.Join(contexts, "\n\n")}
	return retrieval.Build(ctx, []*knowledge.Story{s}, opts)
}

func goldTexts(q Question) []string {
	out := make([]string, len(q.Answers))
	for i, a := range q.Answers {
		out[i] = a.Text
	}
	return out
}

// goldRank is the 1-based rank of the first chunk holding a gold answer, or 0.
func goldRank(ix *retrieval.Index, hits []retrieval.Hit, gold []string) int {
	for r, h := range hits {
		if containsAny(ix.ChunkText(h.Chunk), gold) {
			return r + 1
		}
	}
	return 0
}

func containsAny(text string, gold []string) bool {
	for _, g := range gold {
		if strings.Contains(text, g) {
			return true
		}
	}
	return false
}

// shortestSpan is the shortest text the answer offers as its answer: the
// first quoted sentence.
func shortestSpan(a *retrieval.Answer) string {
	return a.Citations[0].Quote
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pct(x float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * x / float64(n)
}

func percentileMillis(ts []time.Duration, p float64) float64 {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}
