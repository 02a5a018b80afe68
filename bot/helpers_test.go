package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/knowledge"
	"storybot/retrieval"
)

// TestMain builds the spec validator before any test runs: building it
// takes seconds of CPU, which would otherwise compete with the bots under
// test for Discord's 3-second acknowledgement deadline.
func TestMain(m *testing.M) {
	if _, err := discordtest.SpecLoadTime(); errors.Is(err, discordtest.ErrNoSpec) {
		fmt.Fprintln(os.Stderr, "spec checks skipped:", err)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// waitCtx bounds every wait in these tests: long enough for a loaded -race
// run, short enough to fail rather than hang.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// syncBuffer is a log sink the handlers may write to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeMetrics records what the bot reports.
type fakeMetrics struct {
	mu        sync.Mutex
	questions map[string]int
	reloads   map[string]int
	up, down  int
	fallbacks int
}

func (m *fakeMetrics) Fallback() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fallbacks++
}

func (m *fakeMetrics) fallback() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fallbacks
}

func (m *fakeMetrics) Question(outcome string, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.questions[outcome]++
}

func (m *fakeMetrics) Reload(result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reloads[result]++
}

func (m *fakeMetrics) Feedback(up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if up {
		m.up++
	} else {
		m.down++
	}
}

func (m *fakeMetrics) question(outcome string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.questions[outcome]
}

func (m *fakeMetrics) reload(result string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reloads[result]
}

func (m *fakeMetrics) feedback() (up, down int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.up, m.down
}

// countingEmbedder is a cheap, deterministic embedder (hashed bag of
// words) that records every text it is asked to embed. When gated, a
// single-text call (a question) waits until the gate opens, which makes an
// answer as slow as a test needs without sleeping.
type countingEmbedder struct {
	mu    sync.Mutex
	texts []string
	gate  atomic.Pointer[chan struct{}]
}

const fakeDims = 64

func (e *countingEmbedder) ID() string { return "counting-fake:v1" }

func (e *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if g := e.gate.Load(); g != nil && len(texts) == 1 {
		select {
		case <-*g:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e.mu.Lock()
	e.texts = append(e.texts, texts...)
	e.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, fakeDims)
		var norm float64
		for _, w := range strings.Fields(strings.ToLower(t)) {
			h := fnv.New32a()
			h.Write([]byte(strings.Trim(w, ".,;:!?\"'()")))
			v[h.Sum32()%fakeDims]++
		}
		for _, x := range v {
			norm += float64(x * x)
		}
		if norm > 0 {
			for j := range v {
				v[j] /= float32(math.Sqrt(norm))
			}
		}
		out[i] = v
	}
	return out, nil
}

// hold makes questions wait until the returned release is called.
func (e *countingEmbedder) hold() (release func()) {
	g := make(chan struct{})
	e.gate.Store(&g)
	var once sync.Once
	return func() {
		once.Do(func() {
			e.gate.Store(nil)
			close(g)
		})
	}
}

// embedded returns the texts embedded since mark (a previous count).
func (e *countingEmbedder) since(mark int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.texts[mark:]...)
}

func (e *countingEmbedder) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.texts)
}

// Stories for the tests that use a knowledge folder.
var testStories = map[string]string{
	"alpha.md": `---
id: alpha
title: Harbor bridge reopens after repairs
publisher: Coast Gazette
year: 2024
url: https://example.com/news/alpha
---
The Harbor Bridge reopened on Monday after eight months of repairs.
The city engineer, Dana Whitfield, said the steel cables had been replaced.
Traffic is expected to return to normal by the end of the week.
`,
	"bravo.md": `---
id: bravo
title: Council approves library budget
publisher: Valley Courier
year: 2025
---
The council approved a budget of four million dollars for the new library.
Mayor Elena Ortiz voted against the plan, citing rising costs.
Construction will start in the spring.
`,
	"charlie.md": `---
id: charlie
title: Town chat goes quiet
publisher: Hill Herald
year: 2023
---
The festival was cancelled because of the storm.
In the town chat the organiser Pat Quinn wrote @everyone <@&123> <@456> the festival is cancelled, *sorry*.
Refunds will be paid within two weeks.
`,
}

