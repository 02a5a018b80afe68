package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"storybot/app"

	"storybot/config"
)

// configLogger logs to w at the configured level.
func configLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
}

// runIndex builds the index and stores it in the data directory ahead of
// time, so the bot's first start embeds nothing.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("index", stderr)
	cfgPath := fs.String("config", "", configFlagUsage)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: storybot index [--config FILE]\n\nBuilds the index of the configured knowledge and stores it in data_dir.\n\n")
		fs.PrintDefaults()
	}
	if done, err := parseNoArgs(fs, args); done || err != nil {
		return err
	}
	cfg, err := config.Load(configPath(*cfgPath, getenv), getenv)
	if err != nil {
		return err
	}
	if cfg.DataDir == "" {
		return errors.New("index stores the index in data_dir, which is not set; set data_dir in the config or STORYBOT_DATA_DIR")
	}
	p := newProgress(stderr, "indexing stories", "stories")
	a, err := app.Open(ctx, cfg, configLogger(stderr, cfg), app.Options{Progress: p.update, NoFallback: true})
	p.finish()
	if err != nil {
		return err
	}
	rep, dir := a.Report, a.Dir
	if rep.SaveErr != nil {
		return fmt.Errorf("store the index: %w", rep.SaveErr)
	}
	fmt.Fprintf(stdout, "indexed %s: %d stories, %d chunks; %d chunks embedded, %d from the cache; %.2f seconds\nstored in %s\n",
		rep.Source, rep.Stats.Stories, rep.Stats.Chunks, rep.Embedded, rep.Cached, rep.Took.Seconds(), dir.Path())
	return nil
}
