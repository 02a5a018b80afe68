package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot/discordtest"
	"storybot/config"
)

// TestServeShardsAuto: with discord.shard_count auto, serve asks Discord
// (GET /gateway/bot, which recommends 2 here and refuses fewer with 4011),
// identifies shards [0,2] and [1,2], reports ready once both are up, and
// answers a question from a guild on each shard, each exactly once.
func TestServeShardsAuto(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	guilds := []string{"333333333333333333", "111111111111111111"} // shards 0 and 1
	fake := discordtest.New(t, discordtest.Config{Token: token, Shards: 2, Guilds: guilds})
	cfg := config.Default()
	cfg.HTTP.MetricsAddr = freeAddr(t)
	cfg.Discord.GuildIDs = guilds
	cfg.Discord.ShardCount = config.ShardAuto
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go serveOnFake(ctx, cfg, fake, token, done)
	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	waitReady(t, wait, "http://"+cfg.HTTP.MetricsAddr+"/readyz")
	shards := map[[2]int]bool{}
	for _, id := range fake.Identifies() {
		if id.Shard == nil {
			t.Errorf("an IDENTIFY without a shard")
			continue
		}
		shards[*id.Shard] = true
	}
	if len(shards) != 2 || !shards[[2]int{0, 2}] || !shards[[2]int{1, 2}] {
		t.Errorf("identified shards %v, want [0 2] and [1 2]", shards)
	}
	for _, g := range guilds {
		req := askInGuild(t, wait, fake, g)
		if !strings.Contains(string(req.Body), "Gorka") {
			t.Errorf("guild %s: %s", g, req.Body)
		}
	}
	time.Sleep(200 * time.Millisecond) // a second answer would come now: not synchronisation
	for _, r := range fake.Requests() {
		if r.Route == discordtest.RouteCallback && r.Status >= 400 {
			t.Errorf("a callback failed (answered twice?): %v %s", r, r.Body)
		}
	}
	cancel()
	waitServed(t, done, 1)
	// Once serve has stopped, every shard has registered. Each scope is
	// overwritten once, by the shard that owns it, not once per shard.
	puts := map[string]int{}
	for _, r := range fake.Requests() {
		if r.Route == discordtest.RouteGuildCommands || r.Route == discordtest.RouteGlobalCommands {
			puts[r.Params["guild"]]++
		}
	}
	for _, g := range guilds {
		if puts[g] != 1 {
			t.Errorf("guild %s's commands were overwritten %d times, want once", g, puts[g])
		}
	}
	if puts[""] != 0 {
		t.Errorf("global commands overwritten %d times with per-guild registration", puts[""])
	}
}

// TestServeShardsRegisterGlobalCommandsOnce: with global registration and
// two shards, the global set is overwritten once (by shard 0), not once a
// shard, and both shards come up.
func TestServeShardsRegisterGlobalCommandsOnce(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	guilds := []string{"333333333333333333", "111111111111111111"} // shards 0 and 1
	fake := discordtest.New(t, discordtest.Config{Token: token, Shards: 2, Guilds: guilds})
	cfg := config.Default()
	cfg.HTTP.MetricsAddr = freeAddr(t)
	cfg.Discord.ShardCount = "2"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go serveOnFake(ctx, cfg, fake, token, done)
	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	waitReady(t, wait, "http://"+cfg.HTTP.MetricsAddr+"/readyz")
	if n := len(fake.Identifies()); n != 2 {
		t.Errorf("%d IDENTIFYs, want 2", n)
	}
	// A question through each shard: by its answer, both shards are well
	// past registering.
	for _, g := range guilds {
		askInGuild(t, wait, fake, g)
	}
	cancel()
	waitServed(t, done, 1)
	global := 0
	for _, r := range fake.Requests() {
		switch r.Route {
		case discordtest.RouteGlobalCommands:
			global++
		case discordtest.RouteGuildCommands:
			t.Errorf("guild %s's commands overwritten with global registration (it had none to clear)", r.Params["guild"])
		}
	}
	if global != 1 {
		t.Errorf("global commands overwritten %d times, want once", global)
	}
	if cmds := fake.Commands(""); len(cmds) == 0 {
		t.Error("no global commands registered")
	}
}

