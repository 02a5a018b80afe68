package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"storybot/insights"
	"storybot/storage"
)

// logQuestions writes a question log into db the way the bot does, through
// storage.Writer, and closes db.
func logQuestions(t *testing.T, db *storage.DB) {
	t.Helper()
	ctx := context.Background()
	defer db.Close()
	w := storage.NewWriter(ctx, db, storage.WriterOptions{LogQuestions: true})
	now := time.Now()
	ask := func(ago time.Duration, text string, o storage.Outcome) {
		w.LogQuestion(storage.Question{Time: now.Add(-ago), User: "u", Text: text, Outcome: o, IndexVersion: "v1"})
	}
	day := 24 * time.Hour
	ask(time.Hour, "Who favors strikes?", storage.OutcomeAnswer)
	ask(2*time.Hour, "What is the capital of France?", storage.OutcomeNone)
	ask(day+time.Hour, "what is the capital of france", storage.OutcomeClosest)
	ask(3*day, "Who is the mayor of Paris?", storage.OutcomeNone)
	ask(10*day, "What is the capital of France?", storage.OutcomeNone) // outside 7d
	w.SaveAnswer(storage.Answer{ID: "a1", Time: now.Add(-time.Hour), Question: "Who favors strikes?", Outcome: storage.OutcomeAnswer, IndexVersion: "v1"})
	w.Vote(storage.Vote{AnswerID: "a1", User: "u2", Up: false, Time: now.Add(-time.Hour)})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInsightsCommand(t *testing.T) {
	data := t.TempDir()
	db, err := storage.OpenSQLite(context.Background(), filepath.Join(data, storage.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	logQuestions(t, db)
	testInsightsCommand(t, map[string]string{"STORYBOT_DATA_DIR": data})
}

// TestInsightsCommandOnPostgres reads the log from PostgreSQL, as a
// moderator beside replicas would. The database must be one the test may
// make a schema in (see storage's tests).
func TestInsightsCommandOnPostgres(t *testing.T) {
	base := os.Getenv("STORYBOT_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("STORYBOT_TEST_POSTGRES_URL is not set (a postgres:// URL of a database the tests may create schemas in); .ci/run sets it")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("storybot_cli_test_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := storage.OpenPostgres(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	logQuestions(t, db)
	// No data_dir: the database comes from storage.postgres_url alone.
	testInsightsCommand(t, map[string]string{"STORYBOT_STORAGE_POSTGRES_URL": u.String()})
}

func testInsightsCommand(t *testing.T, env map[string]string) {
	t.Helper()

	out, errOut, err := runEnv(t, env, "insights")
	if err != nil {
		t.Fatalf("insights: %v\n%s", err, errOut)
	}
	for _, want := range []string{": 4\n", "2×  ", "capital of France", "1×  Who is the mayor of Paris?", "1 👎    0 👍  Who favors strikes?"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}

	out, _, err = runEnv(t, env, "insights", "--since", "30d", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r insights.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if r.Total != 5 || r.Unanswered[0].Count != 3 || r.ByOutcome["none"] != 3 {
		t.Errorf("30 days: %+v", r)
	}

	chart := filepath.Join(t.TempDir(), "chart.png")
	out, _, err = runEnv(t, env, "insights", "--csv", "--chart", chart, "--since", "2w")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 4 || rows[0][0] != "section" {
		t.Errorf("--csv: %v\n%s", err, out)
	}
	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("--chart wrote no PNG: %v", err)
	}
}

func TestInsightsCommandMistakes(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		env   map[string]string
		args  []string
		usage bool
		want  string
	}{
		{nil, []string{"--since", "soon"}, true, `--since "soon"`},
		{nil, []string{"--since", "0d"}, true, "above zero"},
		{nil, []string{"--json", "--csv"}, true, "exclusive"},
		{nil, []string{"extra"}, true, "no arguments"},
		{nil, nil, false, "set data_dir"},
		{map[string]string{"STORYBOT_DATA_DIR": data}, nil, false, "no question log at " + filepath.Join(data, storage.SQLiteFile)},
		{map[string]string{"STORYBOT_STORAGE_POSTGRES_URL": "postgres://u:hunter2secret@127.0.0.1:1/x?connect_timeout=2"}, nil, false, "storage.postgres_url"},
	} {
		_, _, err := runEnv(t, tc.env, append([]string{"insights"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, errUsage) != tc.usage {
			t.Errorf("insights %v: %v; want %q (usage error: %v)", tc.args, err, tc.want, tc.usage)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, storage.SQLiteFile)); err == nil {
		t.Error("insights made an empty database")
	}
}
