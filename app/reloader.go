package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"storybot/config"
	"storybot/knowledge"
	"storybot/metrics"
	"storybot/retrieval"
	"storybot/store"
)

// reloadTimeout bounds one reload: reading the folder, embedding what
// changed, swapping and storing. A /reload's interaction token lives 15
// minutes; its answer must fit inside.
const reloadTimeout = 10 * time.Minute

// ReloadMetrics is what a reload reports; *metrics.Metrics satisfies it.
type ReloadMetrics interface {
	Reload(result string)
	IndexSize(stories, chunks int)
}

// Reloader is the one way the serving index is reloaded: /reload, the
// folder watcher and SIGHUP all call Reload. It owns what a reload is:
// one at a time, a time limit, the build and swap (a broken folder changes
// nothing), storing the result as the last good snapshot, the metric
// (once per reload) and the log line. A Reload that finds one running
// joins it and reports its result, rather than queueing another.
type Reloader struct {
	lib     *retrieval.Library
	dir     *store.Dir // nil: nothing is stored
	log     *slog.Logger
	metrics ReloadMetrics
	// load reads the stories; opts are used only if nothing serves yet.
	load    func(ctx context.Context) ([]*knowledge.Story, error)
	opts    func() (retrieval.Options, error)
	timeout time.Duration
	// base ends every reload when the server stops.
	base context.Context

	mu      sync.Mutex
	running *reloadRun
	wg      sync.WaitGroup
}

// reloadRun is one reload, which callers wait on.
type reloadRun struct {
	done chan struct{}
	rep  retrieval.ReloadReport
	err  error
}

func newReloader(base context.Context, lib *retrieval.Library, cfg *config.Config, dir *store.Dir, log *slog.Logger, m ReloadMetrics) *Reloader {
	return &Reloader{
		lib: lib, dir: dir, log: log, metrics: m, base: base, timeout: reloadTimeout,
		load: func(ctx context.Context) ([]*knowledge.Story, error) { return LoadKnowledge(ctx, cfg) },
		opts: func() (retrieval.Options, error) { return RetrievalOptions(cfg) },
	}
}

// Reload reloads the knowledge, or joins the reload running, and returns
// its result. ctx bounds only the wait: the reload itself goes on for
// other callers, within its own time limit.
func (r *Reloader) Reload(ctx context.Context, trigger string) (retrieval.ReloadReport, error) {
	r.mu.Lock()
	run := r.running
	if run == nil {
		run = &reloadRun{done: make(chan struct{})}
		r.running = run
		r.wg.Add(1)
		go r.do(run, trigger)
	} else {
		r.log.Info("a reload is running; joining it", "trigger", trigger)
	}
	r.mu.Unlock()
	select {
	case <-run.done:
		return run.rep, run.err
	case <-ctx.Done():
		return retrieval.ReloadReport{}, fmt.Errorf("waiting for the reload: %w", ctx.Err())
	}
}

// Wait returns once no reload runs; the server calls it as it stops.
func (r *Reloader) Wait() { r.wg.Wait() }

func (r *Reloader) do(run *reloadRun, trigger string) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		r.running = nil
		r.mu.Unlock()
		close(run.done)
	}()
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("reload panicked; the previous index keeps serving", "trigger", trigger, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			run.err = errors.New("reload failed: it panicked (logged)")
			r.metrics.Reload(metrics.ReloadFailed)
		}
	}()
	ctx, cancel := context.WithTimeoutCause(r.base, r.timeout, fmt.Errorf("reload: took longer than %v", r.timeout))
	defer cancel()
	run.rep, run.err = r.reload(ctx)
	if run.err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			run.err = fmt.Errorf("%w (%w)", run.err, cause)
		}
		r.metrics.Reload(metrics.ReloadFailed)
		r.log.Warn("reload failed; the previous index keeps serving", "trigger", trigger, "err", run.err)
		return
	}
	r.metrics.Reload(metrics.ReloadOK)
	st := r.lib.Current().Stats()
	r.metrics.IndexSize(st.Stories, st.Chunks)
	rep := run.rep
	r.log.Info("reloaded", "trigger", trigger, "added", rep.Added, "changed", rep.Changed, "removed", rep.Removed,
		"embedded", rep.Embedded, "cached", rep.Cached, "seconds", rep.Took.Seconds(), "version", rep.Version)
}

// reload builds and swaps in the new index, then stores it.
func (r *Reloader) reload(ctx context.Context) (retrieval.ReloadReport, error) {
	// Library.Reload reuses the serving snapshot's options (embedder and
	// cache); these are needed only if nothing is serving yet.
	var opts retrieval.Options
	if r.lib.Current() == nil {
		var err error
		if opts, err = r.opts(); err != nil {
			return retrieval.ReloadReport{}, err
		}
	}
	rep, err := r.lib.Reload(ctx, func() ([]*knowledge.Story, error) { return r.load(ctx) }, opts)
	if err != nil {
		return rep, err
	}
	if r.dir != nil {
		var errs []error
		// The cache on disk holds the vectors of the index stored last; any
		// change of stories changes that set, even when every vector came
		// from memory (a story changed back, say).
		if rep.Embedded > 0 || len(rep.Added)+len(rep.Changed)+len(rep.Removed) > 0 {
			errs = append(errs, saveCache(r.dir, r.lib.Current()))
		}
		errs = append(errs, r.dir.SaveStories(r.lib.Current().Stories()))
		if err := errors.Join(errs...); err != nil {
			// The reload worked; only the next start pays for this.
			r.log.Warn("reloaded, but could not store the new index", "err", err)
		}
	}
	return rep, nil
}