// TestServeShardsSplitAcrossProcesses: two serve runs, as two processes
// would be, each with one of two shards (discord.shard_ids [0] and [1]).
// Each identifies only its shard, each guild's commands are overwritten
// once in all, and a question from a guild on either shard is answered
// once.
func TestServeShardsSplitAcrossProcesses(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEy.secret-token-value"
	guilds := []string{"333333333333333333", "111111111111111111"} // shards 0 and 1
	fake := discordtest.New(t, discordtest.Config{Token: token, Shards: 2, Guilds: guilds})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	done := make(chan error, 2)
	for shard := range 2 {
		cfg := config.Default()
		cfg.HTTP.MetricsAddr = freeAddr(t)
		cfg.Discord.GuildIDs = guilds
		cfg.Discord.ShardCount = "2"
		cfg.Discord.ShardIDs = []int{shard}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		go serveOnFake(ctx, cfg, fake, token, done)
		waitReady(t, wait, "http://"+cfg.HTTP.MetricsAddr+"/readyz")
	}
	shards := map[[2]int]int{}
	for _, id := range fake.Identifies() {
		if id.Shard != nil {
			shards[*id.Shard]++
		}
	}
	if len(shards) != 2 || shards[[2]int{0, 2}] != 1 || shards[[2]int{1, 2}] != 1 {
		t.Errorf("identified shards %v, want [0 2] and [1 2] once each", shards)
	}
	for _, g := range guilds {
		req := askInGuild(t, wait, fake, g)
		if !strings.Contains(string(req.Body), "Gorka") {
			t.Errorf("guild %s: %s", g, req.Body)
		}
	}
	cancel()
	waitServed(t, done, 2)
	puts := map[string]int{}
	for _, r := range fake.Requests() {
		switch r.Route {
		case discordtest.RouteGuildCommands, discordtest.RouteGlobalCommands:
			puts[r.Params["guild"]]++
		case discordtest.RouteCallback:
			if r.Status >= 400 {
				t.Errorf("a callback failed (answered twice?): %v %s", r, r.Body)
			}
		}
	}
	for _, g := range guilds {
		if puts[g] != 1 {
			t.Errorf("guild %s's commands were overwritten %d times across both processes, want once", g, puts[g])
		}
	}
}

// serveOnFake runs serve against the fake Discord, its result sent to done.
func serveOnFake(ctx context.Context, cfg *config.Config, fake *discordtest.Fake, token string, done chan<- error) {
	done <- serve(ctx, cfg, nil, slog.New(slog.NewJSONHandler(io.Discard, nil)), noEnv, func() (*discordgo.Session, error) {
		s, err := fake.NewSession("Bot " + token)
		if s != nil {
			s.ShouldReconnectOnError = false
		}
		return s, err
	})
}

// askInGuild asks /ask from guild g and returns the first request that
// answers it.
func askInGuild(t *testing.T, ctx context.Context, fake *discordtest.Fake, g string) discordtest.Request {
	t.Helper()
	p := fake.SlashCommand("ask", []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "question", Type: discordgo.ApplicationCommandOptionString, Value: "who favors strikes?"},
	}, discordtest.Caller{GuildID: g})
	if err := fake.DispatchInteraction(p); err != nil {
		t.Fatal(err)
	}
	req, err := fake.WaitFor(ctx, func(r discordtest.Request) bool { return r.Params["token"] == p.Token() })
	if err != nil {
		t.Fatalf("guild %s: no answer: %v", g, err)
	}
	return req
}

// waitServed waits for n serve runs to return, each without an error.
func waitServed(t *testing.T, done <-chan error, n int) {
	t.Helper()
	for range n {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
}
