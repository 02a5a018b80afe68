package bot_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/knowledge"
	"storybot/retrieval"
)

// reloadResult waits for the moderator's deferred reload to be edited in
// and returns the text.
func (e *env) reloadResult(p discordtest.Payload) string {
	e.t.Helper()
	_, cb := e.callback(p)
	if cb.Type != 5 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) {
		e.t.Fatalf("reload callback %+v, want an ephemeral deferral", cb)
	}
	m, _ := e.final(p)
	if m.Flags&discordgo.MessageFlagsEphemeral == 0 {
		e.t.Errorf("reload result flags %d, want ephemeral", m.Flags)
	}
	return m.Content
}

func TestReloadRefusedToNonModerators(t *testing.T) {
	t.Parallel()
	dir := writeStories(t)
	lib := folderLibrary(t, dir, &countingEmbedder{})
	var calls atomic.Int32
	reload := reloadFrom(lib, dir)
	e := start(t, bot.Config{
		Library:          lib,
		ModeratorRoleIDs: []string{"555"},
		Reload: func(ctx context.Context) (retrieval.ReloadReport, error) {
			calls.Add(1)
			return reload(ctx)
		},
	})

	// The registration hides /reload from members without Manage Server.
	for _, c := range e.f.Commands("") {
		if c.Name == "reload" && (c.DefaultMemberPermissions == nil || *c.DefaultMemberPermissions != discordgo.PermissionManageGuild) {
			t.Errorf("reload registered with default_member_permissions %v", c.DefaultMemberPermissions)
		}
	}

	refused := []struct {
		name   string
		caller discordtest.Caller
	}{
		{"member", member},
		// A server admin can grant the command to anyone; the handler
		// still checks.
		{"member granted the command", discordtest.Caller{GuildID: guild, UserID: "1004", Permissions: "2147483648"}},
		{"DM", discordtest.Caller{UserID: "1005"}},
	}
	for _, tc := range refused {
		p := e.dispatch(e.f.SlashCommand("reload", nil, tc.caller))
		_, cb := e.callback(p)
		if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "Only moderators") {
			t.Errorf("%s: callback %+v, want an ephemeral refusal", tc.name, cb)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Reload ran %d times for non-moderators", n)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"level":"WARN","msg":"reload refused: not a moderator"`) || !strings.Contains(logs, `"user":"1001"`) || !strings.Contains(logs, `"user":"1005"`) {
		t.Errorf("refusals not logged at warn with the user:\n%s", logs)
	}

	// Moderators: by permission (Administrator, Manage Server) or by role.
	byRole := e.f.SlashCommand("reload", nil, discordtest.Caller{GuildID: guild, UserID: "1006"})
	byRole["member"].(map[string]any)["roles"] = []any{"555"}
	for _, p := range []discordtest.Payload{
		e.f.SlashCommand("reload", nil, discordtest.Caller{GuildID: guild, UserID: "1007", Permissions: "8"}),
		e.f.SlashCommand("reload", nil, moderator),
		byRole,
	} {
		if text := e.reloadResult(e.dispatch(p)); !strings.HasPrefix(text, "Reloaded in") {
			t.Errorf("moderator reload: %q", text)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("Reload ran %d times for 3 moderators", n)
	}
}

func TestReloadReembedsOnlyTheChangedStory(t *testing.T) {
	t.Parallel()
	dir := writeStories(t)
	emb := &countingEmbedder{}
	lib := folderLibrary(t, dir, emb)
	before := lib.Current()
	reports := make(chan retrieval.ReloadReport, 1)
	reload := reloadFrom(lib, dir)
	e := start(t, bot.Config{Library: lib, Reload: func(ctx context.Context) (retrieval.ReloadReport, error) {
		rep, err := reload(ctx)
		reports <- rep
		return rep, err
	}})

	old, _ := e.final(e.ask("How big is the library budget?", member))
	oldPassages := buttonWithPrefix(t, old, "passages:")

	bravo := strings.Replace(testStories["bravo.md"], "four million dollars", "five million dollars", 1)
	if err := os.WriteFile(filepath.Join(dir, "bravo.md"), []byte(bravo), 0o644); err != nil {
		t.Fatal(err)
	}
	mark := emb.count()
	text := e.reloadResult(e.dispatch(e.f.SlashCommand("reload", nil, moderator)))
	rep := <-reports

	after := lib.Current()
	if after == before {
		t.Fatal("no new snapshot was swapped in")
	}
	bravoChunks := after.StoryChunks()["bravo"]
	if len(rep.Changed) != 1 || rep.Changed[0] != "bravo" || len(rep.Added)+len(rep.Removed) != 0 {
		t.Errorf("report %+v, want only bravo changed", rep)
	}
	if rep.Embedded != bravoChunks || rep.Cached != len(after.Chunks())-bravoChunks {
		t.Errorf("embedded %d, cached %d; want %d and %d", rep.Embedded, rep.Cached, bravoChunks, len(after.Chunks())-bravoChunks)
	}
	texts := emb.since(mark)
	if len(texts) == 0 {
		t.Fatal("nothing was embedded")
	}
	for _, s := range texts {
		if !strings.Contains(bravo, s) {
			t.Errorf("re-embedded text from outside the changed story: %q", s)
		}
	}
	for _, want := range []string{"Stories changed: 1 (bravo)", "Stories added: none", "Stories removed: none",
		"Passages re-embedded: 1; reused unchanged: 2", after.Version()} {
		if !strings.Contains(text, want) {
			t.Errorf("reload message lacks %q:\n%s", want, text)
		}
	}

	// The old answer's passage changed, and "Show passages" says so.
	_, cb := e.callback(e.dispatch(e.f.Button(oldPassages, old, member)))
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) ||
		!strings.Contains(cb.Data.Content, "reloaded") || !strings.Contains(cb.Data.Content, "1 of the cited passages is no longer") {
		t.Errorf("old passages button after reload: %+v", cb)
	}

	// The new text answers.
	m, _ := e.final(e.ask("How big is the library budget?", member))
	if d := answerEmbed(t, m).Description; !strings.Contains(d, "five million") {
		t.Errorf("after reload: %q", d)
	}
}

