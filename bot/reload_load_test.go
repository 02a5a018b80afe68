package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/knowledge"
	"storybot/retrieval"
)

// snapshotWords tell the story versions apart: every sentence of version
// v carries snapshotWords[v], so each quoted sentence names the snapshot it
// came from. Version 2 is the one the broken reload never serves.
var snapshotWords = []string{"amber", "cobalt", "crimson", "violet"}

// versionedStories is the story folder at version v.
func versionedStories(v int) map[string]string {
	w := snapshotWords[v]
	return map[string]string{
		"alpha.md": fmt.Sprintf(`---
id: alpha
title: Harbor bridge reopens
publisher: Coast Gazette
year: 2024
---
The Harbor Bridge reopened on Monday after the %[1]s repairs.
The city engineer, Dana Whitfield, said the %[1]s steel cables had been replaced.
Traffic on the %[1]s route is expected to return to normal by Friday.
`, w),
		"bravo.md": fmt.Sprintf(`---
id: bravo
title: Council approves library budget
publisher: Valley Courier
year: 2025
---
The council approved a budget of four million dollars for the %[1]s library.
Mayor Elena Ortiz voted against the %[1]s plan, citing rising costs.
Construction of the %[1]s building will start in the spring.
`, w),
	}
}

// storyFolder writes version v of the stories, plus extra files, into a
// new folder.
func storyFolder(t *testing.T, v int, extra map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range versionedStories(v) {
		extra[name] = []byte(body)
	}
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var loadQuestions = []string{
	"Who is the city engineer?",
	"When did the Harbor Bridge reopen?",
	"How big is the library budget?",
	"Who voted against the plan?",
	"When will construction start?",
}

// snapshotOf returns the one story version all of an answer's quotes come
// from, or fails: a quote from no version, or quotes from two, mean the
// answer mixed snapshots.
func snapshotOf(t *testing.T, i int, e *discordgo.MessageEmbed) int {
	t.Helper()
	if len(e.Fields) == 0 {
		t.Fatalf("question %d: no citations: %q", i, e.Description)
	}
	version := -1
	for _, f := range e.Fields {
		_, quote, ok := strings.Cut(f.Value, "\n> ")
		if !ok {
			t.Fatalf("question %d: citation without a quote: %q", i, f.Value)
		}
		v := -1
		for cand := range snapshotWords {
			for _, body := range versionedStories(cand) {
				if strings.Contains(body, quote) {
					v = cand
				}
			}
		}
		switch {
		case v < 0:
			t.Fatalf("question %d: quote %q is in no version of the stories", i, quote)
		case version >= 0 && v != version:
			t.Fatalf("question %d mixes snapshots: quotes from versions %d and %d:\n%s", i, version, v, e.Description)
		}
		version = v
	}
	return version
}

// Two hundred questions from distinct users arrive while three reloads
// run, the second of them with a broken file. Each reload is held after it
// starts until part of its batch of questions has been answered, then
// swaps while the rest of the batch is in flight. Every question is
// answered, from one snapshot: its quotes all come from one version of the
// stories, and its "Show passages" button names that version's index. The
// broken reload names the file and leaves the first reload's stories
// serving; the third reload's are served at the end.
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	const batch = 50 // four batches: one per reload, one after

	dirs := []string{
		storyFolder(t, 0, map[string][]byte{}),
		storyFolder(t, 1, map[string][]byte{}),
		// Invalid UTF-8 in a new file: the whole reload must fail.
		storyFolder(t, 2, map[string][]byte{"zulu.md": []byte("The festival was \xff\xfe cancelled.\n")}),
		storyFolder(t, 3, map[string][]byte{}),
	}
	stories, err := knowledge.LoadDir(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.Build(context.Background(), stories, retrieval.Options{Embedder: &countingEmbedder{}})
	if err != nil {
		t.Fatal(err)
	}
	lib := retrieval.NewLibrary(ix)

	// Reload k reads dirs[k]. It signals once it has started and waits
	// for release, so questions are sure to arrive during it.
	var reloads atomic.Int32
	started := make([]chan struct{}, len(dirs))
	release := make([]chan struct{}, len(dirs))
	for k := range dirs {
		started[k], release[k] = make(chan struct{}), make(chan struct{})
	}
	versions := map[string]int{ix.Version(): 0} // index version → story version
	reportVersion := make(chan string, len(dirs))
	e := start(t, bot.Config{
		Library: lib,
		// Room for every question at once: "busy" is not an answer.
		Concurrency: 256,
		Reload: func(ctx context.Context) (retrieval.ReloadReport, error) {
			k := int(reloads.Add(1))
			rep, err := lib.Reload(ctx, func() ([]*knowledge.Story, error) {
				close(started[k])
				select {
				case <-release[k]:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return knowledge.LoadDir(dirs[k])
			}, retrieval.Options{})
			if err == nil {
				reportVersion <- rep.Version
			}
			return rep, err
		},
	})
	t.Cleanup(func() {
		for _, r := range release {
			select {
			case <-r:
			default:
				close(r)
			}
		}
	})

	user := 0
	askBatch := func(n int) []discordtest.Payload {
		var ps []discordtest.Payload
		for range n {
			user++
			c := discordtest.Caller{GuildID: guild, UserID: fmt.Sprintf("70000000000%05d", user), Username: "reader"}
			ps = append(ps, e.ask(loadQuestions[user%len(loadQuestions)], c))
		}
		return ps
	}
	asked := 0
	// answered waits for each question's answer and returns the story
	// version it came from, checking the index its button names agrees.
	answered := func(ps []discordtest.Payload) []int {
		var got []int
		for _, p := range ps {
			asked++
			m, _ := e.final(p)
			emb := answerEmbed(t, m)
			v := snapshotOf(t, asked, emb)
			id := buttonWithPrefix(t, m, "passages:")
			indexVersion := strings.Split(id, ":")[1]
			if iv, ok := versions[indexVersion]; !ok || iv != v {
				t.Errorf("question %d quotes story version %d but its button names index %s (%d, known %v)", asked, v, indexVersion, iv, ok)
			}
			got = append(got, v)
		}
		return got
	}
	expect := func(what string, got []int, allowed ...int) {
		t.Helper()
		for _, v := range got {
			if !slices.Contains(allowed, v) {
				t.Errorf("%s: an answer from story version %d, want %v (all: %v)", what, v, allowed, got)
				return
			}
		}
	}

	serving := 0 // the story version the library serves
	for k := 1; k <= 3; k++ {
		reload := e.dispatch(e.f.SlashCommand("reload", nil, moderator))
		<-started[k]
		// Half the batch is answered while the reload is held: from the
		// old snapshot.
		expect(fmt.Sprintf("during reload %d", k), answered(askBatch(batch/2)), serving)
		// The other half races the swap.
		racing := askBatch(batch / 2)
		close(release[k])
		text := e.reloadResult(reload)
		if k == 2 {
			for _, want := range []string{"Reload failed", "zulu.md", "not UTF-8"} {
				if !strings.Contains(text, want) {
					t.Errorf("broken reload message lacks %q:\n%s", want, text)
				}
			}
			expect("around the broken reload", answered(racing), serving)
			continue
		}
		v := <-reportVersion
		versions[v] = k
		if !strings.Contains(text, v) {
			t.Errorf("reload %d message does not name version %s:\n%s", k, v, text)
		}
		expect(fmt.Sprintf("around reload %d", k), answered(racing), serving, k)
		serving = k
	}
	expect("after the reloads", answered(askBatch(batch)), 3)
	if got := versions[lib.Current().Version()]; got != 3 {
		t.Errorf("serving story version %d at the end, want 3", got)
	}

	if asked != 4*batch {
		t.Fatalf("checked %d answers, want %d", asked, 4*batch)
	}
	if got := e.metrics.question("answered"); got != 4*batch {
		t.Errorf("%d questions answered, want %d (metrics %v)", got, 4*batch, e.metrics.questions)
	}
}
