package bot

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per user: perMinute questions at once,
// refilled at perMinute a minute. Memory is bounded: a full bucket carries
// no information and is dropped when the map grows past maxUsers.
type rateLimiter struct {
	mu        sync.Mutex
	perMinute float64
	maxUsers  int
	users     map[string]*bucket
	now       func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// defaultMaxUsers bounds the rate limiter's memory: a few hundred kB.
const defaultMaxUsers = 10000

func newRateLimiter(perMinute, maxUsers int) *rateLimiter {
	return &rateLimiter{
		perMinute: float64(perMinute),
		maxUsers:  maxUsers,
		users:     map[string]*bucket{},
		now:       time.Now,
	}
}

// allow takes a token from user's bucket. When it is empty, allow says how
// long until the next token.
func (r *rateLimiter) allow(user string) (ok bool, retryAfter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	b := r.users[user]
	if b == nil {
		if len(r.users) >= r.maxUsers {
			r.evict(now)
		}
		b = &bucket{tokens: r.perMinute, last: now}
		r.users[user] = b
	}
	b.tokens = min(r.perMinute, b.tokens+now.Sub(b.last).Minutes()*r.perMinute)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / r.perMinute * float64(time.Minute))
	return false, wait
}

// evict drops the buckets that have refilled (their users are idle), and
// if none has, the least recently used one. Call with mu held.
func (r *rateLimiter) evict(now time.Time) {
	evictIdle(r.users, r.maxUsers,
		func(b *bucket) bool { return b.tokens+now.Sub(b.last).Minutes()*r.perMinute >= r.perMinute },
		func(b *bucket) time.Time { return b.last })
}

// size is how many users the limiter remembers, for tests.
func (r *rateLimiter) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.users)
}

// gate caps how many questions are answered at once. It never waits: a
// question that finds it full is told to try again, because waiting could
// miss Discord's 3-second deadline.
type gate chan struct{}

func newGate(n int) gate { return make(gate, n) }

func (g gate) tryEnter() bool {
	select {
	case g <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g gate) leave() { <-g }
