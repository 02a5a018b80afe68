// Package bot is storybot on Discord: /ask answers with quoted, cited
// passages, /sources lists the stories, moderators /reload them, and
// buttons under each answer collect feedback and show the full passages.
//
// The same handlers serve two transports: the gateway (Run) and the HTTP
// interactions endpoint (HTTPHandler), which scales out behind a load
// balancer. Every reply goes through one place that sets allowed_mentions
// to "parse nothing", and through format.go, which escapes quoted text and
// cuts it to Discord's limits.
package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"storybot/retrieval"
)

// Metrics is what the bot reports; metrics.Metrics (Prometheus) satisfies
// it. Nil means none.
type Metrics interface {
	Question(outcome string, d time.Duration) // "answered", "hedged", "declined", "rate_limited", "error"
	Feedback(up bool)
	// Fallback counts answers made from keyword search alone because the
	// configured embedder failed or timed out.
	Fallback()
}

// FailureMetrics may also be implemented by a Metrics. It counts what the
// question outcomes cannot: replies Discord never received (retries spent,
// or a rate limit longer than the time left) and handler panics. It is
// optional so that a Metrics need not change in step with this package.
type FailureMetrics interface {
	Failure(kind string) // "reply_lost", "panic"
}

// Failure kinds, as FailureMetrics receives them.
const (
	failureReplyLost = "reply_lost"
	failurePanic     = "panic"
)

// Question outcomes, as Metrics receives them.
const (
	outcomeAnswered    = "answered"
	outcomeHedged      = "hedged"
	outcomeDeclined    = "declined"
	outcomeRateLimited = "rate_limited"
	outcomeError       = "error"
)

// Config is what the bot needs. Zero values take the defaults.
type Config struct {
	Library *retrieval.Library
	// Reload re-reads the knowledge folder and swaps a new snapshot in,
	// counting and logging the reload itself (the bot does neither); a
	// reload already running is joined. Nil means /reload answers that
	// reloading is not configured.
	Reload func(ctx context.Context) (retrieval.ReloadReport, error)
	// ReloadReplicas, when set, asks every other replica to reload after
	// this one did, and returns what each reported within a short while.
	ReloadReplicas func(ctx context.Context) ([]ReplicaReload, error)
	Metrics        Metrics
	// Log receives JSON-friendly structured logs. Nil discards them.
	Log *slog.Logger
	// GuildIDs, when set, register the commands in those guilds (instant)
	// instead of globally.
	GuildIDs []string
	// ModeratorRoleIDs may /reload besides members with Manage Server.
	ModeratorRoleIDs []string
	// PerUserPerMinute is each user's question budget (default 5);
	// Concurrency caps questions answered at once (default 8).
	PerUserPerMinute, Concurrency int
	// ApplicationID is the application's id, for HTTP serving, where no
	// READY names it; empty means the bot user's id, which is the same for
	// every bot made since 2019.
	ApplicationID string
	// DeferAfter is how long an answer may take before the bot defers
	// (type 5) and edits the answer in later. Default 1s; at most 2.5s,
	// since Discord drops interactions not acknowledged within 3s.
	DeferAfter time.Duration
	// Memory keeps the question log, the answers and the votes in a
	// database; nil keeps nothing.
	Memory *Memory
}

// ReplicaReload is what another replica's reload did.
type ReplicaReload struct {
	Replica, Version string
	// Err is why it failed ("" when it worked).
	Err string
}

// Defaults for Config.
const (
	DefaultPerUserPerMinute = 5
	DefaultConcurrency      = 8
	DefaultDeferAfter       = time.Second
	maxDeferAfter           = 2500 * time.Millisecond
	// ActionsPerQuestion sizes the budget of /sources and button presses:
	// an answer has three buttons, and a look at the sources is cheap.
	ActionsPerQuestion = 4
)

// How long work may take once acknowledged. An interaction token is valid
// for 15 minutes; these stay well inside it.
const (
	answerTimeout = 2 * time.Minute
	replyTimeout  = 10 * time.Second // one REST call to Discord
	// drainTimeout bounds how long shutdown waits for answers in flight.
	drainTimeout = 15 * time.Second
)

// Bot answers interactions. It is safe for concurrent use.
type Bot struct {
	cfg      Config
	lib      *retrieval.Library
	log      *slog.Logger
	metrics  Metrics
	limiter  *rateLimiter
	actions  *rateLimiter // /sources and buttons
	gate     gate
	feedback *feedbackBook
	// followUps remembers each asker's last quoted story in each channel.
	followUps *conversations

	// inflight counts handlers running, so shutdown can let them finish.
	inflight flights

	// fatal is closed, once, when Discord rejects the token; fatalErr says
	// so and is written before the close.
	fatal     chan struct{}
	fatalOnce sync.Once
	fatalErr  error
	// token is the bot token without "Bot ", kept only to redact it from
	// logs and errors.
	token atomic.Pointer[string]
	// now tells the time for interaction-token deadlines; tests move it.
	now func() time.Time
}

// New checks cfg and returns a bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Library == nil {
		return nil, errors.New("bot: a Library is required")
	}
	if cfg.PerUserPerMinute < 0 || cfg.Concurrency < 0 || cfg.DeferAfter < 0 {
		return nil, errors.New("bot: rate limit, concurrency and defer time must not be negative")
	}
	if cfg.DeferAfter > maxDeferAfter {
		return nil, fmt.Errorf("bot: defer_after %v is too close to Discord's 3s deadline (at most %v)", cfg.DeferAfter, maxDeferAfter)
	}
	if cfg.PerUserPerMinute == 0 {
		cfg.PerUserPerMinute = DefaultPerUserPerMinute
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.DeferAfter == 0 {
		cfg.DeferAfter = DefaultDeferAfter
	}
	m := cfg.Metrics
	if m == nil {
		m = noMetrics{}
	}
	b := &Bot{
		cfg:       cfg,
		lib:       cfg.Library,
		metrics:   m,
		limiter:   newRateLimiter(cfg.PerUserPerMinute, defaultMaxUsers),
		actions:   newRateLimiter(ActionsPerQuestion*cfg.PerUserPerMinute, defaultMaxUsers),
		gate:      newGate(cfg.Concurrency),
		feedback:  newFeedbackBook(defaultFeedbackAnswers),
		followUps: newConversations(defaultMaxConversations, followUpFor),
		fatal:     make(chan struct{}),
		now:       time.Now,
	}
	var h slog.Handler = slog.NewJSONHandler(io.Discard, nil)
	if cfg.Log != nil {
		h = cfg.Log.Handler()
	}
	b.log = slog.New(&redactingHandler{inner: h, secret: b.secret})
	return b, nil
}

// failure counts kind if the Metrics counts failures.
func (b *Bot) failure(kind string) {
	if fm, ok := b.metrics.(FailureMetrics); ok {
		fm.Failure(kind)
	}
}

type noMetrics struct{}

func (noMetrics) Question(string, time.Duration) {}
func (noMetrics) Feedback(bool)                  {}
func (noMetrics) Fallback()                      {}
