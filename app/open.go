// Package app is storybot's service, built once from a config: the
// library that answers, the embedders it uses, the data directory that
// persists its cache and last good snapshot, and the reloader. main keeps
// the commands; config stays plain data.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	"storybot/config"
	"storybot/knowledge"
	"storybot/retrieval"
	"storybot/store"
)

// Options tune Open for the command that runs it. The zero value is what
// serve wants.
type Options struct {
	// Progress, if set, is told as stories are embedded.
	Progress func(done, total int)
	// NoFallback makes a broken folder an error instead of serving the
	// last good snapshot: storybot index's job is to build from the folder.
	NoFallback bool
	// WrapEmbedder, if set, wraps the configured embedder (serve counts
	// its calls).
	WrapEmbedder func(retrieval.Embedder) retrieval.Embedder
	// Metrics receives the reloads' results; nil counts nothing.
	Metrics ReloadMetrics
}

// App is the service Open builds.
type App struct {
	Library  *retrieval.Library
	Dir      *store.Dir // nil without data_dir
	Report   Report     // what the start did
	Reloader *Reloader
}

// Open loads the knowledge, builds the index with the persisted embedding
// cache (so unchanged text is not embedded again), stores the cache and the
// stories as the last good snapshot, and returns the service. If the
// knowledge folder is broken but a last good snapshot is stored, it logs
// why and serves that snapshot (unless o.NoFallback). A failed save is
// logged and in Report.SaveErr. ctx ends the reloads too.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, o Options) (*App, error) {
	opts, err := RetrievalOptions(cfg)
	if err != nil {
		return nil, err
	}
	if opts.Embedder != nil && o.WrapEmbedder != nil {
		opts.Embedder = o.WrapEmbedder(opts.Embedder)
	}
	return open(ctx, cfg, log, opts, o)
}

// open is Open with the retrieval options built (tests count embeddings).
func open(ctx context.Context, cfg *config.Config, log *slog.Logger, opts retrieval.Options, o Options) (*App, error) {
	b := &boot{cfg: cfg, opts: opts, log: log, progress: o.Progress, fallback: !o.NoFallback}
	lib, dir, rep, err := b.start(ctx)
	if err != nil {
		return nil, err
	}
	if rep.SaveErr != nil {
		log.Warn("could not store the index; the next start will embed again", "err", rep.SaveErr)
	}
	var m ReloadMetrics = noReloadMetrics{}
	if o.Metrics != nil {
		m = o.Metrics
	}
	return &App{Library: lib, Dir: dir, Report: rep, Reloader: newReloader(ctx, lib, cfg, dir, log, m)}, nil
}

type noReloadMetrics struct{}

func (noReloadMetrics) Reload(string)      {}
func (noReloadMetrics) IndexSize(int, int) {}

// boot is one start: the settings, and how to report and recover.
type boot struct {
	cfg *config.Config
	// opts are the retrieval options with the embedder already built
	// (tests put a counting embedder here); start sets the cache.
	opts     retrieval.Options
	log      *slog.Logger
	progress func(done, total int) // may be nil
	// fallback serves the last good snapshot when the knowledge cannot be
	// loaded or built. serve wants that; index, whose job is to build from
	// the folder, does not.
	fallback bool
}

// Report says what a start did.
type Report struct {
	Source   string // where the stories came from
	Stats    retrieval.BuildStats
	Embedded int // chunks sent to the embedder, over the whole start
	Cached   int // chunks whose vectors came from the cache
	// LoadErr is why the knowledge could not be used, when the last good
	// snapshot serves instead.
	LoadErr error
	Saved   bool
	SaveErr error
	Took    time.Duration
}

func (b *boot) start(ctx context.Context) (*retrieval.Library, *store.Dir, Report, error) {
	start := time.Now()
	var rep Report
	var dir *store.Dir
	if b.cfg.DataDir != "" {
		var err error
		if dir, err = store.Open(b.cfg.DataDir); err != nil {
			return nil, nil, rep, fmt.Errorf("data_dir: %w", err)
		}
	}
	cache, cacheOK := b.loadCache(dir)
	b.opts.Cache = cache
	cachedBefore := cache.Len()

	source := knowledgeSource(b.cfg)
	stories, err := LoadKnowledge(ctx, b.cfg)
	var ix *retrieval.Index
	if err == nil {
		rep.Source = source
		ix, rep.Embedded, err = b.build(ctx, stories)
	}
	fresh := err == nil
	if err != nil {
		if !b.fallback || dir == nil || ctx.Err() != nil {
			return nil, nil, rep, err
		}
		snap, snapErr := dir.LoadStories()
		if snapErr != nil {
			if !errors.Is(snapErr, fs.ErrNotExist) {
				b.log.Warn("the last good snapshot cannot be used either", "err", snapErr)
			}
			return nil, nil, rep, err
		}
		b.log.Error("cannot use the knowledge; serving the last good snapshot instead", "source", source, "err", err, "stories", len(snap))
		rep.LoadErr, rep.Source = err, "the last good snapshot in "+dir.Path()
		var buildErr error
		if ix, rep.Embedded, buildErr = b.build(ctx, snap); buildErr != nil {
			return nil, nil, rep, errors.Join(err, fmt.Errorf("last good snapshot: %w", buildErr))
		}
	}
	rep.Stats = ix.Stats()
	if b.opts.Embedder != nil {
		rep.Cached = rep.Stats.Chunks - rep.Embedded
	}
	if dir != nil {
		rep.SaveErr = save(dir, cache, ix, !cacheOK || cache.Len() != cachedBefore, fresh)
		rep.Saved = rep.SaveErr == nil
	}
	rep.Took = time.Since(start)
	return retrieval.NewLibrary(ix), dir, rep, nil
}

