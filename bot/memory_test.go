package bot_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for the test schema

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/storage"
)

// postgresEnv names the PostgreSQL database the PostgreSQL half of these
// tests runs in (.ci/run starts one); each test gets a schema of its own.
const postgresEnv = "STORYBOT_TEST_POSTGRES_URL"

// database opens handles on one test database, each as a new process
// would (a restart, or another replica).
type database struct {
	name string
	open func(t *testing.T) *storage.DB
}

// forEachDatabase runs f on a real SQLite file and, when
// STORYBOT_TEST_POSTGRES_URL is set, on PostgreSQL.
func forEachDatabase(t *testing.T, f func(t *testing.T, d database)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), storage.SQLiteFile)
		f(t, database{name: "sqlite", open: func(t *testing.T) *storage.DB {
			db, err := storage.OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}})
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, postgresDatabase(t))
	})
}

// postgresDatabase is a schema of its own in the test PostgreSQL, or skips.
func postgresDatabase(t *testing.T) database {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skip(postgresEnv + " is not set (a postgres:// URL of a database the tests may create schemas in); .ci/run sets it")
	}
	connURL := testSchema(t, base)
	return database{name: "postgres", open: func(t *testing.T) *storage.DB {
		db, err := storage.OpenPostgres(context.Background(), connURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}}
}

