package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"storybot/knowledge"
	"storybot/retrieval"
)

// BoolQItem is one line of BoolQ: a real search query and the Wikipedia
// passage that decides it (yes or no).
type BoolQItem struct {
	Question string `json:"question"`
	Title    string `json:"title"`
	Answer   bool   `json:"answer"`
	Passage  string `json:"passage"`
}

// ReadBoolQ decodes a BoolQ JSONL file. Errors name the line.
func ReadBoolQ(r io.Reader) ([]BoolQItem, error) {
	var items []BoolQItem
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var it BoolQItem
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if strings.TrimSpace(it.Question) == "" || strings.TrimSpace(it.Passage) == "" {
			return nil, fmt.Errorf("line %d: field \"question\" or \"passage\" is empty", n)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no questions")
	}
	return items, nil
}

// BoolQReport: every BoolQ question is answered by its passage, so the
// figures that matter are how many are answered rather than declined.
type BoolQReport struct {
	Outcomes
	MedianMillis float64 `json:"median_ms"`
	P99Millis    float64 `json:"p99_ms"`
}

// RunBoolQ asks each question of a knowledge base holding only its passage,
// parsed as a story file would be (so a trailing "(c) …" line is read the
// way a moderator's story would be).
func RunBoolQ(ctx context.Context, items []BoolQItem, opts Options) (*BoolQReport, error) {
	var results []Result
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := knowledge.Parse([]byte(it.Passage))
		if err != nil {
			return nil, fmt.Errorf("passage %d (%s): %w", i, it.Title, err)
		}
		s.ID, s.Title = "boolq-"+strconv.Itoa(i), it.Title
		ix, err := retrieval.Build(ctx, []*knowledge.Story{s}, opts.Retrieval)
		if err != nil {
			return nil, fmt.Errorf("passage %d (%s): %w", i, it.Title, err)
		}
		ans, err := ix.Ask(ctx, it.Question)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", i, err)
		}
		r := newResult(ans, nil)
		r.ID, r.Article, r.Question, r.Answerable = strconv.Itoa(i), it.Title, it.Question, true
		results = append(results, r)
		if opts.Record != nil {
			opts.Record(r)
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(items))
		}
	}
	rep := &BoolQReport{Outcomes: summarize(results)}
	rep.MedianMillis, rep.P99Millis = medianAndP99(results)
	return rep, nil
}
