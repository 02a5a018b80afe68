//go:build load

// The load test is outside the default test run: it takes a minute and
// measures more than it checks. Run it with
//
//	go test -tags load -run TestLoad -v .
//
// STORYBOT_LOAD_N (requests, default 1000), STORYBOT_LOAD_DURATION (default
// 60s) and STORYBOT_LOAD_CLIENTS (default 50) make it shorter or harder.

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
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

// TestLoad drives the HTTP interactions endpoint on 127.0.0.1 the way
// Discord does: signed /ask requests from many clients at a steady pace,
// over the built-in story with the default offline retrieval. It reports
// latency percentiles, throughput and memory, and fails on any error: a
// failed request, a body that is not an answer (a refusal such as "busy"
// counts), a reply that could mention anyone, a deferred answer never
// edited in, or an error the bot logged.
func TestLoad(t *testing.T) {
	n := envInt(t, "STORYBOT_LOAD_N", 1000)
	clients := envInt(t, "STORYBOT_LOAD_CLIENTS", 50)
	duration := envDuration(t, "STORYBOT_LOAD_DURATION", 60*time.Second)
	if n < clients {
		clients = n
	}
	// Each client sends every interval: n requests spread over duration.
	interval := duration * time.Duration(clients) / time.Duration(n)

	questions := loadQuestions(t)
	ix, err := retrieval.Build(context.Background(), knowledge.Default(), defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var botErrors countingWriter
	b, err := bot.New(bot.Config{
		Library: retrieval.NewLibrary(ix),
		// Every user asks once, so the per-user limit (default 5 a minute)
		// never applies. At most one question per client is in flight, so
		// twice the clients can never be "busy".
		Concurrency: 2 * clients,
		Log:         slog.New(slog.NewJSONHandler(&botErrors, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sink := newRESTSink(t)
	srv := httptest.NewServer(b.HTTPHandler(pub, sink.session(t)))
	defer srv.Close()
	// Payloads shaped exactly like Discord's; this fake only builds them.
	payloads := discordtest.New(t, discordtest.Config{})

	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients},
	}
	before := memStats()
	t.Logf("%d /ask from %d clients over %v (each client every %v), endpoint %s", n, clients, duration, interval, srv.URL)

	type result struct {
		latency  time.Duration
		err      string
		deferred bool
		found    bool
		token    string
	}
	results := make([]result, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			// Staggered so the clients together send at an even pace.
			due := start.Add(interval * time.Duration(c) / time.Duration(clients))
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				time.Sleep(time.Until(due)) // pacing, not synchronisation
				due = due.Add(interval)
				p := payloads.SlashCommand("ask", []*discordgo.ApplicationCommandInteractionDataOption{
					{Name: "question", Type: discordgo.ApplicationCommandOptionString, Value: questions[k%len(questions)]},
				}, discordtest.Caller{GuildID: "81384788765712384", UserID: strconv.Itoa(500000000000000000 + k), Username: "reader"})
				body, err := json.Marshal(p)
				if err != nil {
					results[k].err = err.Error()
					continue
				}
				began := time.Now()
				resp, respBody, err := signedPost(client, srv.URL, priv, body)
				r := &results[k]
				r.latency = time.Since(began)
				r.token = p.Token()
				if err != nil {
					r.err = err.Error()
					continue
				}
				r.deferred, r.found, r.err = checkReply(resp, respBody)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// A deferred answer is complete once edited in over REST.
	var deferred []string
	for _, r := range results {
		if r.deferred {
			deferred = append(deferred, r.token)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("handlers still running after the load: %v", err)
	}
	srv.Close()
	client.CloseIdleConnections()
	after := memStats()

	errCount, answered, declined := 0, 0, 0
	var latencies []time.Duration
	for i, r := range results {
		latencies = append(latencies, r.latency)
		switch {
		case r.err != "" || r.deferred:
		case r.found:
			answered++
		default:
			declined++
		}
		if r.err != "" {
			errCount++
			if errCount <= 10 {
				t.Errorf("request %d: %s", i, r.err)
			}
		}
	}
	for _, token := range deferred {
		if err := sink.edited(token); err != nil {
			errCount++
			t.Errorf("deferred answer: %v", err)
		}
	}
	if n := botErrors.lines.Load(); n > 0 {
		errCount += int(n)
		t.Errorf("the bot logged %d errors, first: %s", n, botErrors.first())
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("requests %d in %v: %.1f/s; answered %d, declined %d, deferred %d", n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), answered, declined, len(deferred))
	t.Logf("latency p50 %v, p99 %v, max %v", pct(0.50), pct(0.99), latencies[len(latencies)-1])
	t.Logf("errors %d", errCount)
	t.Logf("memory before: heap %s, sys %s, goroutines %d", mb(before.HeapAlloc), mb(before.Sys), before.goroutines)
	t.Logf("memory after:  heap %s, sys %s, goroutines %d", mb(after.HeapAlloc), mb(after.Sys), after.goroutines)
	if errCount != 0 {
		t.Fatalf("%d errors, want 0", errCount)
	}
}

// signedPost sends body as Discord does: Ed25519 over timestamp+body.
func signedPost(c *http.Client, url string, key ed25519.PrivateKey, body []byte) (*http.Response, []byte, error) {
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Timestamp", stamp)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, append([]byte(stamp), body...))))
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp, out, err
}

// checkReply accepts an answer (type 4 with the answer embed) or a
// deferral (type 5), either parsing no mentions; anything else, such as a
// refusal without an embed, is an error.
func checkReply(resp *http.Response, body []byte) (deferred, found bool, problem string) {
	if resp.StatusCode != http.StatusOK {
		return false, false, fmt.Sprintf("status %d: %s", resp.StatusCode, body)
	}
	var r struct {
		Type int `json:"type"`
		Data struct {
			Content         string                    `json:"content"`
			Embeds          []*discordgo.MessageEmbed `json:"embeds"`
			AllowedMentions *struct {
				Parse []string `json:"parse"`
			} `json:"allowed_mentions"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return false, false, fmt.Sprintf("not JSON: %v: %s", err, body)
	}
	if am := r.Data.AllowedMentions; am == nil || am.Parse == nil || len(am.Parse) != 0 {
		return false, false, fmt.Sprintf("allowed_mentions is not parse []: %s", body)
	}
	switch {
	case r.Type == int(discordgo.InteractionResponseDeferredChannelMessageWithSource):
		return true, false, ""
	case r.Type != int(discordgo.InteractionResponseChannelMessageWithSource):
		return false, false, fmt.Sprintf("response type %d: %s", r.Type, body)
	case len(r.Data.Embeds) != 1:
		return false, false, fmt.Sprintf("not an answer: %q", r.Data.Content)
	}
	return false, strings.HasPrefix(fieldName(r.Data.Embeds[0]), "["), ""
}

func fieldName(e *discordgo.MessageEmbed) string {
	if len(e.Fields) == 0 {
		return ""
	}
	return e.Fields[0].Name
}

// restSink stands in for Discord's REST API, where the bot edits in an
// answer it deferred: it records each edit by interaction token.
type restSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	edits map[string][]byte
}

func newRESTSink(t *testing.T) *restSink {
	s := &restSink{edits: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// /api/v9/webhooks/{app}/{token}/messages/@original
		parts := strings.Split(r.URL.Path, "/")
		if r.Method != http.MethodPatch || len(parts) != 8 || parts[3] != "webhooks" || parts[7] != "@original" {
			http.Error(w, `{"message": "not a route the load test expects", "code": 0}`, http.StatusNotFound)
			return
		}
		s.mu.Lock()
		s.edits[parts[5]] = body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "1", "channel_id": "1", "content": "", "embeds": [], "type": 20}`))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// session is a REST-only discordgo session whose requests, whatever their
// URL, go to the sink.
func (s *restSink) session(t *testing.T) *discordgo.Session {
	dg, err := discordgo.New("Bot load-test")
	if err != nil {
		t.Fatal(err)
	}
	target := s.srv.URL
	dg.Client = &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		u, err := r.URL.Parse(target + r.URL.Path)
		if err != nil {
			return nil, err
		}
		r.URL, r.Host = u, u.Host
		return http.DefaultTransport.RoundTrip(r)
	})}
	return dg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// edited checks that the deferred interaction's answer was edited in.
func (s *restSink) edited(token string) error {
	s.mu.Lock()
	body, ok := s.edits[token]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("interaction %.12s… was deferred and never edited", token)
	}
	if !bytes.Contains(body, []byte(`"embeds":[{`)) || !bytes.Contains(body, []byte(`"allowed_mentions":{"parse":[]`)) {
		return fmt.Errorf("the edit is not an answer that parses no mentions: %s", body)
	}
	return nil
}

// loadQuestions is the project's held-out question set about the built-in
// story, answerable and not.
func loadQuestions(t *testing.T) []string {
	raw, err := os.ReadFile("testdata/story-questions.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Questions []struct {
			Q string `json:"q"`
		} `json:"questions"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, q := range set.Questions {
		qs = append(qs, q.Q)
	}
	return qs
}

type mem struct {
	runtime.MemStats
	goroutines int
}

// memStats reads memory after a collection, so the heap is what is live.
func memStats() mem {
	runtime.GC()
	var m mem
	runtime.ReadMemStats(&m.MemStats)
	m.goroutines = runtime.NumGoroutine()
	return m
}

func mb(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

// countingWriter counts the log lines the bot writes and keeps the first.
type countingWriter struct {
	lines atomic.Int64
	mu    sync.Mutex
	head  string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.lines.Add(1) == 1 {
		w.mu.Lock()
		w.head = string(p)
		w.mu.Unlock()
	}
	return len(p), nil
}

func (w *countingWriter) first() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		t.Fatalf("%s=%q: want a positive whole number", name, s)
	}
	return v
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 10s", name, s)
	}
	return d
}
