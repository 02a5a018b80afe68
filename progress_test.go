package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestPace(t *testing.T) {
	tests := []struct {
		done, total int
		elapsed     time.Duration
		rate        float64
		left        time.Duration
		ok          bool
	}{
		{0, 100, time.Second, 0, 0, false},
		{10, 100, 0, 0, 0, false},
		{10, 100, 2 * time.Second, 5, 18 * time.Second, true},
		{25, 100, 5 * time.Second, 5, 15 * time.Second, true},
		{100, 100, 4 * time.Second, 25, 0, true},
		{3, 4, 300 * time.Millisecond, 10, 100 * time.Millisecond, true},
	}
	for _, tt := range tests {
		rate, left, ok := pace(tt.done, tt.total, tt.elapsed)
		if ok != tt.ok || rate != tt.rate || left != tt.left {
			t.Errorf("pace(%d, %d, %v) = %v, %v, %v; want %v, %v, %v", tt.done, tt.total, tt.elapsed, rate, left, ok, tt.rate, tt.left, tt.ok)
		}
	}
}

// fakeClock is a progress whose clock moves one step per update.
func fakeClock(p *progress, step time.Duration) {
	now := p.start
	p.now = func() time.Time { now = now.Add(step); return now }
}

func TestProgressLinesOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "indexing stories", "stories")
	if p.terminal {
		t.Fatal("a buffer is not a terminal")
	}
	fakeClock(p, 500*time.Millisecond) // 2 stories/s
	for i := 0; i <= 20; i++ {
		p.update(i, 20)
	}
	p.finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want one per tenth (10%%…100%%):\n%s", len(lines), buf.String())
	}
	// 2 of 20 done after 3 steps of 0.5 s: 1.3 stories/s, 18 left = 13.5 s.
	if want := "indexing stories: 2/20 (10%) after 1.5s, 1.3 stories/s, 14s left"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	// 10 of 20 done after 11 steps: 1.8 stories/s, 10 left = 5.5 s.
	if want := "indexing stories: 10/20 (50%) after 5.5s, 1.8 stories/s, 6s left"; lines[4] != want {
		t.Errorf("halfway line %q, want %q", lines[4], want)
	}
	if want := "indexing stories: 20/20 (100%) after 10.5s, 1.9 stories/s"; lines[9] != want {
		t.Errorf("last line %q, want %q", lines[9], want)
	}
	if strings.Contains(buf.String(), "\r") {
		t.Error("a log line redraws")
	}
}

func TestProgressToALog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	p := newLogProgress(nil, log, "indexing stories", "stories")
	fakeClock(p, time.Second)
	for i := 0; i <= 4; i++ {
		p.update(i, 4)
	}
	out := buf.String()
	if n := strings.Count(out, `msg="indexing stories"`); n != 4 {
		t.Errorf("%d log records, want 4 (none before a story is done):\n%s", n, out)
	}
	if !strings.Contains(out, "done=2 total=4 elapsed=3s stories_per_second=0.7 left=3s") {
		t.Errorf("no rate and time left in the log:\n%s", out)
	}
}