func testSchema(t *testing.T, base string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "storybot_bot_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create test schema in %s: %v", postgresEnv, err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var testSalt = []byte("a-test-salt-of-32-characters-xx")

// memoryOn is the bot's memory on db: a writer (closed at the end of the
// test, or by the caller) and the test salt.
func memoryOn(t *testing.T, db *storage.DB) *bot.Memory {
	t.Helper()
	users, err := storage.NewHasher(testSalt)
	if err != nil {
		t.Fatal(err)
	}
	w := storage.NewWriter(context.Background(), db, storage.WriterOptions{LogQuestions: true})
	t.Cleanup(func() { w.Close() })
	return &bot.Memory{Store: db, Writer: w, Users: users}
}

// waitRows waits until the question log of db holds n questions.
func waitRows(t *testing.T, db *storage.DB, n int) *storage.Insights {
	t.Helper()
	ctx := waitCtx(t)
	for {
		in, err := db.Insights(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if in.Total() >= n {
			return in
		}
		select {
		case <-ctx.Done():
			t.Fatalf("question log holds %d questions, want %d", in.Total(), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestMemorySurvivesRestart: every question is logged with its outcome and
// citation (the user hashed), the answer is stored under its interaction
// ID, and after a restart on the same database (a new bot, a new handle,
// a new fake Discord) a repeat vote is recognised, a change of mind counts
// once, and "Show passages" still shows the passage.
func TestMemorySurvivesRestart(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, d database) {
		lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
		db1 := d.open(t)
		mem1 := memoryOn(t, db1)
		a := start(t, bot.Config{Library: lib, Memory: mem1})

		answered := a.ask("When did the Harbor Bridge reopen?", member)
		m, _ := a.final(answered)
		declined := a.ask("What is the airspeed of an unladen swallow?", member)
		a.final(declined)
		_, cb := a.callback(a.dispatch(a.f.Button(buttonWithPrefix(t, m, "fb:down:"), m, member)))
		if !strings.Contains(cb.Data.Content, "Thanks") {
			t.Fatalf("first 👎: %q", cb.Data.Content)
		}

		in := waitRows(t, db1, 2)
		if in.ByOutcome[storage.OutcomeAnswer] != 1 || in.ByOutcome[storage.OutcomeAnswer]+in.ByOutcome[storage.OutcomeClosest]+in.ByOutcome[storage.OutcomeNone] != 2 {
			t.Errorf("outcomes %v, want one answer and one declined", in.ByOutcome)
		}
		if len(in.Unanswered) != 1 || !strings.Contains(in.Unanswered[0].Example, "swallow") {
			t.Errorf("unanswered questions %+v, want the swallow", in.Unanswered)
		}
		if len(in.Disliked) != 1 || in.Disliked[0].AnswerID != answered.ID() || in.Disliked[0].Down != 1 {
			t.Errorf("disliked %+v, want the bridge answer with one 👎", in.Disliked)
		}
		stored, err := db1.Answer(context.Background(), answered.ID())
		if err != nil {
			t.Fatalf("answer not stored under its interaction ID: %v", err)
		}
		if stored.Outcome != storage.OutcomeAnswer || len(stored.Citations) == 0 || stored.Citations[0].Story != "alpha" ||
			!strings.Contains(stored.Citations[0].Quote, "reopened") {
			t.Errorf("stored answer %+v", stored)
		}
		if err := mem1.Writer.Close(); err != nil {
			t.Fatal(err)
		}

		// The restart: nothing of the first process is left but the database.
		db2 := d.open(t)
		b := start(t, bot.Config{Library: lib, Memory: memoryOn(t, db2)})
		click := func(id string, c discordtest.Caller) string {
			_, cb := b.callback(b.dispatch(b.f.Button(id, m, c)))
			return cb.Data.Content
		}
		if got := click(buttonWithPrefix(t, m, "fb:down:"), member); !strings.Contains(got, "already rated") {
			t.Errorf("repeat 👎 after the restart: %q, want it recognised", got)
		}
		if got := click(buttonWithPrefix(t, m, "fb:up:"), member); !strings.Contains(got, "Changed") {
			t.Errorf("👍 after 👎, after the restart: %q, want a change", got)
		}
		other := discordtest.Caller{GuildID: guild, UserID: "3003", Username: "other"}
		if got := click(buttonWithPrefix(t, m, "fb:down:"), other); !strings.Contains(got, "Thanks") {
			t.Errorf("another user's 👎: %q", got)
		}
		res, err := db2.Vote(context.Background(), storage.Vote{AnswerID: answered.ID(), User: "probe", Up: true, Time: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Up != 2 || res.Down != 1 {
			t.Errorf("votes after the restart (with the probe's 👍): %d up, %d down; want 2 and 1", res.Up, res.Down)
		}

		p := b.dispatch(b.f.Button(buttonWithPrefix(t, m, "passages:"), m, member))
		preq, err := b.f.WaitFor(waitCtx(t), forToken(p.Token(), discordtest.RouteCallback))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(preq.Body), "steel cables") {
			t.Errorf("Show passages after the restart: %s", preq.Body)
		}
	})
}

// TestInsightsCommand: /insights is for moderators only, answers
// privately, and shows the declined questions and the 👎 from the real
// question log with the chart attached as a PNG (multipart, as Discord
// takes files).
func TestInsightsCommand(t *testing.T) {
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	path := filepath.Join(t.TempDir(), storage.SQLiteFile)
	db, err := storage.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := start(t, bot.Config{Library: lib, Memory: memoryOn(t, db), GuildIDs: []string{guild}})
	m, _ := e.final(e.ask("When did the Harbor Bridge reopen?", member))
	e.final(e.ask("What is the airspeed of an unladen swallow?", member))
	e.final(e.ask("what is the airspeed of an unladen swallow", member))
	e.callback(e.dispatch(e.f.Button(buttonWithPrefix(t, m, "fb:down:"), m, member)))
	waitRows(t, db, 3)

	_, cb := e.callback(e.dispatch(e.f.SlashCommand("insights", nil, member)))
	if cb.Data.Flags&64 == 0 || !strings.Contains(cb.Data.Content, "Only moderators") {
		t.Errorf("a member's /insights: %+v", cb)
	}

	days := []*discordgo.ApplicationCommandInteractionDataOption{{Name: "days", Type: discordgo.ApplicationCommandOptionInteger, Value: 3.0}}
	p := e.dispatch(e.f.SlashCommand("insights", days, moderator))
	if _, cb := e.callback(p); cb.Type != 5 || cb.Data.Flags&64 == 0 {
		t.Errorf("/insights is not deferred privately: %+v", cb)
	}
	msg, req := e.final(p)
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "multipart/form-data") {
		t.Errorf("the chart was not uploaded as a file: %s", req.Header.Get("Content-Type"))
	}
	em := answerEmbed(t, msg)
	if !strings.Contains(em.Description, "3 questions in the last 3 days") {
		t.Errorf("description %q", em.Description)
	}
	if len(em.Fields) != 2 || !strings.Contains(em.Fields[0].Value, "2× ") || !strings.Contains(em.Fields[0].Value, "swallow") ||
		!strings.Contains(em.Fields[1].Value, "1 👎 0 👍 When did the Harbor Bridge reopen?") {
		t.Errorf("fields %+v", em.Fields)
	}
	if em.Image == nil || em.Image.URL != "attachment://insights.png" || len(msg.Attachments) != 1 {
		t.Fatalf("image %+v, attachments %+v", em.Image, msg.Attachments)
	}
	data, ok := e.f.Attachment(msg.Attachments[0].URL)
	if !ok {
		t.Fatal("attachment bytes not kept")
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 100 {
		t.Errorf("chart of %v", b)
	}
	if msg.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Error("the insights are not ephemeral")
	}
}

// TestShowPassagesAfterTheStoryChanged: once a reload removed a cited
// passage, "Show passages" shows the sentence as the stored answer quoted
// it, instead of only saying it is gone.
func TestShowPassagesAfterTheStoryChanged(t *testing.T) {
	dir := writeStories(t)
	lib := folderLibrary(t, dir, &countingEmbedder{})
	db, err := storage.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), storage.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := start(t, bot.Config{Library: lib, Reload: reloadFrom(lib, dir), Memory: memoryOn(t, db)})
	p := e.ask("How big is the library budget?", member)
	old, _ := e.final(p)
	waitRows(t, db, 1)
	bravo := strings.Replace(testStories["bravo.md"], "four million dollars", "five million dollars", 1)
	if err := os.WriteFile(filepath.Join(dir, "bravo.md"), []byte(bravo), 0o644); err != nil {
		t.Fatal(err)
	}
	e.reloadResult(e.dispatch(e.f.SlashCommand("reload", nil, moderator)))
	req, err := e.f.WaitFor(waitCtx(t), forToken(e.dispatch(e.f.Button(buttonWithPrefix(t, old, "passages:"), old, member)).Token(), discordtest.RouteCallback))
	if err != nil {
		t.Fatal(err)
	}
	body := string(req.Body)
	if !strings.Contains(body, "As quoted when answered") || !strings.Contains(body, "four million dollars") ||
		strings.Contains(body, "no longer in the stories.\"") {
		t.Errorf("Show passages after the change: %s", body)
	}
}
