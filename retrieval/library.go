package retrieval

import (
	"context"
	"errors"
	"sync/atomic"
)

// Library serves the current snapshot. Readers load it with one atomic read
// and keep using what they loaded; a reload builds the next snapshot on the
// side and swaps it in, so a question never sees half of two snapshots.
type Library struct {
	current atomic.Pointer[Index]
}

// NewLibrary serves ix.
func NewLibrary(ix *Index) *Library {
	l := &Library{}
	l.current.Store(ix)
	return l
}

// Current is the snapshot to answer from. It may be nil before the first
// successful build.
func (l *Library) Current() *Index { return l.current.Load() }

// Swap serves ix from now on and returns the snapshot it replaced. Questions
// already running on the old snapshot finish on it.
func (l *Library) Swap(ix *Index) *Index { return l.current.Swap(ix) }

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
