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
	// Record, if set, is called with each question's result.
	Record func(Result)
}

// Report holds the figures of a run, as percentages where the name says so.
type Report struct {
	Articles int `json:"articles"`
	Chunks   int `json:"chunks"`
	Outcomes

	// Recall@k: the share of answerable questions whose gold answer text
	// is in one of the first k chunks retrieved.
	Recall1  float64 `json:"recall_at_1"`
	Recall3  float64 `json:"recall_at_3"`
	Recall5  float64 `json:"recall_at_5"`
	Recall10 float64 `json:"recall_at_10"`
	MRR10    float64 `json:"mrr_at_10"`

	// EM and F1 score the first quoted sentence of the answerable
	// questions answered, with SQuAD's normalisation.
	EM float64 `json:"exact_match"`
	F1 float64 `json:"f1"`
	// AnswerRate is the share of all questions answered confidently.
	AnswerRate float64 `json:"answer_rate"`
	// DeclineRate is the share of off-article questions declined (with
	// AbstainTest).
	DeclineRate *float64 `json:"off_article_decline_rate,omitempty"`

	// ByKind holds the outcomes of each kind the set labels.
	ByKind map[string]Outcomes `json:"by_kind,omitempty"`

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
		done                        int
		hits1, hits3, hits5, hits10 int
		rr, em, f1sum, answered     float64
		declined, offTotal          int
		results                     []Result
	)
	for i, a := range d.Data {
		ix := indexes[i]
		for _, p := range a.Paragraphs {
			for _, q := range p.QAs {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				gold := goldTexts(q)
				rank := 0
				if !q.IsImpossible {
					res, err := ix.Search(ctx, q.Question, 10)
					if err != nil {
						return nil, fmt.Errorf("article %q, question %s: %w", a.Title, q.ID, err)
					}
					if rank = goldRank(ix, res.Hits, gold); rank > 0 {
						rr += 1 / float64(rank)
						hits1 += b2i(rank <= 1)
						hits3 += b2i(rank <= 3)
						hits5 += b2i(rank <= 5)
						hits10 += b2i(rank <= 10)
					}
				}
				ans, err := ix.Ask(ctx, q.Question)
				if err != nil {
					return nil, fmt.Errorf("article %q, question %s: %w", a.Title, q.ID, err)
				}
				r := newResult(ans, gold)
				r.ID, r.Article, r.Question, r.Answerable, r.Rank = q.ID, a.Title, q.Question, !q.IsImpossible, rank
				results = append(results, r)
				if opts.Record != nil {
					opts.Record(r)
				}
				if ans.Found {
					answered++
				}
				if len(ans.Citations) > 0 {
					if r.Answerable {
						em += exactMatch(r.Quote, gold)
						f1sum += f1(r.Quote, gold)
					}
				}
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
	rep.Outcomes = summarize(results)
	n := rep.Answerable
	rep.Recall1 = pct(float64(hits1), n)
	rep.Recall3 = pct(float64(hits3), n)
	rep.Recall5 = pct(float64(hits5), n)
	rep.Recall10 = pct(float64(hits10), n)
	if n > 0 {
		rep.MRR10 = rr / float64(n)
	}
	rep.EM = pct(em, n)
	rep.F1 = pct(f1sum, n)
	rep.AnswerRate = pct(answered, rep.Questions)
	rep.MedianMillis, rep.P99Millis = medianAndP99(results)
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
