package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
	"storybot/config"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeEndToEnd runs the real serve wiring (config, index, metrics
// server, bot) against the fake Discord: it registers its commands, answers
// one question and declines another, counts both in /metrics, reports ready,
// never logs the token, and stops cleanly when its context ends.
func TestServeEndToEnd(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	fake := discordtest.New(t, discordtest.Config{Token: token})
	cfg := config.Default()
	cfg.HTTP.MetricsAddr = freeAddr(t)
	cfg.Discord.GuildIDs = []string{"111111111111111111"}
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

	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	if _, err := fake.WaitFor(wait, discordtest.OnRoute(discordtest.RouteGuildCommands)); err != nil {
		t.Fatalf("commands were not registered: %v\nlogs:\n%s", err, logs.String())
	}
	metricsURL := "http://" + cfg.HTTP.MetricsAddr
	waitReady(t, wait, metricsURL+"/readyz")

	caller := discordtest.Caller{GuildID: cfg.Discord.GuildIDs[0]}
	for _, q := range []string{"who favors strikes?", "What is the capital of France?"} {
		p := fake.SlashCommand("ask", []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "question", Type: discordgo.ApplicationCommandOptionString, Value: q},
		}, caller)
		fake.DispatchInteraction(p)
		req, err := fake.WaitFor(wait, func(r discordtest.Request) bool {
			return strings.Contains(r.Path, p.ID()) || strings.Contains(r.Path, p.Token())
		})
		if err != nil {
			t.Fatalf("%q: no reply: %v", q, err)
		}
		body := string(req.Body)
		if !strings.Contains(body, `"parse":[]`) {
			t.Errorf("%q: reply lacks an empty allowed_mentions parse list: %s", q, body)
		}
		if q == "who favors strikes?" && !strings.Contains(body, "Gorka") {
			t.Errorf("%q: reply does not name Gorka: %s", q, body)
		}
		if q != "who favors strikes?" && !strings.Contains(body, "does not say") {
			t.Errorf("%q: reply does not decline: %s", q, body)
		}
	}

	metrics := get(t, metricsURL+"/metrics")
	for _, want := range []string{`storybot_questions_total{outcome="answered"} 1`, `storybot_questions_total{outcome="declined"} 1`, "storybot_index_chunks 3"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, err := range fake.SpecErrors() {
		t.Error(err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after its context ended", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	out := logs.String() + metrics
	if strings.Contains(out, token) || strings.Contains(out, "secret-token-value") {
		t.Error("the token appears in the logs or /metrics")
	}
	var sawJSON bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		sawJSON = json.Valid([]byte(line))
		if !sawJSON {
			t.Errorf("log line is not JSON: %s", line)
			break
		}
	}
}

func waitReady(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never answered 200 (last: %v)", url, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestServeRefusesMissingToken(t *testing.T) {
	_, _, err := runCLI(t, "serve")
	if err == nil || !strings.Contains(err.Error(), "DISCORD_TOKEN") {
		t.Errorf("got %v, want an error naming DISCORD_TOKEN", err)
	}
}

// TestServeHTTPRegistersBeforeReady: serve --http registers the commands
// with the same bulk overwrite as the gateway, and /readyz says ready only
// once that worked. Before, an HTTP-only deployment had no commands and
// reported ready.
func TestServeHTTPRegistersBeforeReady(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	fake := discordtest.New(t, discordtest.Config{Token: token})
	fake.SetDelay(discordtest.RouteGlobalCommands, 2*time.Second)
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.HTTP.MetricsAddr = freeAddr(t)
	cfg.HTTP.InteractionsAddr = freeAddr(t)
	cfg.Discord.PublicKey = hex.EncodeToString(pub)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
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
	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	req, err := fake.WaitFor(wait, discordtest.OnRoute(discordtest.RouteGlobalCommands))
	if err != nil {
		t.Fatalf("commands were not registered: %v", err)
	}
	// The overwrite is held for 2s: not ready yet.
	if resp, err := http.Get("http://" + cfg.HTTP.MetricsAddr + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && time.Since(req.Time) < 2*time.Second {
			t.Error("/readyz said ready before the commands were registered")
		}
	}
	waitReady(t, wait, "http://"+cfg.HTTP.MetricsAddr+"/readyz")
	if len(fake.Commands("")) != 5 {
		t.Errorf("registered %d commands, want 5", len(fake.Commands("")))
	}
	for _, err := range fake.SpecErrors() {
		t.Error(err)
	}
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
