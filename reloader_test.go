package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
	"storybot/config"
)

// TestOneReloadCountsOnce: through the real serve wiring, one /reload adds
// one to storybot_reloads_total{result="ok"} (before: two, the bot and
// serve each counting), and SIGHUP reloads through the same path.
func TestOneReloadCountsOnce(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	fake := discordtest.New(t, discordtest.Config{Token: token})
	folder := t.TempDir()
	if err := os.WriteFile(filepath.Join(folder, "bridge.md"), []byte("# Bridge\n\nThe bridge reopened on Monday after repairs.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.HTTP.MetricsAddr = freeAddr(t)
	cfg.Discord.GuildIDs = []string{"111111111111111111"}
	cfg.Knowledge.Dir = folder
	cfg.Embedder.Kind = config.EmbedderNone
	cfg.Retrieval.SentenceEncoder = config.SentenceEncoderNone
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, nil, slog.New(slog.DiscardHandler), noEnv, func() (*discordgo.Session, error) {
			s, err := fake.NewSession("Bot " + token)
			if s != nil {
				s.ShouldReconnectOnError = false
			}
			return s, err
		})
	}()
	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	metricsURL := "http://" + cfg.HTTP.MetricsAddr
	waitReady(t, wait, metricsURL+"/readyz")

	p := fake.SlashCommand("reload", nil, discordtest.Caller{GuildID: cfg.Discord.GuildIDs[0], Permissions: "32"})
	if err := fake.DispatchInteraction(p); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.WaitFor(wait, func(r discordtest.Request) bool {
		return r.Route == discordtest.RouteEditOriginal && r.Params["token"] == p.Token() && r.Status == http.StatusOK
	}); err != nil {
		t.Fatalf("no reload answer: %v", err)
	}
	if m, _ := fake.Original(p.Token()); m == nil || !strings.Contains(m.Content, "Reloaded") {
		t.Fatalf("reload answer %+v", m)
	}
	if got := get(t, metricsURL+"/metrics"); !strings.Contains(got, `storybot_reloads_total{result="ok"} 1`) {
		t.Errorf("after one /reload, /metrics has:\n%s", grepLines(got, "storybot_reloads_total"))
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(get(t, metricsURL+"/metrics"), `storybot_reloads_total{result="ok"} 2`) {
		select {
		case <-wait.Done():
			t.Fatal("SIGHUP did not reload")
		case <-time.After(20 * time.Millisecond):
		}
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

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
