package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"storybot/eval"
	"storybot/retrieval"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("eval", stderr)
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	abstain := fs.Bool("abstain-test", false, "also ask each question against a different article, where it should be declined")
	opts := defaultOptions()
	tune := registerTuning(fs, &opts)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpIsDone(err)
	}
	if len(pos) != 1 {
		return usageError("eval needs one SQuAD-format JSON file")
	}
	if err := tune.apply(&opts); err != nil {
		return err
	}
	path, err := eval.Locate(pos[0], getenv)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := eval.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	// Two bars: indexing the articles, then asking; each times itself.
	indexing := newProgress(stderr, "index")
	var asking *progress
	rep, err := eval.Run(ctx, d, eval.Options{
		Retrieval: opts, AbstainTest: *abstain, Indexing: indexing.update,
		Progress: func(done, total int) {
			if asking == nil {
				indexing.finish()
				asking = newProgress(stderr, "eval")
			}
			asking.update(done, total)
		},
	})
	if asking == nil {
		indexing.finish()
	} else {
		asking.finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "articles\t%d\n", rep.Articles)
	fmt.Fprintf(tw, "questions\t%d\n", rep.Questions)
	fmt.Fprintf(tw, "chunks\t%d\n", rep.Chunks)
	fmt.Fprintf(tw, "Recall@1/3/5/10\t%.1f / %.1f / %.1f / %.1f\n", rep.Recall1, rep.Recall3, rep.Recall5, rep.Recall10)
	fmt.Fprintf(tw, "MRR@10\t%.3f\n", rep.MRR10)
	fmt.Fprintf(tw, "answer-sentence@1\t%.1f\n", rep.AnswerSentence1)
	fmt.Fprintf(tw, "EM / F1\t%.1f / %.1f\n", rep.EM, rep.F1)
	fmt.Fprintf(tw, "answered\t%.1f%%\n", rep.AnswerRate)
	if rep.DeclineRate != nil {
		fmt.Fprintf(tw, "off-article declined\t%.1f%%\n", *rep.DeclineRate)
	}
	fmt.Fprintf(tw, "time per question\tmedian %.2f ms, p99 %.2f ms\n", rep.MedianMillis, rep.P99Millis)
	return tw.Flush()
}

// tuning holds the flags that override retrieval settings, for measuring
// alternatives without editing code.
type tuning struct {
	fusion                  *string
	embedder, encoder       *string
	minWords, maxWords, ovl *int
	k1, b, vw, decline      *float64
	topK                    *int
}

func registerTuning(fs interface {
	String(string, string, string) *string
	Int(string, int, string) *int
	Float64(string, float64, string) *float64
}, o *retrieval.Options) *tuning {
	return &tuning{
		fusion:   fs.String("ranking", "", "fused (default), rrf, lexical or vector"),
		embedder: fs.String("embedder", "", "vector leg: glove (default) or none"),
		encoder:  fs.String("encoder", "", "sentence encoder for picking and declining: use (default) or none"),
		minWords: fs.Int("chunk-min", 0, "chunk may close at a paragraph end past this many words"),
		maxWords: fs.Int("chunk-max", 0, "chunk never grows past this many words"),
		ovl:      fs.Int("chunk-overlap", -1, "sentences repeated between chunks"),
		k1:       fs.Float64("k1", 0, "BM25 k1"),
		b:        fs.Float64("b", 0, "BM25 b"),
		vw:       fs.Float64("vector-weight", 0, "vector leg's weight in fused ranking"),
		decline:  fs.Float64("decline-below", 0, "decline when the best sentence holds less of the question than this"),
		topK:     fs.Int("top-k", 0, "passages the answerer reads"),
	}
}

func (t *tuning) apply(o *retrieval.Options) error {
	switch *t.fusion {
	case "":
	case "fused":
		o.Fusion = retrieval.FusionWeighted
	case "rrf", "lexical", "vector":
		o.Fusion = retrieval.Fusion(*t.fusion)
	default:
		return usageError("--ranking must be fused, rrf, lexical or vector, not %q", *t.fusion)
	}
	switch *t.embedder {
	case "":
	case "none":
		o.Embedder = nil
	case "glove":
		o.Embedder = defaultEmbedder()
	default:
		return usageError("--embedder must be glove or none, not %q", *t.embedder)
	}
	switch *t.encoder {
	case "", "use":
	case "none":
		o.Encoder = nil
	default:
		return usageError("--encoder must be use or none, not %q", *t.encoder)
	}
	if *t.minWords > 0 {
		o.Chunking.MinWords = *t.minWords
	}
	if *t.maxWords > 0 {
		o.Chunking.MaxWords = *t.maxWords
	}
	switch {
	case *t.ovl == 0:
		o.Chunking.Overlap = -1 // none
	case *t.ovl > 0:
		o.Chunking.Overlap = *t.ovl
	}
	if err := o.Chunking.Validate(); err != nil {
		return usageError("%v", err)
	}
	if *t.k1 > 0 {
		o.K1 = *t.k1
	}
	if *t.b > 0 {
		o.B = *t.b
	}
	if *t.vw > 0 {
		o.VectorWeight = *t.vw
	}
	if *t.decline > 0 {
		o.DeclineBelow = *t.decline
		o.DeclineBelowLexical = *t.decline
		o.DeclineBelowEncoder = *t.decline
	}
	if *t.topK > 0 {
		o.TopK = *t.topK
	}
	return nil
}
