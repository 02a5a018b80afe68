package storage

import (
	"context"
	"log/slog"
	"time"
)

// DefaultPruneEvery is how often RunPruning prunes: often enough that a day's
// rows go soon after their time, rarely enough to cost nothing.
const DefaultPruneEvery = time.Hour

// RunPruning prunes s at once and then every interval (DefaultPruneEvery if
// 0), deleting what is older than retention, until ctx ends. Run it on a
// goroutine the caller waits for. A failed prune is logged and tried again
// next time: the rows are only kept a little longer.
func RunPruning(ctx context.Context, s Store, retention, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = DefaultPruneEvery
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		p, err := s.Prune(ctx, time.Now(), retention)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("storage prune failed", "err", err)
		case p != (Pruned{}):
			log.Info("storage pruned", "questions", p.Questions, "answers", p.Answers, "votes", p.Votes, "rate_windows", p.RateWindows, "follow_ups", p.FollowUps)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
