package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	_ "github.com/jackc/pgx/v5/stdlib"

	"storybot/bot/discordtest"
	"storybot/config"
)

// TestServeReplicasOnPostgres runs the real serve wiring twice, A and B,
// each behind its own fake Discord, on one PostgreSQL (storage.postgres_url
// and STORYBOT_STORAGE_SALT, as a deployment sets them) and one knowledge
// folder: a /reload on A reloads B, whose new story answers, and A's reply
// reports B.
func TestServeReplicasOnPostgres(t *testing.T) {
	base := os.Getenv("STORYBOT_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("STORYBOT_TEST_POSTGRES_URL is not set (a postgres:// URL of a database the tests may create schemas in); .ci/run sets it")
	}
	connURL := serveTestSchema(t, base)
	folder := t.TempDir()
	if err := os.WriteFile(filepath.Join(folder, "bridge.md"), []byte("# Bridge\n\nThe bridge reopened on Monday after repairs.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == config.SaltEnv {
			return "a-deployment-salt-0123456789abcdef"
		}
		return ""
	}
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait, stop := context.WithTimeout(context.Background(), 90*time.Second)
	defer stop()
	guild := "111111111111111111"
	var logs syncBuffer
	replica := func() (*discordtest.Fake, chan error) {
		fake := discordtest.New(t, discordtest.Config{Token: token})
		cfg := config.Default()
		cfg.HTTP.MetricsAddr = freeAddr(t)
		cfg.Discord.GuildIDs = []string{guild}
		cfg.Knowledge.Dir = folder
		cfg.Embedder.Kind = config.EmbedderNone
		cfg.Retrieval.SentenceEncoder = config.SentenceEncoderNone
		cfg.Storage.PostgresURL = connURL
		done := make(chan error, 1)
		go func() {
			done <- serve(ctx, cfg, nil, slog.New(slog.NewJSONHandler(&logs, nil)), env, func() (*discordgo.Session, error) {
				s, err := fake.NewSession("Bot " + token)
				if s != nil {
					s.ShouldReconnectOnError = false
				}
				return s, err
			})
		}()
		waitReady(t, wait, "http://"+cfg.HTTP.MetricsAddr+"/readyz")
		return fake, done
	}
	a, doneA := replica()
	b, doneB := replica()
	for !strings.Contains(logs.String(), "listening for reloads on other replicas") ||
		strings.Count(logs.String(), "listening for reloads on other replicas") < 2 {
		select {
		case <-wait.Done():
			t.Fatalf("the replicas never listened:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}

	if err := os.WriteFile(filepath.Join(folder, "ferry.md"), []byte("# Ferry\n\nThe ferry to Gull Island resumed service on Friday.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := a.SlashCommand("reload", nil, discordtest.Caller{GuildID: guild, Permissions: "32"})
	a.DispatchInteraction(p)
	if _, err := a.WaitFor(wait, func(r discordtest.Request) bool {
		return r.Route == discordtest.RouteEditOriginal && r.Params["token"] == p.Token()
	}); err != nil {
		t.Fatalf("no reload reply: %v", err)
	}
	m, _ := a.Original(p.Token())
	if !strings.Contains(m.Content, "1 other replica") {
		t.Errorf("A's reload reply does not report B: %q", m.Content)
	}
	q := b.SlashCommand("ask", []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "question", Type: discordgo.ApplicationCommandOptionString, Value: "When did the ferry to Gull Island resume service?"},
	}, discordtest.Caller{GuildID: guild})
	b.DispatchInteraction(q)
	req, err := b.WaitFor(wait, func(r discordtest.Request) bool { return r.Params["token"] == q.Token() })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(req.Body), "Friday") {
		t.Errorf("B does not serve the new story: %s", req.Body)
	}
	cancel()
	for _, done := range []chan error{doneA, doneB} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
	if strings.Contains(logs.String(), "a-deployment-salt") {
		t.Error("the salt was logged")
	}
}

func serveTestSchema(t *testing.T, base string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "storybot_serve_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
