package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRunWithinEndsARunThatIgnoresItsContext: once the signal's context
// ends, a run that does not stop (a read that ignores its context, say)
// is given up on after the grace, and the signal handler is released so
// a second signal kills; a run that stops is waited for.
func TestRunWithinEndsARunThatIgnoresItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	released := false
	stuck := make(chan struct{})
	defer close(stuck)
	done := make(chan error, 1)
	go func() {
		done <- runWithin(ctx, 100*time.Millisecond, func() { released = true }, func(context.Context) error {
			<-stuck // ignores ctx
			return nil
		})
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, errStillStopping) || !released {
			t.Errorf("err = %v, released %v", err, released)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runWithin waited past its grace")
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	want := errors.New("stopped cleanly")
	if err := runWithin(ctx, time.Minute, func() {}, func(ctx context.Context) error {
		<-ctx.Done()
		return want
	}); err != want {
		t.Errorf("err = %v, want the run's own", err)
	}
}
