package retrieval

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"storybot/knowledge"
)

// Library serves the current snapshot. Readers load it with one atomic read
// and keep using what they loaded; a reload builds the next snapshot on the
// side and swaps it in, so a question never sees half of two snapshots.
type Library struct {
	current atomic.Pointer[Index]
	// reloading serialises reloads: two moderators pressing /reload at once
	// get two consistent swaps, not interleaved ones.
	reloading sync.Mutex
	lastGood  atomic.Pointer[time.Time]
}

// NewLibrary serves ix.
func NewLibrary(ix *Index) *Library {
	l := &Library{}
	l.Swap(ix)
	return l
}

// Current is the snapshot to answer from. It may be nil before the first
// successful build.
func (l *Library) Current() *Index { return l.current.Load() }

// Swap serves ix from now on and returns the snapshot it replaced. Questions
// already running on the old snapshot finish on it.
func (l *Library) Swap(ix *Index) *Index {
	now := time.Now()
	l.lastGood.Store(&now)
	return l.current.Swap(ix)
}

// LoadedAt is when the current snapshot was swapped in (zero if none).
func (l *Library) LoadedAt() time.Time {
	if t := l.lastGood.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// ErrNoIndex is returned when a question arrives before any snapshot loaded.
var ErrNoIndex = errors.New("no index is loaded yet")

// Ask answers from the current snapshot.
func (l *Library) Ask(ctx context.Context, question string) (*Answer, error) {
	ix := l.Current()
	if ix == nil {
		return nil, ErrNoIndex
	}
	return ix.Ask(ctx, question)
}

// AskAfter answers from the current snapshot as a follow-up on story
// storyID (Index.AskAfter). A story a reload removed is no follow-up.
func (l *Library) AskAfter(ctx context.Context, question, storyID string) (*Answer, error) {
	ix := l.Current()
	if ix == nil {
		return nil, ErrNoIndex
	}
	return ix.AskAfter(ctx, question, storyID)
}

// ReloadReport says what a reload changed.
type ReloadReport struct {
	Added    []string      `json:"added"` // story IDs
	Changed  []string      `json:"changed"`
	Removed  []string      `json:"removed"`
	Embedded int           `json:"embedded"` // chunks sent to the embedder
	Cached   int           `json:"cached"`   // chunks whose vectors were reused
	Took     time.Duration `json:"took_ns"`
	Version  string        `json:"version"`
}

// Reload loads the stories, builds a snapshot with the current snapshot's
// options (and so its embedding cache: only changed text is embedded), and
// swaps it in. If loading or building fails, nothing changes and the
// current snapshot keeps serving. Reloads run one at a time.
func (l *Library) Reload(ctx context.Context, load func() ([]*knowledge.Story, error), opts Options) (ReloadReport, error) {
	l.reloading.Lock()
	defer l.reloading.Unlock()
	start := time.Now()
	stories, err := load()
	if err != nil {
		return ReloadReport{}, fmt.Errorf("reload: %w", err)
	}
	old := l.Current()
	if old != nil {
		opts = old.opts
	}
	// The cache holds the previous snapshot's segments: unchanged stories
	// are reused whole, changed ones embed only their new text.
	ix, err := build(ctx, stories, opts, old)
	if err != nil {
		return ReloadReport{}, fmt.Errorf("reload: %w", err)
	}
	// What neither snapshot uses is an older archive's.
	if old == nil || old.opts.Cache == ix.opts.Cache {
		ix.opts.Cache.retain(ix, old)
	}
	// The term dictionary keeps the words of every story it has seen;
	// once those of stories gone outnumber the live ones, it starts again
	// from the live ones, and this reload builds from the segments.
	embedded, cached := ix.stats.Embedded, ix.stats.Cached
	if ix.termsMostlyDead() {
		ix.opts.Cache.compactTerms(ix)
		if ix, err = build(ctx, stories, opts, nil); err != nil {
			return ReloadReport{}, fmt.Errorf("reload: %w", err)
		}
	}
	rep := diffStories(old, ix)
	rep.Embedded, rep.Cached = embedded, cached
	rep.Version = ix.Version()
	l.Swap(ix)
	rep.Took = time.Since(start)
	return rep, nil
}

func diffStories(old, cur *Index) ReloadReport {
	var rep ReloadReport
	before := map[string]string{}
	if old != nil {
		for _, s := range old.stories {
			before[s.ID] = s.Hash
		}
	}
	for _, s := range cur.stories {
		h, ok := before[s.ID]
		switch {
		case !ok:
			rep.Added = append(rep.Added, s.ID)
		case h != s.Hash:
			rep.Changed = append(rep.Changed, s.ID)
		}
		delete(before, s.ID)
	}
	for id := range before {
		rep.Removed = append(rep.Removed, id)
	}
	sort.Strings(rep.Removed)
	return rep
}
