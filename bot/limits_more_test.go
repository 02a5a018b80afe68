package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
)

// TestBusyReplyUsesNoQuestion: a question refused because the bot is busy
// (the concurrency cap) does not use up one of the asker's questions.
func TestBusyReplyUsesNoQuestion(t *testing.T) {
	t.Parallel()
	emb := &countingEmbedder{}
	e := start(t, bot.Config{Library: folderLibrary(t, writeStories(t), emb), PerUserPerMinute: 1, Concurrency: 1, DeferAfter: 50 * time.Millisecond})
	release := emb.hold()
	defer release()
	first := e.ask(question, member)
	if _, cb := e.callback(first); cb.Type != 5 {
		t.Fatalf("first question: callback type %d, want a deferral", cb.Type)
	}
	// reader2 is told the bot is busy...
	_, cb := e.callback(e.ask(question, reader2))
	if !strings.Contains(cb.Data.Content, "busy") {
		t.Fatalf("over the cap: %+v", cb)
	}
	release()
	if _, err := e.f.WaitFor(waitCtx(t), forToken(first.Token(), discordtest.RouteEditOriginal)); err != nil {
		t.Fatal(err)
	}
	if err := e.bot.Shutdown(waitCtx(t)); err != nil { // every handler done: the gate is free
		t.Fatal(err)
	}
	// ... and still has the one question a minute the limit gives.
	m, _ := e.final(e.ask(question, reader2))
	if d := answerEmbed(t, m).Description; !strings.Contains(d, "Dana Whitfield") {
		t.Errorf("reader2's question after the busy reply: %q", d)
	}
}

// TestSourcesAndButtonsAreRateLimited: /sources and button presses have a
// budget per user too (4 per question a minute), told privately when spent.
func TestSourcesAndButtonsAreRateLimited(t *testing.T) {
	t.Parallel()
	e := start(t, bot.Config{Library: folderLibrary(t, writeStories(t), &countingEmbedder{}), PerUserPerMinute: 1})
	for i := range 4 {
		if _, cb := e.callback(e.dispatch(e.f.SlashCommand("sources", nil, member))); cb.Type != 4 || strings.Contains(cb.Data.Content, "faster") {
			t.Fatalf("/sources %d: %+v", i+1, cb)
		}
	}
	_, cb := e.callback(e.dispatch(e.f.SlashCommand("sources", nil, member)))
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "try again in") {
		t.Errorf("the fifth /sources: %+v", cb)
	}
	_, cb = e.callback(e.dispatch(e.f.Button("fb:up:1", nil, member)))
	if !strings.Contains(cb.Data.Content, "try again in") {
		t.Errorf("a button after the budget: %+v", cb)
	}
	// Another user has a budget of their own.
	if _, cb := e.callback(e.dispatch(e.f.SlashCommand("sources", nil, reader2))); strings.Contains(cb.Data.Content, "faster") {
		t.Errorf("reader2's /sources: %+v", cb)
	}
}

// TestReloadRefusedOutsideConfiguredGuilds: with guild_ids set, /reload
// from any other guild is refused (a stale global command, or forged),
// even for a moderator there.
func TestReloadRefusedOutsideConfiguredGuilds(t *testing.T) {
	t.Parallel()
	dir := writeStories(t)
	lib := folderLibrary(t, dir, &countingEmbedder{})
	e := start(t, bot.Config{Library: lib, GuildIDs: []string{guild}, Reload: reloadFrom(lib, dir)})
	p := e.dispatch(e.f.SlashCommand("reload", nil, discordtest.Caller{GuildID: "999999999999999999", UserID: "2003", Permissions: "32"}))
	_, cb := e.callback(p)
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "only possible from the servers") {
		t.Errorf("reload from another guild: %+v", cb)
	}
	if text := e.reloadResult(e.dispatch(e.f.SlashCommand("reload", nil, moderator))); !strings.HasPrefix(text, "Reloaded in") {
		t.Errorf("reload from the configured guild: %q", text)
	}
}
