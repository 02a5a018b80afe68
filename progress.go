package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// progress shows how far a long run is: a redrawn bar on a terminal, a plain
// line every tenth of the way otherwise (logs, CI). Both say how fast it goes
// (unit per second) and how long is left at that pace.
type progress struct {
	w        io.Writer
	label    string
	unit     string // what is counted, plural: "stories"
	terminal bool
	log      *slog.Logger // if set (and not on a terminal), lines go to the log
	start    time.Time
	now      func() time.Time
	lastPct  int
	lastDraw time.Time
	drawn    bool
}

func newProgress(w io.Writer, label, unit string) *progress {
	return &progress{w: w, label: label, unit: unit, terminal: isTerminal(w), start: time.Now(), now: time.Now, lastPct: -1}
}

// newLogProgress draws a bar when bar is a terminal, else it logs a line
// every tenth of the way to log (serve, whose stderr is a JSON log).
func newLogProgress(bar io.Writer, log *slog.Logger, label, unit string) *progress {
	if bar != nil && isTerminal(bar) {
		return newProgress(bar, label, unit)
	}
	p := newProgress(io.Discard, label, unit)
	p.terminal, p.log = false, log
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// pace is the rate so far and the time left at that rate; ok is false until
// something is done (no rate to go by yet).
func pace(done, total int, elapsed time.Duration) (perSecond float64, left time.Duration, ok bool) {
	if done <= 0 || elapsed <= 0 {
		return 0, 0, false
	}
	perSecond = float64(done) / elapsed.Seconds()
	if remaining := total - done; remaining > 0 {
		left = time.Duration(float64(remaining) / perSecond * float64(time.Second))
	}
	return perSecond, left, true
}

// paceText is "12.3 stories/s, 40s left", or "" with no rate yet.
func (p *progress) paceText(done, total int, elapsed time.Duration) string {
	rate, left, ok := pace(done, total, elapsed)
	if !ok {
		return ""
	}
	if done >= total {
		return fmt.Sprintf(", %.1f %s/s", rate, p.unit)
	}
	return fmt.Sprintf(", %.1f %s/s, %s left", rate, p.unit, left.Round(time.Second))
}

func (p *progress) update(done, total int) {
	if total <= 0 {
		return
	}
	now := p.now()
	elapsed := now.Sub(p.start)
	pct := done * 100 / total
	if p.terminal {
		if done != total && now.Sub(p.lastDraw) < 100*time.Millisecond {
			return
		}
		p.lastDraw = now
		const width = 30
		filled := width * done / total
		// \033[K clears what a longer earlier line left behind.
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %3d%% %s%s\033[K", p.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			done, total, pct, elapsed.Round(time.Second), p.paceText(done, total, elapsed))
		p.drawn = true
		return
	}
	if pct/10 != p.lastPct/10 || done == total {
		if pct == p.lastPct {
			return
		}
		p.lastPct = pct
		if p.log != nil {
			rate, left, _ := pace(done, total, elapsed)
			p.log.Info(p.label, "done", done, "total", total, "elapsed", elapsed.Round(time.Millisecond).String(),
				p.unit+"_per_second", fmt.Sprintf("%.1f", rate), "left", left.Round(time.Second).String())
			return
		}
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%) after %s%s\n", p.label, done, total, pct, elapsed.Round(time.Millisecond), p.paceText(done, total, elapsed))
	}
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
