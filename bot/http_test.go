package bot_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
)

// httpEnv is a bot serving the HTTP interactions endpoint, with a fake
// Discord for its REST calls.
type httpEnv struct {
	t       *testing.T
	f       *discordtest.Fake
	bot     *bot.Bot
	srv     *httptest.Server
	key     ed25519.PrivateKey
	metrics *fakeMetrics
	// bystander holds a gateway connection to the fake. The fake only
	// accepts replies to interactions it dispatched, and dispatching needs
	// a connection; nothing handles them there. (discordtest has no way
	// yet to register an interaction delivered over HTTP.)
	bystander *discordgo.Session
	// responses are the HTTP responses the bot gave, checked against the
	// spec of the callback they stand for.
	responses []discordtest.Request
}

func startHTTP(t *testing.T, cfg bot.Config) *httpEnv {
	t.Helper()
	f := discordtest.New(t, discordtest.Config{})
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	logs, m := newHarness(t, &cfg)
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	restOnly, err := f.NewSession(testToken)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.HTTPHandler(pub, restOnly))
	by, err := f.NewSession(testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := by.Open(); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitReady(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	h := &httpEnv{t: t, f: f, bot: b, srv: srv, key: priv, metrics: m, bystander: by}
	t.Cleanup(func() {
		srv.Close()
		if err := b.Shutdown(waitCtx(t)); err != nil {
			t.Error(err)
		}
		checkRequests(t, f.Requests(), nil)
		checkRequests(t, h.responses, nil)
		if strings.Contains(logs.String(), strings.TrimPrefix(testToken, "Bot ")) {
			t.Error("the bot token appears in the logs")
		}
	})
	return h
}

// post sends body signed with key at ts; edit may change the request
// after signing.
func (h *httpEnv) post(body []byte, key ed25519.PrivateKey, ts time.Time, edit func(*http.Request)) (*http.Response, []byte) {
	h.t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig := ed25519.Sign(key, append([]byte(stamp), body...))
	req, err := http.NewRequest(http.MethodPost, h.srv.URL, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	req.Header.Set("X-Signature-Timestamp", stamp)
	if edit != nil {
		edit(req)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, out
}

// interaction registers p with the fake and posts it signed, as Discord
// would. A 200 response is recorded for the spec check as the callback it
// replaces.
func (h *httpEnv) interaction(p discordtest.Payload) (*http.Response, []byte) {
	h.t.Helper()
	if err := h.f.DispatchInteraction(p); err != nil {
		h.t.Fatal(err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, out := h.post(body, h.key, time.Now(), nil)
	if resp.StatusCode == http.StatusOK {
		h.responses = append(h.responses, discordtest.Request{
			Method: http.MethodPost, Route: discordtest.RouteCallback, Status: http.StatusNoContent,
			Path:   "/api/v9/interactions/" + p.ID() + "/" + p.Token() + "/callback",
			Header: http.Header{"Content-Type": {"application/json"}}, Body: out,
			Params: map[string]string{"id": p.ID(), "token": p.Token()},
		})
	}
	return resp, out
}

func TestHTTPAnswersPingAndSignedInteractions(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	h := startHTTP(t, bot.Config{Library: lib})

	ping, _ := json.Marshal(map[string]any{"id": discordtest.NewSnowflake(), "application_id": h.f.AppID(), "type": 1, "token": "x", "version": 1})
	resp, body := h.post(ping, h.key, time.Now(), nil)
	if resp.StatusCode != http.StatusOK || string(body) != `{"type":1}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("PING: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	resp, body = h.interaction(h.f.SlashCommand("ask", askOptions("Who is the city engineer?"), member))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ask: %d %s", resp.StatusCode, body)
	}
	var cb struct {
		Type int `json:"type"`
		Data struct {
			Embeds []*discordgo.MessageEmbed `json:"embeds"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Type != 4 || len(cb.Data.Embeds) != 1 || !strings.Contains(cb.Data.Embeds[0].Description, "Dana Whitfield") {
		t.Errorf("ask response: %s", body)
	}
	if !strings.Contains(string(body), `"allowed_mentions":{"parse":[]`) {
		t.Errorf("ask response lacks \"parse\":[]: %s", body)
	}
	if h.metrics.question("answered") != 1 {
		t.Errorf("metrics %+v", h.metrics.questions)
	}
}

func TestHTTPRejectsTamperedAndStaleRequests(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	h := startHTTP(t, bot.Config{Library: lib})
	_, otherKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := h.f.SlashCommand("ask", askOptions("Who is the city engineer?"), member)
	body, _ := json.Marshal(p)
	tampered := bytes.Replace(body, []byte("city engineer"), []byte("city mayor"), 1)

	cases := []struct {
		name string
		key  ed25519.PrivateKey
		ts   time.Time
		edit func(*http.Request)
		want int
	}{
		{"tampered body", h.key, time.Now(), func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(tampered))
			r.ContentLength = int64(len(tampered))
		}, http.StatusUnauthorized},
		{"tampered timestamp", h.key, time.Now(), func(r *http.Request) {
			r.Header.Set("X-Signature-Timestamp", strconv.FormatInt(time.Now().Unix()+1, 10))
		}, http.StatusUnauthorized},
		{"wrong key", otherKey, time.Now(), nil, http.StatusUnauthorized},
		{"no signature", h.key, time.Now(), func(r *http.Request) { r.Header.Del("X-Signature-Ed25519") }, http.StatusUnauthorized},
		{"stale", h.key, time.Now().Add(-6 * time.Minute), nil, http.StatusUnauthorized},
		{"far future", h.key, time.Now().Add(10 * time.Minute), nil, http.StatusUnauthorized},
		{"GET", h.key, time.Now(), func(r *http.Request) { r.Method = http.MethodGet }, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		resp, out := h.post(body, tc.key, tc.ts, tc.edit)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, resp.StatusCode, out, tc.want)
		}
	}
	// Just inside the window is accepted.
	resp, out := h.post(body, h.key, time.Now().Add(-4*time.Minute), nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("4 minutes old: %d %s", resp.StatusCode, out)
	}
	if got := h.metrics.question("answered"); got != 1 {
		t.Errorf("answered %d questions, want only the valid one", got)
	}
}

// Over HTTP the deferral is the HTTP response; the answer follows as a
// REST edit of @original through the session.
func TestHTTPDeferralEditsOriginalOverREST(t *testing.T) {
	t.Parallel()
	emb := &countingEmbedder{}
	lib := folderLibrary(t, writeStories(t), emb)
	h := startHTTP(t, bot.Config{Library: lib, DeferAfter: 50 * time.Millisecond})
	release := emb.hold()
	defer release()

	p := h.f.SlashCommand("ask", askOptions("Who is the city engineer?", true), member)
	resp, body := h.interaction(p)
	var cb discordgo.InteractionResponse
	if err := json.Unmarshal(body, &cb); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("response %d %s (%v)", resp.StatusCode, body, err)
	}
	if cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || cb.Data == nil || cb.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("response %s, want an ephemeral deferral", body)
	}
	// Discord applies the HTTP response; the fake learns of it the only way
	// it can, as a callback.
	i, err := p.Interaction()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.bystander.InteractionRespond(i, &cb); err != nil {
		t.Fatal(err)
	}
	release()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	edit, err := h.f.WaitFor(ctx, forToken(p.Token(), discordtest.RouteEditOriginal))
	if err != nil {
		t.Fatal(err)
	}
	if edit.Status != http.StatusOK || !strings.Contains(string(edit.Body), `"allowed_mentions":{"parse":[]`) {
		t.Errorf("edit %v: %s", edit, edit.Body)
	}
	m, ok := h.f.Original(p.Token())
	if !ok || len(m.Embeds) != 1 || !strings.Contains(m.Embeds[0].Description, "Dana Whitfield") || m.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Errorf("original = %+v", m)
	}
}
