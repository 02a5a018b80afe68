package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"storybot/knowledge"
	"storybot/retrieval"
	"storybot/retrieval/encoder"
	"storybot/retrieval/wordvec"
)

// knowledgeFlags are the flags every command that reads stories shares.
type knowledgeFlags struct {
	dir string
}

func (k *knowledgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.dir, "knowledge", "", "folder of .txt/.md stories to answer from instead of the built-in story")
}

func (k *knowledgeFlags) stories(ctx context.Context) ([]*knowledge.Story, error) {
	if k.dir == "" {
		return knowledge.Default(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, knowledge.LoadTimeout)
	defer cancel()
	return knowledge.LoadDirContext(ctx, k.dir)
}

// buildIndex loads the stories and builds a snapshot with the offline
// default settings.
func (k *knowledgeFlags) buildIndex(ctx context.Context) (*retrieval.Index, error) {
	stories, err := k.stories(ctx)
	if err != nil {
		return nil, err
	}
	return retrieval.Build(ctx, stories, defaultOptions())
}

// defaultOptions are the offline defaults: BM25 fused with GloVe word
// vectors, and the sentence encoder to pick the answer, chosen by
// measurement (README, "Quality").
func defaultOptions() retrieval.Options {
	return retrieval.Options{Embedder: defaultEmbedder(), Encoder: defaultEncoder()}
}

// The built-in models load once per process. They are part of the binary;
// failing to decode them is a build defect.
var (
	defaultEmbedder = loadOnce("built-in word vectors", func() (retrieval.Embedder, error) { return wordvec.New() })
	defaultEncoder  = loadOnce("built-in sentence encoder", func() (retrieval.Embedder, error) { return encoder.New() })
)

func loadOnce(what string, load func() (retrieval.Embedder, error)) func() retrieval.Embedder {
	return sync.OnceValue(func() retrieval.Embedder {
		e, err := load()
		if err != nil {
			panic(fmt.Sprintf("%s: %v", what, err))
		}
		return e
	})
}

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) error {
	fs := newFlagSet("ask", stderr)
	var kf knowledgeFlags
	kf.register(fs)
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpIsDone(err)
	}
	if len(pos) == 0 {
		return usageError("ask needs a question, for example: storybot ask \"who favors strikes?\"")
	}
	question := strings.Join(pos, " ")
	if _, err := retrieval.CleanQuestion(question); err != nil {
		return err
	}
	ix, err := kf.buildIndex(ctx)
	if err != nil {
		return err
	}
	a, err := ix.Ask(ctx, question)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	printAnswer(stdout, a)
	return nil
}

func printAnswer(w io.Writer, a *retrieval.Answer) {
	if len(a.Citations) == 0 {
		fmt.Fprintln(w, a.Text)
	} else {
		if a.Outcome == retrieval.OutcomeClosest {
			fmt.Fprintln(w, retrieval.ClosestIntro)
		}
		for _, c := range a.Citations {
			fmt.Fprintf(w, "“%s” [%d]\n", c.Quote, c.N)
		}
		fmt.Fprintln(w, "\nSources:")
		for _, c := range a.Citations {
			if c.From != "" {
				fmt.Fprintf(w, "[%d] %s — %s\n", c.N, sourceName(c), c.From)
			} else {
				fmt.Fprintf(w, "[%d] %s — paragraph %d, sentence %d\n", c.N, sourceName(c), c.Paragraph, c.Sentence)
			}
			if c.URL != "" {
				fmt.Fprintf(w, "    %s\n", c.URL)
			}
		}
	}
	if a.Note != "" {
		fmt.Fprintf(w, "\nNote: %s\n", a.Note)
	}
}

func sourceName(c retrieval.Citation) string {
	switch {
	case c.Publisher != "" && c.Year != 0:
		return fmt.Sprintf("%s (%s, %d)", c.Title, c.Publisher, c.Year)
	case c.Publisher != "":
		return fmt.Sprintf("%s (%s)", c.Title, c.Publisher)
	}
	return c.Title
}

type sourceInfo struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Publisher string `json:"publisher,omitempty"`
	Year      int    `json:"year,omitempty"`
	URL       string `json:"url,omitempty"`
	Path      string `json:"path"`
	Chunks    int    `json:"chunks"`
}

func runSources(ctx context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) error {
	fs := newFlagSet("sources", stderr)
	var kf knowledgeFlags
	kf.register(fs)
	asJSON := fs.Bool("json", false, "print the list as JSON")
	if done, err := parseNoArgs(fs, args); done || err != nil {
		return err
	}
	ix, err := kf.buildIndex(ctx)
	if err != nil {
		return err
	}
	counts := ix.StoryChunks()
	var list []sourceInfo
	for _, s := range ix.Stories() {
		list = append(list, sourceInfo{s.ID, s.Title, s.Publisher, s.Year, s.URL, s.Path, counts[s.ID]})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"index": ix.Version(), "stories": list})
	}
	for _, s := range list {
		fmt.Fprintf(stdout, "%s\n  id %s, %d chunks, from %s\n", sourceName(retrieval.Citation{Title: s.Title, Publisher: s.Publisher, Year: s.Year}), s.ID, s.Chunks, s.Path)
	}
	fmt.Fprintf(stdout, "index %s\n", ix.Version())
	return nil
}
