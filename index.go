package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"storybot/config"
)

// errHelp means --help was asked for and the usage has been printed: the
// command succeeds without doing anything else.
var errHelp = errors.New("help shown")

// parseArgs is parseInterleaved with --help as a success, not a mistake.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// configEnv names the config file when --config is not given, so a
// container can set it once for serve, index and healthcheck alike.
const configEnv = "STORYBOT_CONFIG"

// configPath is --config, else $STORYBOT_CONFIG, else "" (defaults and
// STORYBOT_* variables only).
func configPath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	return getenv(configEnv)
}

// configLogger logs to w at the configured level.
func configLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
}

// runIndex builds the index and stores it in the data directory ahead of
// time, so the bot's first start embeds nothing.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("index", stderr)
	cfgPath := fs.String("config", "", "YAML config file (default $STORYBOT_CONFIG; without either: defaults and STORYBOT_* variables)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: storybot index [--config FILE]\n\nBuilds the index of the configured knowledge and stores it in data_dir.\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("index takes no arguments, got %q", pos[0])
	}
	cfg, err := config.Load(configPath(*cfgPath, getenv), getenv)
	if err != nil {
		return err
	}
	if cfg.DataDir == "" {
		return errors.New("index stores the index in data_dir, which is not set; set data_dir in the config or STORYBOT_DATA_DIR")
	}
	opts, err := cfg.RetrievalOptions()
	if err != nil {
		return err
	}
	p := newProgress(stderr, "indexing stories")
	b := &boot{cfg: cfg, opts: opts, log: configLogger(stderr, cfg), progress: p.update}
	_, dir, rep, err := b.start(ctx)
	p.finish()
	if err != nil {
		return err
	}
	if rep.SaveErr != nil {
		return fmt.Errorf("store the index: %w", rep.SaveErr)
	}
	fmt.Fprintf(stdout, "indexed %s: %d stories, %d chunks; %d chunks embedded, %d from the cache; %.2f seconds\nstored in %s\n",
		rep.Source, rep.Stats.Stories, rep.Stats.Chunks, rep.Embedded, rep.Cached, rep.Took.Seconds(), dir.Path())
	return nil
}
