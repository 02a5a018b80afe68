package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"storybot/eval"
	"storybot/retrieval"
	"storybot/store"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("eval", stderr)
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	abstain := fs.Bool("abstain-test", false, "also ask each question against a different article, where it should be declined")
	perQuestion := fs.String("per-question", "", "write each question's result to `FILE` as JSON lines")
	storiesDir := fs.String("stories", "", "Wikinews story folder for natural sets and summaries (default: wikinews/stories in the shared eval data)")
	vectorCache := fs.String("vector-cache", "", "keep the sentence vectors in `FILE` between runs (created when missing)")
	noCache := fs.Bool("no-cache", false, "embed everything again instead of using the stored embedding cache (used when --vector-cache is not given)")
	opts := defaultOptions()
	tune := registerTuning(fs, &opts)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpIsDone(err)
	}
	if len(pos) != 1 {
		return usageError("eval needs one file: a SQuAD-format JSON file (v1.1 or v2.0), a natural-question set, BoolQ JSON lines or story summaries JSON lines")
	}
	if err := tune.apply(&opts); err != nil {
		return err
	}
	path, err := eval.Locate(pos[0], getenv)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	format, err := setFormat(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *storiesDir == "" {
		*storiesDir = filepath.Join(eval.DataDir(getenv), "wikinews", "stories")
	}
	var storeDir *store.Dir
	switch {
	case *vectorCache != "":
		opts.Cache = loadVectorCache(*vectorCache, stderr)
	case !*noCache:
		storeDir, opts.Cache = openEvalCache(path, stderr, getenv)
	}
	var cachedBefore int
	if storeDir != nil {
		cachedBefore = opts.Cache.Len()
	}
	var record func(eval.Result)
	if *perQuestion != "" {
		f, err := os.Create(*perQuestion)
		if err != nil {
			return err
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		enc := json.NewEncoder(bw)
		record = func(r eval.Result) { enc.Encode(r) }
	}
	// Two bars: indexing, then asking; each times itself.
	indexing := newProgress(stderr, "index", "stories")
	var asking *progress
	eo := eval.Options{
		Retrieval: opts, AbstainTest: *abstain, Indexing: indexing.update, Record: record,
		Progress: func(done, total int) {
			if asking == nil {
				indexing.finish()
				asking = newProgress(stderr, "eval", "questions")
			}
			asking.update(done, total)
		},
	}
	rep, err := runSet(ctx, format, raw, *storiesDir, eo)
	if asking == nil {
		indexing.finish()
	} else {
		asking.finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *vectorCache != "" {
		if err := store.SaveCacheFile(*vectorCache, opts.Cache); err != nil {
			return fmt.Errorf("vector cache: %w", err)
		}
	}
	if storeDir != nil {
		fmt.Fprintf(stderr, "embedding cache %s: %d vectors stored, %d new\n", storeDir.Path(), cachedBefore, opts.Cache.Len()-cachedBefore)
		if opts.Cache.Len() != cachedBefore {
			if err := storeDir.SaveCache(opts.Cache); err != nil {
				fmt.Fprintf(stderr, "warning: could not store the embedding cache; the next run will embed again: %v\n", err)
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	switch rep := rep.(type) {
	case *eval.Report:
		printReport(tw, rep)
	case *eval.NaturalReport:
		fmt.Fprintf(tw, "stories in the folder knowledge base\t%d\n", rep.Stories)
		for _, name := range rep.PartNames() {
			p := rep.Parts[name]
			fmt.Fprintf(tw, "\n%s\t%d questions, median %.2f ms\n", name, p.Questions, p.MedianMillis)
			printOutcomes(tw, "", p.Outcomes)
			printKinds(tw, p.ByKind)
		}
	case *eval.BoolQReport:
		fmt.Fprintf(tw, "questions\t%d\n", rep.Questions)
		fmt.Fprintf(tw, "answered\t%.1f%%\n", rep.AnswerableAnswered)
		fmt.Fprintf(tw, "hedged (closest)\t%.1f%%\n", rep.AnswerableHedged)
		fmt.Fprintf(tw, "declined\t%.1f%%\n", 100-rep.AnswerableAnswered-rep.AnswerableHedged)
		fmt.Fprintf(tw, "time per question\tmedian %.2f ms, p99 %.2f ms\n", rep.MedianMillis, rep.P99Millis)
	case *eval.SummaryReport:
		fmt.Fprintf(tw, "articles\t%d\n", rep.Articles)
		fmt.Fprintf(tw, "overview answered\t%.1f%%\n", rep.OverviewAnswered)
		fmt.Fprintf(tw, "\tROUGE-1\tROUGE-2\tROUGE-L\twords\n")
		for _, row := range []struct {
			name string
			r    eval.Rouge
		}{{"overview answer", rep.Overview}, {"Lead-1 (from the lead)", rep.Lead1}, {"Lead-3 (from the lead)", rep.Lead3},
			{"first sentence", rep.First1}, {"first 3 sentences", rep.First3}} {
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.0f\n", row.name, row.r.R1, row.r.R2, row.r.RL, row.r.Words)
		}
	}
	return tw.Flush()
}

// runSet reads raw as format and runs it.
func runSet(ctx context.Context, format string, raw []byte, storiesDir string, eo eval.Options) (any, error) {
	r := bytes.NewReader(raw)
	switch format {
	case "natural":
		set, err := eval.ReadNatural(r)
		if err != nil {
			return nil, err
		}
		return eval.RunNatural(ctx, set, storiesDir, eo)
	case "boolq":
		items, err := eval.ReadBoolQ(r)
		if err != nil {
			return nil, err
		}
		return eval.RunBoolQ(ctx, items, eo)
	case "summaries":
		sums, err := eval.ReadSummaries(r)
		if err != nil {
			return nil, err
		}
		return eval.RunSummaries(ctx, sums, storiesDir, eo)
	}
	d, err := eval.Read(r)
	if err != nil {
		return nil, err
	}
	return eval.Run(ctx, d, eo)
}

// setFormat tells the eval sets apart by their first record's fields.
func setFormat(raw []byte) (string, error) {
	var first map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&first); err != nil {
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	switch {
	case first["data"] != nil:
		return "squad", nil
	case first["questions"] != nil:
		return "natural", nil
	case first["passage"] != nil:
		return "boolq", nil
	case first["summary"] != nil:
		return "summaries", nil
	}
	return "", errors.New(`not an eval set: want SQuAD JSON ("data"), a natural-question set ("questions"), BoolQ lines ("passage") or summary lines ("summary")`)
}

func printReport(tw io.Writer, rep *eval.Report) {
	fmt.Fprintf(tw, "articles\t%d\n", rep.Articles)
	fmt.Fprintf(tw, "questions\t%d\n", rep.Questions)
	fmt.Fprintf(tw, "chunks\t%d\n", rep.Chunks)
	fmt.Fprintf(tw, "Recall@1/3/5/10\t%.1f / %.1f / %.1f / %.1f\n", rep.Recall1, rep.Recall3, rep.Recall5, rep.Recall10)
	fmt.Fprintf(tw, "MRR@10\t%.3f\n", rep.MRR10)
	fmt.Fprintf(tw, "answer-sentence@1\t%.1f\n", rep.AnswerSentence1)
	fmt.Fprintf(tw, "EM / F1\t%.1f / %.1f\n", rep.EM, rep.F1)
	fmt.Fprintf(tw, "answered\t%.1f%%\n", rep.AnswerRate)
	if rep.UnanswerableDeclined != nil {
		printOutcomes(tw, "", rep.Outcomes)
	}
	if rep.DeclineRate != nil {
		fmt.Fprintf(tw, "off-article declined\t%.1f%%\n", *rep.DeclineRate)
	}
	printKinds(tw, rep.ByKind)
	fmt.Fprintf(tw, "time per question\tmedian %.2f ms, p99 %.2f ms\n", rep.MedianMillis, rep.P99Millis)
}

func printOutcomes(tw io.Writer, indent string, o eval.Outcomes) {
	if o.Answerable > 0 {
		fmt.Fprintf(tw, "%sanswerable answered\t%.1f%% of %d (from the right sentence %.1f%%; hedged %.1f%%; first quote right, either way, %.1f%%)\n", indent, o.AnswerableAnswered, o.Answerable, o.AnsweredRight, o.AnswerableHedged, o.AnswerSentence1)
	}
	if o.UnanswerableDeclined != nil {
		fmt.Fprintf(tw, "%sunanswerable declined / hedged\t%.1f%% / %.1f%% of %d\n", indent, *o.UnanswerableDeclined, *o.UnanswerableHedged, o.Unanswerable)
	}
	if o.OffTopicDeclined != nil {
		fmt.Fprintf(tw, "%soff-topic declined\t%.1f%% of %d\n", indent, *o.OffTopicDeclined, o.OffTopic)
	}
	if o.AUC != nil {
		fmt.Fprintf(tw, "%sAUC (confidence / answerability)\t%.3f / %.3f\n", indent, *o.AUC, *o.AUCScore)
	}
}

func printKinds(tw io.Writer, kinds map[string]eval.Outcomes) {
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		o := kinds[k]
		switch {
		case o.Answerable > 0:
			fmt.Fprintf(tw, "  %s\t%d: answered %.1f%%, from the right sentence %.1f%%, hedged %.1f%%\n", k, o.Questions, o.AnswerableAnswered, o.AnsweredRight, o.AnswerableHedged)
		case o.UnanswerableDeclined != nil:
			fmt.Fprintf(tw, "  %s\t%d: declined %.1f%%, hedged %.1f%%\n", k, o.Questions, *o.UnanswerableDeclined, *o.UnanswerableHedged)
		case o.OffTopicDeclined != nil:
			fmt.Fprintf(tw, "  %s\t%d: declined %.1f%%\n", k, o.Questions, *o.OffTopicDeclined)
		}
	}
}

// openEvalCache opens the eval set's data directory (cliCacheDir) and its
// stored cache, through the store the bot uses. A cache that cannot be used
// is a warning and an empty cache: the eval runs anyway.
func openEvalCache(setPath string, stderr io.Writer, getenv func(string) string) (*store.Dir, *retrieval.EmbeddingCache) {
	path, err := cliCacheDir("eval", setPath, getenv)
	var dir *store.Dir
	if err == nil {
		dir, err = store.Open(path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: cannot use the embedding cache; embedding everything: %v\n", err)
		return nil, retrieval.NewEmbeddingCache()
	}
	c, err := dir.LoadCache()
	switch {
	case err == nil:
		return dir, c
	case !errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stderr, "warning: ignoring the stored embedding cache and embedding again: %v\n", err)
	}
	return dir, retrieval.NewEmbeddingCache()
}

// loadVectorCache reads --vector-cache FILE, the store's cache format in a
// file of the caller's naming: one format for every cache. A missing file
// is an empty cache; one that cannot be used (damaged, or the gob file
// earlier versions wrote) is a warning and an empty cache, rewritten at
// the end of the run.
func loadVectorCache(path string, stderr io.Writer) *retrieval.EmbeddingCache {
	c, err := store.LoadCacheFile(path)
	switch {
	case err == nil:
		return c
	case !errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stderr, "warning: ignoring the vector cache and embedding again: %v\n", err)
	}
	return retrieval.NewEmbeddingCache()
}

// tuning holds the flags that override retrieval settings, for measuring
// alternatives without editing code.
type tuning struct {
	fusion                  *string
	embedder, encoder       *string
	minWords, maxWords, ovl *int
	k1, b, vw, decline      *float64
	topK                    *int
	wordnet                 *string
	overview                *int
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
		overview: fs.Int("overview-sentences", 0, "sentences an overview answer quotes"),
		wordnet:  fs.String("wordnet", "", "WordNet links in coverage and antonyms in confidence: on or off (default)"),
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
	if *t.overview > 0 {
		o.OverviewSentences = *t.overview
	}
	switch *t.wordnet {
	case "":
	case "on":
		o.WordNet = true
	case "off":
		o.WordNet = false
	default:
		return usageError("--wordnet must be on or off, not %q", *t.wordnet)
	}
	return nil
}