func TestReloadWithBrokenFileKeepsOldAnswers(t *testing.T) {
	t.Parallel()
	dir := writeStories(t)
	lib := folderLibrary(t, dir, &countingEmbedder{})
	e := start(t, bot.Config{Library: lib, Reload: reloadFrom(lib, dir)})
	version := lib.Current().Version()

	m, _ := e.final(e.ask("Who is the city engineer?", member))
	before := answerEmbed(t, m)

	broken := "---\ntitle: Broken\nyear: 12\n---\nText.\n"
	if err := os.WriteFile(filepath.Join(dir, "zulu.md"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	// Also change a good story: a failed reload must not half-apply.
	alpha := strings.Replace(testStories["alpha.md"], "Dana Whitfield", "Sam Okafor", 1)
	if err := os.WriteFile(filepath.Join(dir, "alpha.md"), []byte(alpha), 0o644); err != nil {
		t.Fatal(err)
	}
	text := e.reloadResult(e.dispatch(e.f.SlashCommand("reload", nil, moderator)))
	for _, want := range []string{"Reload failed", "keep answering", "zulu.md", "year 12 is not a four-digit year"} {
		if !strings.Contains(text, want) {
			t.Errorf("reload message lacks %q:\n%s", want, text)
		}
	}
	if lib.Current().Version() != version {
		t.Error("a failed reload changed the snapshot")
	}

	m, _ = e.final(e.ask("Who is the city engineer?", member))
	after := answerEmbed(t, m)
	if after.Description != before.Description || !strings.Contains(after.Description, "Dana Whitfield") {
		t.Errorf("answer changed after a failed reload:\nbefore %q\nafter  %q", before.Description, after.Description)
	}
}

// Twenty questions asked while a reload is in progress are all answered:
// ten before the new snapshot can be swapped in, the rest around the swap.
func TestQuestionsDuringReloadAreAllAnswered(t *testing.T) {
	t.Parallel()
	dir := writeStories(t)
	lib := folderLibrary(t, dir, &countingEmbedder{})
	oldVersion := lib.Current().Version()
	loading := make(chan struct{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	e := start(t, bot.Config{
		Library:     lib,
		Concurrency: 32,
		Reload: func(ctx context.Context) (retrieval.ReloadReport, error) {
			return lib.Reload(ctx, func() ([]*knowledge.Story, error) {
				close(loading)
				<-release // the reload is under way: folder being read
				return knowledge.LoadDir(dir)
			}, retrieval.Options{})
		},
	})
	alpha := strings.Replace(testStories["alpha.md"], "eight months", "nine months", 1)
	if err := os.WriteFile(filepath.Join(dir, "alpha.md"), []byte(alpha), 0o644); err != nil {
		t.Fatal(err)
	}

	reload := e.dispatch(e.f.SlashCommand("reload", nil, moderator))
	<-loading

	const n = 20
	questions := make([]discordtest.Payload, n)
	for i := range questions {
		c := discordtest.Caller{GuildID: guild, UserID: "9" + string(rune('0'+i/10)) + string(rune('0'+i%10))}
		questions[i] = e.ask("Who is the city engineer?", c)
	}
	versions := map[string]int{}
	for i, p := range questions {
		if i == n/2 {
			releaseOnce.Do(func() { close(release) })
		}
		m, _ := e.final(p)
		emb := answerEmbed(t, m)
		if !strings.Contains(emb.Description, "Dana Whitfield") {
			t.Errorf("question %d: %q", i, emb.Description)
		}
		id := buttonWithPrefix(t, m, "passages:")
		versions[strings.Split(id, ":")[1]]++
	}
	if text := e.reloadResult(reload); !strings.Contains(text, "Stories changed: 1 (alpha)") {
		t.Errorf("reload: %q", text)
	}
	if versions[oldVersion] < n/2 {
		t.Errorf("answers by snapshot %v: want at least %d from the old one %s", versions, n/2, oldVersion)
	}
	if got := e.metrics.question("answered"); got != n {
		t.Errorf("answered %d of %d (metrics %+v)", got, n, e.metrics.questions)
	}
}

func TestReloadNotConfigured(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	e := start(t, bot.Config{Library: lib})
	_, cb := e.callback(e.dispatch(e.f.SlashCommand("reload", nil, moderator)))
	if cb.Type != 4 || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || !strings.Contains(cb.Data.Content, "not configured") {
		t.Errorf("callback %+v", cb)
	}
}
