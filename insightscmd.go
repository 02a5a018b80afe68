package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"storybot/app"
	"storybot/config"
	"storybot/insights"
)

const insightsUsage = `Usage: storybot insights [--config FILE] [--since 7d] [--top 10] [--json|--csv] [--chart FILE.png]

What people asked in the period: counts by outcome and per day, the most
frequent questions the stories did not answer (near-identical wordings
grouped), and the answers with the most 👎. Reads the configured database:
storage.postgres_url, else storybot.db in data_dir.
`

// maxSince bounds --since: the log keeps at most storage.retention_days.
const maxSince = 3650 * 24 * time.Hour

func runInsights(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("insights", stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), insightsUsage); fs.PrintDefaults() }
	configFile := fs.String("config", "", configFlagUsage)
	since := fs.String("since", "7d", "the period, back from now: days (7d), weeks (2w) or a duration (12h)")
	top := fs.Int("top", 10, "how many questions and answers to list")
	asJSON := fs.Bool("json", false, "print JSON")
	asCSV := fs.Bool("csv", false, "print CSV, one row per figure")
	chart := fs.String("chart", "", "also write a PNG chart of questions per day by outcome to `FILE`")
	if done, err := parseNoArgs(fs, args); done {
		return err
	}
	if *asJSON && *asCSV {
		return usageError("insights: --json and --csv are exclusive")
	}
	period, err := parseSince(*since)
	if err != nil {
		return usageError("insights: --since %q: %v", *since, err)
	}
	if *top < 1 || *top > 1000 {
		return usageError("insights: --top %d: use 1 to 1000", *top)
	}
	cfg, err := config.Load(configPath(*configFile, getenv), getenv)
	if err != nil {
		return err
	}
	db, err := app.OpenDB(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	in, err := db.Insights(ctx, now.Add(-period), now, *top)
	if err != nil {
		return err
	}
	if *chart != "" {
		var png bytes.Buffer
		if err := insights.WriteChart(&png, in); err != nil {
			return err
		}
		if err := os.WriteFile(*chart, png.Bytes(), 0o644); err != nil {
			return fmt.Errorf("insights: write chart: %w", err)
		}
	}
	switch {
	case *asJSON:
		return insights.WriteJSON(stdout, in)
	case *asCSV:
		return insights.WriteCSV(stdout, in)
	}
	return insights.WriteText(stdout, in)
}

// parseSince reads "7d", "2w" or a Go duration.
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	unit := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}
	if u, ok := unit[s[max(0, len(s)-1):]]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s[:len(s)-1]))
		if err != nil {
			return 0, errors.New("want a whole number of days (7d) or weeks (2w), or a duration such as 12h")
		}
		d = time.Duration(n) * u
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want days (7d), weeks (2w) or a duration such as 12h")
		}
	}
	if d <= 0 || d > maxSince {
		return 0, errors.New("want a period above zero and at most 3650d")
	}
	return d, nil
}