// writeStories writes the test stories into a new folder.
func writeStories(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range testStories {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// folderLibrary builds a library from dir with the counting embedder.
func folderLibrary(t *testing.T, dir string, emb retrieval.Embedder) *retrieval.Library {
	t.Helper()
	stories, err := knowledge.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.Build(context.Background(), stories, retrieval.Options{Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	return retrieval.NewLibrary(ix)
}

// reloadFrom is the Reload func the lead wires, minus persistence.
func reloadFrom(lib *retrieval.Library, dir string) func(context.Context) (retrieval.ReloadReport, error) {
	return func(ctx context.Context) (retrieval.ReloadReport, error) {
		return lib.Reload(ctx, func() ([]*knowledge.Story, error) { return knowledge.LoadDir(dir) }, retrieval.Options{})
	}
}

// env is a bot running against a fake Discord through the gateway.
type env struct {
	t       *testing.T
	f       *discordtest.Fake
	bot     *bot.Bot
	logs    *syncBuffer
	metrics *fakeMetrics
	// allowStatus lists HTTP statuses the fake may answer without failing
	// the test (the bot's requests are expected to succeed).
	allowStatus map[int]bool
}

const testToken = "Bot test-token-0123456789"

// newHarness gives cfg a logger writing to a buffer and recording metrics.
func newHarness(t *testing.T, cfg *bot.Config) (*syncBuffer, *fakeMetrics) {
	logs := &syncBuffer{}
	m := &fakeMetrics{questions: map[string]int{}, reloads: map[string]int{}}
	cfg.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Metrics = m
	return logs, m
}

// start runs a bot with cfg on a fresh fake and waits until its commands
// are registered. When the test ends it stops the bot and checks every
// request the bot sent (see checkWire).
func start(t *testing.T, cfg bot.Config) *env {
	t.Helper()
	f := discordtest.New(t, discordtest.Config{})
	logs, m := newHarness(t, &cfg)
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.NewSession(testToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx, s) }()
	e := &env{t: t, f: f, bot: b, logs: logs, metrics: m, allowStatus: map[int]bool{}}
	route := discordtest.RouteGlobalCommands
	if len(cfg.GuildIDs) > 0 {
		route = discordtest.RouteGuildCommands
	}
	if _, err := f.WaitFor(waitCtx(t), discordtest.OnRoute(route)); err != nil {
		cancel()
		t.Fatalf("commands never registered: %v (Run: %v)", err, <-errc)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after cancel")
		}
		e.checkWire()
	})
	return e
}

// checkWire checks every request the bot sent: Discord's spec accepts it,
// every message create and edit carries "parse":[], nothing failed, and the
// token was never logged.
func (e *env) checkWire() {
	t := e.t
	t.Helper()
	checkRequests(t, e.f.Requests(), e.allowStatus)
	if strings.Contains(e.logs.String(), strings.TrimPrefix(testToken, "Bot ")) {
		t.Error("the bot token appears in the logs")
	}
}

func checkRequests(t *testing.T, reqs []discordtest.Request, allow map[int]bool) {
	t.Helper()
	for _, err := range discordtest.CheckRequests(reqs) {
		t.Error(err)
	}
	for _, r := range reqs {
		switch r.Route {
		case discordtest.RouteCallback, discordtest.RouteEditOriginal, discordtest.RouteFollowup, discordtest.RouteEditFollowup:
			if !strings.Contains(string(r.Body), `"allowed_mentions":{"parse":[]`) {
				t.Errorf("%v lacks allowed_mentions parse []: %s", r, r.Body)
			}
		}
		if r.Status >= 400 && !allow[r.Status] {
			t.Errorf("request failed: %v: %s", r, r.Body)
		}
	}
}

// Callers used across tests.
var (
	guild     = "81384788765712384"
	member    = discordtest.Caller{GuildID: guild, UserID: "1001", Username: "reader"}
	moderator = discordtest.Caller{GuildID: guild, UserID: "2002", Username: "mod", Permissions: "32"}
)

func askOptions(q string, private ...bool) []*discordgo.ApplicationCommandInteractionDataOption {
	opts := []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "question", Type: discordgo.ApplicationCommandOptionString, Value: q},
	}
	if len(private) > 0 {
		opts = append(opts, &discordgo.ApplicationCommandInteractionDataOption{
			Name: "private", Type: discordgo.ApplicationCommandOptionBoolean, Value: private[0],
		})
	}
	return opts
}

