package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"storybot/app"
	"storybot/config"
	"storybot/knowledge"
	"storybot/retrieval"
	"storybot/retrieval/encoder"
	"storybot/retrieval/wordvec"
	"storybot/store"
)

// knowledgeFlags are the flags every command that reads stories shares.
type knowledgeFlags struct {
	dir     string
	noCache bool
}

func (k *knowledgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.dir, "knowledge", "", "folder of .txt/.md stories to answer from instead of the built-in story")
	fs.BoolVar(&k.noCache, "no-cache", false, "with --knowledge: embed the folder again instead of using the stored embedding cache")
}

// buildIndex builds the snapshot with the offline default settings: the
// built-in story as shipped, or a --knowledge folder through app.Open, the
// path serve takes, with a data directory of the folder's own (cliCacheDir)
// holding its embedding cache, so an unchanged folder embeds nothing the
// second time. A cache that cannot be used is a warning on stderr, never a
// failed question.
func (k *knowledgeFlags) buildIndex(ctx context.Context, stderr io.Writer, getenv func(string) string) (*retrieval.Index, error) {
	if k.dir == "" {
		return retrieval.Build(ctx, knowledge.Default(), defaultOptions())
	}
	cfg := config.Default()
	cfg.Knowledge.Dir = k.dir
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if _, err := os.Stat(k.dir); err == nil && !k.noCache { // a missing folder is the load's error to report
		dir, err := cliCacheDir("knowledge", k.dir, getenv)
		if err == nil {
			_, err = store.Open(dir) // app.Open would fail on it; here it only costs the cache
		}
		if err != nil {
			log.Warn("cannot use the embedding cache; embedding the whole folder", "err", err)
		} else {
			cfg.DataDir = dir
		}
	}
	p := newProgress(stderr, "indexing stories", "stories")
	a, err := app.Open(ctx, cfg, log, app.Options{Progress: p.update, NoFallback: true})
	p.finish()
	if err != nil {
		return nil, err
	}
	rep := a.Report
	where := "no cache"
	if a.Dir != nil {
		where = "cache " + a.Dir.Path()
	}
	fmt.Fprintf(stderr, "indexed %d stories, %d chunks: %d embedded, %d from the cache (%s); %.2f s\n",
		rep.Stats.Stories, rep.Stats.Chunks, rep.Embedded, rep.Cached, where, rep.Took.Seconds())
	return a.Library.Current(), nil
}

// cliCacheEnv, when set, is where the CLI keeps knowledge folders' caches;
// else data_dir (STORYBOT_DATA_DIR, or the file $STORYBOT_CONFIG names),
// else the user's cache directory.
const cliCacheEnv = "STORYBOT_DATA_DIR"

// cliCacheDir is the data directory for one knowledge folder's (or eval
// set's) cache: "KIND/NAME-HASH" under the data dir or the user's cache
// directory, HASH from the path made absolute. One per folder, because app stores
// only the vectors the index uses and the folder's stories as its last good
// snapshot: sharing serve's own data directory, or one between folders,
// would make each evict the other's vectors and overwrite serve's snapshot.
func cliCacheDir(kind, path string, getenv func(string) string) (string, error) {
	base := getenv(cliCacheEnv)
	if base == "" && getenv(configEnv) != "" {
		cfg, err := config.Load(getenv(configEnv), getenv)
		if err != nil {
			return "", fmt.Errorf("find data_dir: %w", err)
		}
		base = cfg.DataDir
	}
	if base == "" {
		userCache, err := userCacheDir(getenv)
		if err != nil {
			return "", fmt.Errorf("find the user cache directory: %w", err)
		}
		base = filepath.Join(userCache, "storybot")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", kind, path, err)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(base, kind, filepath.Base(abs)+"-"+hex.EncodeToString(sum[:8])), nil
}

// userCacheDir is os.UserCacheDir read through getenv, so tests (and
// run's callers) decide where it points.
func userCacheDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9":
		return os.UserCacheDir()
	}
	if dir := getenv("XDG_CACHE_HOME"); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", errors.New("$XDG_CACHE_HOME is a relative path")
		}
		return dir, nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("neither $XDG_CACHE_HOME nor $HOME is defined")
	}
	return filepath.Join(home, ".cache"), nil
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

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
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
	ix, err := kf.buildIndex(ctx, stderr, getenv)
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
		if a.Preface != "" {
			fmt.Fprintln(w, a.Preface)
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

func runSources(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("sources", stderr)
	var kf knowledgeFlags
	kf.register(fs)
	asJSON := fs.Bool("json", false, "print the list as JSON")
	if done, err := parseNoArgs(fs, args); done || err != nil {
		return err
	}
	ix, err := kf.buildIndex(ctx, stderr, getenv)
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
