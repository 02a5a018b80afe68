package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress shows how far a long run is: a redrawn bar on a terminal, a plain
// line every tenth of the way otherwise (logs, CI).
type progress struct {
	w        io.Writer
	label    string
	terminal bool
	start    time.Time
	lastPct  int
	lastDraw time.Time
	drawn    bool
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, terminal: isTerminal(w), start: time.Now(), lastPct: -1}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(done, total int) {
	if total <= 0 {
		return
	}
	pct := done * 100 / total
	if p.terminal {
		if done != total && time.Since(p.lastDraw) < 100*time.Millisecond {
			return
		}
		p.lastDraw = time.Now()
		const width = 30
		filled := width * done / total
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %3d%% %s", p.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			done, total, pct, time.Since(p.start).Round(time.Second))
		p.drawn = true
		return
	}
	if pct/10 != p.lastPct/10 || done == total {
		if pct == p.lastPct {
			return
		}
		p.lastPct = pct
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%) after %s\n", p.label, done, total, pct, time.Since(p.start).Round(time.Millisecond))
	}
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
