package main

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
	"storybot/config"
	"storybot/storage"
)

// TestServeKeepsQuestionsInDataDir runs serve with a data_dir: it opens
// storybot.db there, prunes what is past retention, logs every question, and when the database cannot be
// written (another process holds its write lock) it still answers at
// once, /readyz stays 200 but says "degraded", and once the lock goes the
// question asked meanwhile is written and the degraded note goes too.
func TestServeKeepsQuestionsInDataDir(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	fake := discordtest.New(t, discordtest.Config{Token: token})
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.MetricsAddr = freeAddr(t)
	cfg.Discord.GuildIDs = []string{"111111111111111111"}
	// A question older than storage.retention_days (90): pruned at start.
	path := filepath.Join(cfg.DataDir, storage.SQLiteFile)
	old, err := storage.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	err = old.Write(context.Background(), storage.Batch{Questions: []storage.Question{{
		Time: time.Now().Add(-200 * 24 * time.Hour), User: "u", Text: "old question", Outcome: storage.OutcomeNone}}})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, nil, log, noEnv, func() (*discordgo.Session, error) {
			s, err := fake.NewSession("Bot " + token)
			if s != nil {
				s.ShouldReconnectOnError = false
			}
			return s, err
		})
	}()
	wait, stop := context.WithTimeout(context.Background(), 90*time.Second)
	defer stop()
	readyz := "http://" + cfg.HTTP.MetricsAddr + "/readyz"
	waitReady(t, wait, readyz)

	caller := discordtest.Caller{GuildID: cfg.Discord.GuildIDs[0], UserID: "4242"}
	ask := func(q string) time.Duration {
		p := fake.SlashCommand("ask", []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "question", Type: discordgo.ApplicationCommandOptionString, Value: q},
		}, caller)
		start := time.Now()
		fake.DispatchInteraction(p)
		req, err := fake.WaitFor(wait, func(r discordtest.Request) bool { return r.Params["token"] == p.Token() })
		if err != nil {
			t.Fatalf("%q: no reply: %v", q, err)
		}
		if !strings.Contains(string(req.Body), "Gorka") {
			t.Errorf("%q: %s", q, req.Body)
		}
		return time.Since(start)
	}
	db, err := storage.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("serve made no %s: %v", path, err)
	}
	defer db.Close()
	logged := func() int {
		in, err := db.Insights(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 5)
		if err != nil {
			t.Fatal(err)
		}
		return in.ByOutcome[storage.OutcomeAnswer]
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-wait.Done():
				t.Fatalf("%s never happened\nlogs:\n%s", what, logs.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	waitFor("the old question pruned", func() bool {
		in, err := db.Insights(context.Background(), time.Now().Add(-300*24*time.Hour), time.Now(), 5)
		return err == nil && in.Total() == 0
	})
	ask("who favors strikes?")
	waitFor("the first question logged", func() bool { return logged() == 1 })

	// Another process takes the write lock and keeps it.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	lock, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	if took := ask("who supports military strikes?"); took > 2*time.Second {
		t.Errorf("answering with the database locked took %v", took)
	}
	waitFor("/readyz degraded", func() bool { return strings.Contains(get(t, readyz), "degraded") })
	if logged() != 1 {
		t.Error("a row was written through the lock")
	}
	if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	lock.Close()
	waitFor("the question asked during the lock logged", func() bool { return logged() == 2 })
	waitFor("/readyz no longer degraded", func() bool { return !strings.Contains(get(t, readyz), "degraded") })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}
