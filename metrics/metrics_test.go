package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"storybot/knowledge"
	"storybot/retrieval"
	"storybot/retrieval/wordvec"
)

// The contract the bot package codes against.
var _ interface {
	Question(outcome string, d time.Duration)
	Reload(result string)
	Feedback(up bool)
} = (*Metrics)(nil)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// sample finds the value of one sample line in the text format, e.g.
// `storybot_questions_total{outcome="answered"}`.
func sample(t *testing.T, text, series string) string {
	t.Helper()
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	t.Errorf("no %s in /metrics", series)
	return ""
}

// The metrics test: one answered and one declined question, asked
// of a real library built on the built-in story, both counted on /metrics.
func TestMetricsCountAnsweredAndDeclined(t *testing.T) {
	m := New()
	e, err := wordvec.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ix, err := retrieval.Build(ctx, knowledge.Default(), retrieval.Options{Embedder: m.CountEmbedder(e)})
	if err != nil {
		t.Fatal(err)
	}
	lib := retrieval.NewLibrary(ix)
	m.IndexSize(ix.Stats().Stories, ix.Stats().Chunks)

	for _, q := range []string{"Who is the president of Mexico?", "What is the capital of France?"} {
		start := time.Now()
		a, err := lib.Ask(ctx, q)
		outcome := Error
		switch {
		case err != nil:
		case a.Found:
			outcome = Answered
		default:
			outcome = Declined
		}
		m.Question(outcome, time.Since(start))
	}

	code, text := get(t, m.Handler(), "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for series, want := range map[string]string{
		`storybot_questions_total{outcome="answered"}`:                 "1",
		`storybot_questions_total{outcome="declined"}`:                 "1",
		`storybot_questions_total{outcome="error"}`:                    "0",
		`storybot_questions_total{outcome="rate_limited"}`:             "0",
		`storybot_question_duration_seconds_count{outcome="answered"}`: "1",
		`storybot_question_duration_seconds_count{outcome="declined"}`: "1",
		`storybot_index_stories`:                                       "1",
		`storybot_index_chunks`:                                        strconv.Itoa(ix.Stats().Chunks),
		`storybot_embedder_errors_total{embedder="` + e.ID() + `"}`:    "0",
	} {
		if got := sample(t, text, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
	// Building embedded the story's new texts in one batch (one call), and
	// each question embedded itself, then the sentences it read (the word
	// vectors run in process, so their sentence vectors are not held): two
	// calls each. The wrapper keeps the embedder in process.
	if got := sample(t, text, `storybot_embedder_calls_total{embedder="`+e.ID()+`"}`); got != "5" {
		t.Errorf("embedder calls = %s, want 5", got)
	}
	if !strings.Contains(text, "go_goroutines") {
		t.Error("no Go runtime metrics")
	}
}

func TestReloadFeedbackAndUnknownValues(t *testing.T) {
	m := New()
	m.Reload(ReloadOK)
	m.Reload(ReloadOK)
	m.Reload(ReloadFailed)
	m.Reload("maybe")
	m.Feedback(true)
	m.Feedback(false)
	m.Feedback(false)
	m.Question("exploded", time.Millisecond)
	_, text := get(t, m.Handler(), "/metrics")
	for series, want := range map[string]string{
		`storybot_reloads_total{result="ok"}`:         "2",
		`storybot_reloads_total{result="failed"}`:     "1",
		`storybot_reloads_total{result="unknown"}`:    "1",
		`storybot_feedback_total{vote="up"}`:          "1",
		`storybot_feedback_total{vote="down"}`:        "2",
		`storybot_questions_total{outcome="unknown"}`: "1",
	} {
		if got := sample(t, text, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
}

type failingEmbedder struct{}

func (failingEmbedder) ID() string { return "failing:v1" }
func (failingEmbedder) Embed(context.Context, []string) ([][]float32, error) {
	return nil, errors.New("server down")
}

func TestCountEmbedderKeepsIDAndCountsErrors(t *testing.T) {
	m := New()
	e := m.CountEmbedder(failingEmbedder{})
	if e.ID() != "failing:v1" {
		t.Errorf("ID changed to %q; the cache would miss", e.ID())
	}
	if _, err := e.Embed(context.Background(), []string{"a", "b"}); err == nil || err.Error() != "server down" {
		t.Errorf("error not passed through: %v", err)
	}
	_, text := get(t, m.Handler(), "/metrics")
	for series, want := range map[string]string{
		`storybot_embedder_calls_total{embedder="failing:v1"}`:  "1",
		`storybot_embedder_errors_total{embedder="failing:v1"}`: "1",
		`storybot_embedder_texts_total{embedder="failing:v1"}`:  "2",
	} {
		if got := sample(t, text, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	m := New()
	h := m.Handler()
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, h, "/readyz"); code != 503 || !strings.Contains(body, "no readiness check") {
		t.Errorf("/readyz before SetReady: %d %q", code, body)
	}
	var notReady error = errors.New("discord is not connected")
	m.SetReady(func() error { return notReady })
	if code, body := get(t, h, "/readyz"); code != 503 || !strings.Contains(body, "discord is not connected") {
		t.Errorf("/readyz not ready: %d %q", code, body)
	}
	notReady = nil
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz ready: %d %q", code, body)
	}
	if code, _ := get(t, h, "/nothing"); code != 404 {
		t.Errorf("/nothing: %d", code)
	}
	// Two Metrics do not share counts.
	m.Question(Answered, time.Millisecond)
	_, text := get(t, New().Handler(), "/metrics")
	if got := sample(t, text, `storybot_questions_total{outcome="answered"}`); got != "0" {
		t.Errorf("a fresh Metrics counts %s answered", got)
	}
}

func TestFailuresAndFallbacksAreCounted(t *testing.T) {
	m := New()
	m.Failure("panic")
	m.Failure("reply_lost")
	m.Failure("reply_lost")
	m.Fallback()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`storybot_failures_total{kind="panic"} 1`, `storybot_failures_total{kind="reply_lost"} 2`, "storybot_lexical_fallbacks_total 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
