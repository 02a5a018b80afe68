package bot_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
)

func commandNames(cmds []*discordgo.ApplicationCommand) []string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

var wantCommands = []string{"Ask storybot", "ask", "insights", "reload", "sources"}

func TestRunRegistersCommandsGlobally(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})

	cmds := e.f.Commands("")
	if got := commandNames(cmds); !slices.Equal(got, wantCommands) {
		t.Fatalf("global commands %v, want %v", got, wantCommands)
	}
	if ids := e.f.Identifies(); len(ids) != 1 || ids[0].Intents != discordgo.IntentsNone {
		t.Errorf("identifies %+v, want one with no intents", ids)
	}
	for _, c := range cmds {
		if c.Name == "reload" {
			if c.DefaultMemberPermissions == nil || *c.DefaultMemberPermissions != discordgo.PermissionManageGuild {
				t.Errorf("reload default_member_permissions = %v", c.DefaultMemberPermissions)
			}
			if c.Contexts == nil || !slices.Equal(*c.Contexts, []discordgo.InteractionContextType{discordgo.InteractionContextGuild}) {
				t.Errorf("reload contexts = %v, want guild only", c.Contexts)
			}
		}
	}
	puts := 0
	for _, r := range e.f.Requests() {
		if r.Route == discordtest.RouteGlobalCommands || r.Route == discordtest.RouteGuildCommands {
			puts++
		}
	}
	if puts != 1 {
		t.Errorf("%d bulk overwrites, want 1", puts)
	}
}

func TestRunRegistersCommandsPerGuild(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	guilds := []string{"111111111111111111", "222222222222222222"}
	e := start(t, bot.Config{Library: lib, GuildIDs: guilds})
	for _, g := range guilds {
		if _, err := e.f.WaitFor(waitCtx(t), func(r discordtest.Request) bool {
			return r.Route == discordtest.RouteGuildCommands && r.Params["guild"] == g
		}); err != nil {
			t.Fatal(err)
		}
		if got := commandNames(e.f.Commands(g)); !slices.Equal(got, wantCommands) {
			t.Errorf("guild %s commands %v", g, got)
		}
	}
	for _, r := range e.f.Requests() {
		if r.Route == discordtest.RouteGlobalCommands {
			t.Errorf("registered globally too: %v", r)
		}
	}
}

func TestRunEndsWithClearErrorWhenTokenRejected(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})

	t.Run("gateway 4004", func(t *testing.T) {
		t.Parallel()
		f := discordtest.New(t, discordtest.Config{Token: "the-right-token"})
		cfg := bot.Config{Library: lib}
		logs, _ := newHarness(t, &cfg)
		b, err := bot.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.NewSession("Bot wrong-secret-token")
		if err != nil {
			t.Fatal(err)
		}
		err = b.Run(waitCtx(t), s)
		if err == nil || !strings.Contains(err.Error(), "rejected the bot token") {
			t.Errorf("Run = %v, want a rejected-token error", err)
		}
		if strings.Contains(logs.String()+errString(err), "wrong-secret-token") {
			t.Error("the token was logged or put in the error")
		}
		checkRequests(t, f.Requests(), nil)
	})

	t.Run("REST 401", func(t *testing.T) {
		t.Parallel()
		f := discordtest.New(t, discordtest.Config{})
		f.FailNext(discordtest.RouteGlobalCommands, 1, discordtest.ErrorResponse(http.StatusUnauthorized, 0, "401: Unauthorized"))
		cfg := bot.Config{Library: lib}
		newHarness(t, &cfg)
		b, err := bot.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.NewSession(testToken)
		if err != nil {
			t.Fatal(err)
		}
		err = b.Run(waitCtx(t), s)
		if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "rejected the bot token") {
			t.Errorf("Run = %v, want a 401 error", err)
		}
		checkRequests(t, f.Requests(), map[int]bool{http.StatusUnauthorized: true})
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Shutdown waits for answers in flight, so a deploy does not leave a
// "thinking…" message behind.
func TestShutdownWaitsForAnswersInFlight(t *testing.T) {
	t.Parallel()
	emb := &countingEmbedder{}
	lib := folderLibrary(t, writeStories(t), emb)
	e := start(t, bot.Config{Library: lib, DeferAfter: 50 * time.Millisecond})
	release := emb.hold()
	defer release()

	p := e.ask("Who is the city engineer?", member)
	if _, cb := e.callback(p); cb.Type != 5 {
		t.Fatalf("callback type %d, want a deferral", cb.Type)
	}
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.bot.Shutdown(short); err == nil {
		t.Fatal("Shutdown returned while an answer was in flight")
	}
	release()
	if err := e.bot.Shutdown(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if m, ok := e.f.Original(p.Token()); !ok || len(m.Embeds) != 1 {
		t.Errorf("after Shutdown the answer is not in: %+v", m)
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	for _, cfg := range []bot.Config{
		{},
		{Library: lib, DeferAfter: 3 * time.Second},
		{Library: lib, Concurrency: -1},
	} {
		if _, err := bot.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
