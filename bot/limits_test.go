package bot

import (
	"fmt"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }
func limiterAt(c *clock, perMinute, maxUsers int) *rateLimiter {
	r := newRateLimiter(perMinute, maxUsers)
	r.now = c.now
	return r
}

func TestRateLimiterTokenBucket(t *testing.T) {
	c := newClock()
	r := limiterAt(c, 5, 100)
	for i := range 5 {
		if ok, _ := r.allow("ana"); !ok {
			t.Fatalf("question %d refused", i+1)
		}
	}
	ok, wait := r.allow("ana")
	if ok || wait != 12*time.Second {
		t.Errorf("6th question: ok=%v wait=%v, want refused for 12s", ok, wait)
	}
	if ok, _ := r.allow("bob"); !ok {
		t.Error("another user shares ana's bucket")
	}
	c.advance(11 * time.Second)
	if ok, wait := r.allow("ana"); ok || wait != time.Second {
		t.Errorf("after 11s: ok=%v wait=%v", ok, wait)
	}
	c.advance(time.Second)
	if ok, _ := r.allow("ana"); !ok {
		t.Error("after 12s the next token is not there")
	}
	c.advance(time.Hour)
	for i := range 5 {
		if ok, _ := r.allow("ana"); !ok {
			t.Fatalf("after an hour, question %d refused: the bucket must refill to 5, no more", i+1)
		}
	}
	if ok, _ := r.allow("ana"); ok {
		t.Error("the bucket refilled past its size")
	}
}

func TestRateLimiterMemoryIsBounded(t *testing.T) {
	c := newClock()
	r := limiterAt(c, 5, 3)
	for _, u := range []string{"a", "b", "c"} {
		r.allow(u)
		c.advance(time.Second)
	}
	// Nobody is idle: the least recently seen user makes room.
	r.allow("d")
	if r.size() != 3 {
		t.Errorf("size %d, want 3", r.size())
	}
	r.mu.Lock()
	_, kept := r.users["a"]
	r.mu.Unlock()
	if kept {
		t.Error("evicted someone other than the least recently seen")
	}
	// Once buckets refill, their users carry no state and all go at once.
	c.advance(time.Minute)
	r.allow("e")
	if r.size() != 1 {
		t.Errorf("size %d after the idle users were swept, want 1", r.size())
	}
	for i := range 1000 {
		r.allow(fmt.Sprint("user", i))
	}
	if r.size() > 3 {
		t.Errorf("size %d, bound 3", r.size())
	}
}

func TestGateNeverWaits(t *testing.T) {
	g := newGate(2)
	if !g.tryEnter() || !g.tryEnter() {
		t.Fatal("gate of 2 refused one of the first two")
	}
	if g.tryEnter() {
		t.Fatal("gate of 2 let a third in")
	}
	g.leave()
	if !g.tryEnter() {
		t.Error("a freed place was not reused")
	}
}
