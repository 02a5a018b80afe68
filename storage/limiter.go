package storage

import (
	"context"
	"sync"
	"time"
)

// DefaultLimitTimeout is how long Limiter waits for the shared count before
// counting locally: a rate limit must not make an answer wait.
const DefaultLimitTimeout = 100 * time.Millisecond

// Limiter allows each key (a UserHash) Limit events per fixed Window, counted
// in the Store and so across every replica sharing it. When the database
// does not answer within Timeout, it counts in this process instead, so a
// database outage loosens the limit to one per replica but never blocks a
// question.
type Limiter struct {
	Store   Store
	Limit   int
	Window  time.Duration
	Timeout time.Duration // 0 means DefaultLimitTimeout

	mu     sync.Mutex
	start  int64          // the local window's start, unix ms
	counts map[string]int // this window's local counts; reset each window
}

// Allow counts one event for key at now and reports whether it is within
// the limit, and whether the shared count decided (false: the local one).
func (l *Limiter) Allow(ctx context.Context, key string, now time.Time) (allowed, shared bool) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultLimitTimeout
	}
	if l.Store != nil {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		n, err := l.Store.Take(ctx, key, l.Window, now)
		cancel()
		if err == nil {
			return n <= l.Limit, true
		}
	}
	return l.local(key, now) <= l.Limit, false
}

// local counts in memory. The map holds one window's keys only, so it is
// bounded by the users active in one window.
func (l *Limiter) local(key string, now time.Time) int {
	w := max(l.Window.Milliseconds(), 1)
	start := now.UnixMilli() / w * w
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil || start != l.start {
		l.start, l.counts = start, map[string]int{}
	}
	l.counts[key]++
	return l.counts[key]
}