// loadCache returns the stored cache, or an empty one if there is none or
// it cannot be trusted; ok is false when the stored file must be rewritten.
func (b *boot) loadCache(dir *store.Dir) (c *retrieval.EmbeddingCache, ok bool) {
	if dir == nil {
		return retrieval.NewEmbeddingCache(), true
	}
	c, err := dir.LoadCache()
	switch {
	case err == nil:
		b.log.Debug("loaded the embedding cache", "vectors", c.Len())
		return c, true
	case errors.Is(err, fs.ErrNotExist):
		b.log.Info("no embedding cache stored yet; embedding everything", "dir", dir.Path())
	case errors.Is(err, store.ErrCorrupt):
		b.log.Warn("the stored embedding cache is damaged; ignoring it and embedding again", "err", err)
	default:
		b.log.Warn("cannot read the stored embedding cache; embedding again", "err", err)
	}
	return retrieval.NewEmbeddingCache(), false
}

// build makes the index. With a model to run and someone watching progress,
// it first embeds story by story into the shared cache, so progress moves as
// the slow part does; the final build then finds every vector cached.
// embedded counts the chunks that were sent to the embedder.
func (b *boot) build(ctx context.Context, stories []*knowledge.Story) (ix *retrieval.Index, embedded int, err error) {
	report := func(done int) {
		if b.progress != nil {
			b.progress(done, len(stories))
		}
	}
	report(0)
	if b.progress != nil && (b.opts.Embedder != nil || b.opts.Encoder != nil) && len(stories) > 1 {
		for i, s := range stories {
			part, err := retrieval.Build(ctx, []*knowledge.Story{s}, b.opts)
			if err != nil {
				return nil, 0, err
			}
			embedded += part.Stats().Embedded
			report(i + 1)
		}
	}
	ix, err = retrieval.Build(ctx, stories, b.opts)
	if err != nil {
		return nil, 0, err
	}
	embedded += ix.Stats().Embedded
	report(len(stories))
	return ix, embedded, nil
}

// save stores the cache when it changed, and the stories when they are fresh
// from the knowledge and differ from the stored snapshot: a restart with
// nothing changed writes nothing.
func save(dir *store.Dir, cache *retrieval.EmbeddingCache, ix *retrieval.Index, cacheChanged, fresh bool) error {
	var errs []error
	if cacheChanged {
		errs = append(errs, saveCache(dir, ix))
	}
	if fresh {
		if stored, err := dir.LoadStories(); err != nil || !sameStories(stored, ix.Stories()) {
			errs = append(errs, dir.SaveStories(ix.Stories()))
		}
	}
	return errors.Join(errs...)
}

// saveCache stores the vectors ix uses: what the next start needs, without
// the texts of stories long since changed or removed.
func saveCache(dir *store.Dir, ix *retrieval.Index) error {
	c := retrieval.NewEmbeddingCache()
	c.PutSegments(ix.Segments()...)
	return dir.SaveCache(c)
}

// sameStories compares by ID, path and the hash of the file's bytes, which
// covers the text and the front matter.
func sameStories(a, b []*knowledge.Story) bool {
	return slices.EqualFunc(a, b, func(x, y *knowledge.Story) bool {
		return x.ID == y.ID && x.Path == y.Path && x.Hash == y.Hash
	})
}

func knowledgeSource(cfg *config.Config) string {
	if cfg.Knowledge.Dir == "" {
		return "the built-in story"
	}
	return "the knowledge folder " + cfg.Knowledge.Dir
}

// LoadKnowledge reads the configured stories: the folder, or the story built
// into the binary. Reading the folder has knowledge.LoadTimeout at most.
func LoadKnowledge(ctx context.Context, cfg *config.Config) ([]*knowledge.Story, error) {
	if cfg.Knowledge.Dir == "" {
		return knowledge.Default(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, knowledge.LoadTimeout)
	defer cancel()
	return knowledge.LoadDirContext(ctx, cfg.Knowledge.Dir)
}
