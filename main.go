// Command storybot answers questions about news stories, quoting the passages
// it answers from. It runs as a Discord bot or on the command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownGrace is how long a run may go on after SIGINT or SIGTERM: the
// bot's drain (15 s) and a margin. Past it the process exits anyway, so a
// read or a call that does not look at its context cannot keep it alive;
// a second signal ends it at once.
const shutdownGrace = 20 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := runWithin(ctx, shutdownGrace, stop, func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	})
	stop()
	if errors.Is(err, errStillStopping) {
		fmt.Fprintln(os.Stderr, "storybot:", err)
		os.Exit(1) // the run's goroutines are abandoned with the process
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storybot:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errStillStopping is runWithin's error when the run outlived its grace.
var errStillStopping = errors.New("still stopping after the signal; exiting")

// runWithin runs fn and returns its error; once ctx ends (a signal) it
// calls stopSignals, so the next signal kills at once, and waits at most
// grace for fn to return.
func runWithin(ctx context.Context, grace time.Duration, stopSignals func(), fn func(context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- fn(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopSignals()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-errc:
		return err
	case <-t.C:
		return fmt.Errorf("%w (%v)", errStillStopping, grace)
	}
}

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

const usage = `storybot answers questions about news stories and cites the passages.

Usage:
  storybot serve [--config FILE] [--http ADDR]         run the Discord bot (token: DISCORD_TOKEN)
  storybot ask [--json] [--knowledge DIR] [--no-cache] QUESTION   answer one question
  storybot sources [--json] [--knowledge DIR] [--no-cache]        list the stories
  storybot eval [--json] [--abstain-test] [--no-cache] FILE.json  measure answer quality on a SQuAD-format set
  storybot index [--config FILE]                     build the index and store it in data_dir
  storybot insights [--since 7d] [--json|--csv]      what people asked, and what the stories miss
                    [--chart FILE.png] [--config FILE]
  storybot config check FILE                         validate a config file without starting
  storybot healthcheck [--url URL]                   exit 0 if a running storybot is healthy
  storybot version                                   print the version, Go version and VCS revision
  storybot help                                      show this help

Without --knowledge, storybot answers from the story built into it. With it,
and for eval, embeddings are cached in $STORYBOT_DATA_DIR, else in the user's
cache directory (storybot/); --no-cache turns that off.
`

// run is the whole program, testable: arguments, streams and environment
// come in; an error comes out.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "ask":
		return runAsk(ctx, rest, stdout, stderr, getenv)
	case "sources":
		return runSources(ctx, rest, stdout, stderr, getenv)
	case "eval":
		return runEval(ctx, rest, stdout, stderr, getenv)
	case "serve":
		return runServe(ctx, rest, stdout, stderr, getenv)
	case "index":
		return runIndex(ctx, rest, stdout, stderr, getenv)
	case "insights":
		return runInsights(ctx, rest, stdout, stderr, getenv)
	case "config":
		return runConfig(ctx, rest, stdout, stderr, getenv)
	case "healthcheck":
		return runHealthcheck(ctx, rest, stdout, stderr, getenv)
	case "version", "--version":
		return runVersion(ctx, rest, stdout, stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError("unknown command %q", cmd)
}
