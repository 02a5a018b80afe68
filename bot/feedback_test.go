package bot

import (
	"fmt"
	"testing"
)

func TestFeedbackOneVotePerUser(t *testing.T) {
	f := newFeedbackBook(10)
	f.remember("a1", "who?", "v1")
	steps := []struct {
		user             string
		up               bool
		counted, changed bool
		ups, downs       int
	}{
		{"u1", true, true, false, 1, 0},
		{"u1", true, false, false, 1, 0}, // a repeat click
		{"u1", false, true, true, 0, 1},  // a change of mind
		{"u2", false, true, false, 0, 2},
		{"u3", true, true, false, 1, 2},
	}
	for i, s := range steps {
		r := f.vote("a1", s.user, s.up)
		if r.counted != s.counted || r.changed != s.changed || r.up != s.ups || r.down != s.downs {
			t.Errorf("step %d: %+v, want counted=%v changed=%v %d/%d", i, r, s.counted, s.changed, s.ups, s.downs)
		}
		if r.question != "who?" || r.version != "v1" {
			t.Errorf("step %d: answer context lost: %+v", i, r)
		}
	}
	// Feedback on an answer never seen (another replica, a restart) counts.
	if r := f.vote("elsewhere", "u1", true); !r.counted || r.up != 1 || r.question != "" {
		t.Errorf("unknown answer: %+v", r)
	}
}

func TestFeedbackKeepsRecentAnswersOnly(t *testing.T) {
	f := newFeedbackBook(3)
	for i := range 5 {
		f.remember(fmt.Sprint("a", i), "q", "v")
	}
	f.vote("a2", "u", true) // touch a2: now the most recently used
	f.remember("a5", "q", "v")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lru.Len() != 3 || len(f.entries) != 3 {
		t.Fatalf("%d answers kept, bound 3", f.lru.Len())
	}
	for _, k := range []string{"a2", "a4", "a5"} {
		if _, ok := f.entries[k]; !ok {
			t.Errorf("%s was evicted", k)
		}
	}
}

func TestFeedbackVotersAreBounded(t *testing.T) {
	f := newFeedbackBook(1)
	for i := range maxVotersPerAnswer + 10 {
		f.vote("a", fmt.Sprint("u", i), true)
	}
	f.mu.Lock()
	n := len(f.entries["a"].Value.(*tally).votes)
	ups := f.entries["a"].Value.(*tally).up
	f.mu.Unlock()
	if n != maxVotersPerAnswer || ups != maxVotersPerAnswer+10 {
		t.Errorf("voters remembered %d (bound %d), ups %d", n, maxVotersPerAnswer, ups)
	}
}