// dispatch sends an interaction through the gateway.
func (e *env) dispatch(p discordtest.Payload) discordtest.Payload {
	e.t.Helper()
	if err := e.f.DispatchInteraction(p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) ask(q string, c discordtest.Caller, private ...bool) discordtest.Payload {
	e.t.Helper()
	return e.dispatch(e.f.SlashCommand("ask", askOptions(q, private...), c))
}

// callbackBody is the JSON of an interaction callback.
type callbackBody struct {
	Type int `json:"type"`
	Data struct {
		Content string `json:"content"`
		Flags   int    `json:"flags"`
	} `json:"data"`
}

func decodeCallback(t *testing.T, r discordtest.Request) callbackBody {
	t.Helper()
	var cb callbackBody
	if err := r.Decode(&cb); err != nil {
		t.Fatal(err)
	}
	return cb
}

func forToken(token string, routes ...string) func(discordtest.Request) bool {
	return func(r discordtest.Request) bool {
		if r.Params["token"] != token {
			return false
		}
		for _, route := range routes {
			if r.Route == route {
				return true
			}
		}
		return false
	}
}

// callback waits for the interaction's initial callback.
func (e *env) callback(p discordtest.Payload) (discordtest.Request, callbackBody) {
	e.t.Helper()
	r, err := e.f.WaitFor(waitCtx(e.t), forToken(p.Token(), discordtest.RouteCallback))
	if err != nil {
		e.t.Fatalf("no callback: %v", err)
	}
	return r, decodeCallback(e.t, r)
}

// final waits until the interaction's response is complete (a type 4
// callback, or the edit after a deferral) and returns the message as the
// user sees it with the request that completed it.
func (e *env) final(p discordtest.Payload) (*discordgo.Message, discordtest.Request) {
	e.t.Helper()
	r, err := e.f.WaitFor(waitCtx(e.t), func(r discordtest.Request) bool {
		if r.Params["token"] != p.Token() {
			return false
		}
		if r.Route == discordtest.RouteEditOriginal {
			return true
		}
		if r.Route == discordtest.RouteCallback {
			var cb callbackBody
			return json.Unmarshal(r.Body, &cb) == nil && cb.Type == 4
		}
		return false
	})
	if err != nil {
		e.t.Fatalf("no final response: %v", err)
	}
	m, ok := e.f.Original(p.Token())
	if !ok {
		e.t.Fatalf("no original message after %v", r)
	}
	return m, r
}

// answerEmbed returns the answer embed of a final message.
func answerEmbed(t *testing.T, m *discordgo.Message) *discordgo.MessageEmbed {
	t.Helper()
	if len(m.Embeds) != 1 {
		t.Fatalf("message has %d embeds, want 1: content %q", len(m.Embeds), m.Content)
	}
	return m.Embeds[0]
}

// buttons returns the custom IDs of a message's buttons.
func buttons(m *discordgo.Message) []string {
	var ids []string
	for _, row := range m.Components {
		r, ok := row.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, c := range r.Components {
			if b, ok := c.(*discordgo.Button); ok {
				ids = append(ids, b.CustomID)
			}
		}
	}
	return ids
}

func buttonWithPrefix(t *testing.T, m *discordgo.Message, prefix string) string {
	t.Helper()
	for _, id := range buttons(m) {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	t.Fatalf("no button %q* in %v", prefix, buttons(m))
	return ""
}
