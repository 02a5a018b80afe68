// Package metrics counts what storybot does, for Prometheus, and serves the
// health endpoints beside /metrics.
//
// It uses its own registry rather than the global one, so two bots in one
// test process do not share counts and no library can add metrics behind our
// back.
package metrics

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"storybot/retrieval"
)

// Question outcomes.
const (
	Answered    = "answered"
	Hedged      = "hedged"
	Declined    = "declined"
	RateLimited = "rate_limited"
	Error       = "error"
)

// Reload results.
const (
	ReloadOK     = "ok"
	ReloadFailed = "failed"
)

// unknown is where a value outside the fixed sets is counted: a bug to
// fix, but not one worth crashing the bot or growing the label set over.
const unknown = "unknown"

// Metrics is storybot's instruments. Safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	questions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	reloads   *prometheus.CounterVec
	feedback  *prometheus.CounterVec
	fallbacks prometheus.Counter
	failures  *prometheus.CounterVec
	stories   prometheus.Gauge
	chunks    prometheus.Gauge
	embedCall *prometheus.CounterVec
	embedErr  *prometheus.CounterVec
	embedText *prometheus.CounterVec
	storage   *storageMetrics // storage.go

	ready    atomic.Pointer[func() error]
	degraded atomic.Pointer[func() error] // storage.go
}

// New makes the instruments, registered with a registry of their own along
// with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		questions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_questions_total",
			Help: "Questions received, by outcome: answered, hedged (the closest the stories come), declined (the stories do not say), rate_limited, error.",
		}, []string{"outcome"}),
		// Offline answers take milliseconds; a network embedder can take
		// seconds. The buckets cover both.
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storybot_question_duration_seconds",
			Help:    "Time from receiving a question to having its answer, by outcome.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"outcome"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_reloads_total",
			Help: "Knowledge reloads, by result: ok (the new index serves) or failed (the previous one still serves).",
		}, []string{"result"}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_feedback_total",
			Help: "Reader feedback on answers, by vote: up or down.",
		}, []string{"vote"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "storybot_lexical_fallbacks_total",
			Help: "Answers made from keyword search alone because the embedder failed or timed out.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_failures_total",
			Help: "Things that went wrong past the question itself, by kind: reply_lost (Discord never got the answer), panic (a handler panicked and was recovered).",
		}, []string{"kind"}),
		stories: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "storybot_index_stories",
			Help: "Stories in the index now serving.",
		}),
		chunks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "storybot_index_chunks",
			Help: "Passages (chunks) in the index now serving.",
		}),
		embedCall: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_embedder_calls_total",
			Help: "Calls to the embedder (one call may carry many texts), by embedder.",
		}, []string{"embedder"}),
		embedErr: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_embedder_errors_total",
			Help: "Embedder calls that failed, by embedder.",
		}, []string{"embedder"}),
		embedText: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_embedder_texts_total",
			Help: "Texts sent to the embedder, by embedder.",
		}, []string{"embedder"}),
	}
	m.storage = newStorageMetrics(m.reg)
	m.reg.MustRegister(m.questions, m.latency, m.reloads, m.feedback, m.fallbacks, m.failures, m.stories, m.chunks,
		m.embedCall, m.embedErr, m.embedText,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every known label value shows from the start, at zero, so a rate()
	// over a fresh process is 0, not "no data".
	for _, o := range []string{Answered, Hedged, Declined, RateLimited, Error} {
		m.questions.WithLabelValues(o)
		m.latency.WithLabelValues(o)
	}
	for _, r := range []string{ReloadOK, ReloadFailed} {
		m.reloads.WithLabelValues(r)
	}
	m.failures.WithLabelValues("reply_lost")
	m.failures.WithLabelValues("panic")
	m.feedback.WithLabelValues("up")
	m.feedback.WithLabelValues("down")
	return m
}

// Question counts one question and how long it took.
func (m *Metrics) Question(outcome string, d time.Duration) {
	switch outcome {
	case Answered, Hedged, Declined, RateLimited, Error:
	default:
		outcome = unknown
	}
	m.questions.WithLabelValues(outcome).Inc()
	m.latency.WithLabelValues(outcome).Observe(d.Seconds())
}

// Reload counts one reload ("ok" or "failed").
func (m *Metrics) Reload(result string) {
	if result != ReloadOK && result != ReloadFailed {
		result = unknown
	}
	m.reloads.WithLabelValues(result).Inc()
}

// Feedback counts a reader's vote on an answer.
func (m *Metrics) Feedback(up bool) {
	vote := "down"
	if up {
		vote = "up"
	}
	m.feedback.WithLabelValues(vote).Inc()
}

// Fallback counts an answer made from keyword search alone because the
// embedder failed.
func (m *Metrics) Fallback() { m.fallbacks.Inc() }

// Failure counts a lost reply or a recovered panic (bot.FailureMetrics).
func (m *Metrics) Failure(kind string) { m.failures.WithLabelValues(kind).Inc() }

// IndexSize records the size of the index now serving.
func (m *Metrics) IndexSize(stories, chunks int) {
	m.stories.Set(float64(stories))
	m.chunks.Set(float64(chunks))
}

// CountEmbedder wraps e so its calls and errors are counted. The wrapper's
// ID is e's, so vectors cached under e still hit.
func (m *Metrics) CountEmbedder(e retrieval.Embedder) retrieval.Embedder {
	id := e.ID()
	return &countedEmbedder{
		Embedder: e,
		calls:    m.embedCall.WithLabelValues(id),
		errs:     m.embedErr.WithLabelValues(id),
		texts:    m.embedText.WithLabelValues(id),
	}
}

type countedEmbedder struct {
	retrieval.Embedder
	calls, errs, texts prometheus.Counter
}

// InProcess passes on whether e runs in this process (retrieval then
// embeds the sentences a question reads as it reads them, counted here).
func (c *countedEmbedder) InProcess() bool {
	p, ok := c.Embedder.(interface{ InProcess() bool })
	return ok && p.InProcess()
}

func (c *countedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.calls.Inc()
	c.texts.Add(float64(len(texts)))
	v, err := c.Embedder.Embed(ctx, texts)
	if err != nil {
		c.errs.Inc()
	}
	return v, err
}

// SetReady sets the check behind /readyz: ready when it returns nil.
func (m *Metrics) SetReady(check func() error) { m.ready.Store(&check) }

// Handler serves /metrics (Prometheus text format), /healthz (200 while the
// process runs) and /readyz (200 when the readiness check passes, else 503
// with the reason).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := m.readiness(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		if err := m.degradation(); err != nil {
			fmt.Fprintln(w, "ready, degraded:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

func (m *Metrics) readiness() error {
	check := m.ready.Load()
	if check == nil {
		return errNoCheck
	}
	return (*check)()
}

var errNoCheck = fmt.Errorf("starting (no readiness check set yet)")
