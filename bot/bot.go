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
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"storybot/retrieval"
)

// Metrics is what the bot reports; metrics.Metrics (Prometheus) satisfies
// it. Nil means none.
type Metrics interface {
	Question(outcome string, d time.Duration) // "answered", "declined", "rate_limited", "error"
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
	Reload  func(ctx context.Context) (retrieval.ReloadReport, error)
	Metrics Metrics
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
}

// Defaults for Config.
const (
	DefaultPerUserPerMinute = 5
	DefaultConcurrency      = 8
	DefaultDeferAfter       = time.Second
	maxDeferAfter           = 2500 * time.Millisecond
	// actionsPerQuestion sizes the budget of /sources and button presses:
	// an answer has three buttons, and a look at the sources is cheap.
	actionsPerQuestion = 4
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
		cfg:      cfg,
		lib:      cfg.Library,
		metrics:  m,
		limiter:  newRateLimiter(cfg.PerUserPerMinute, defaultMaxUsers),
		actions:  newRateLimiter(actionsPerQuestion*cfg.PerUserPerMinute, defaultMaxUsers),
		gate:     newGate(cfg.Concurrency),
		feedback: newFeedbackBook(defaultFeedbackAnswers),
		fatal:    make(chan struct{}),
		now:      time.Now,
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

// Fatal is closed when the bot cannot go on because Discord rejected its
// token; Err then says so. Run returns by itself; a server using
// HTTPHandler should watch Fatal and stop.
func (b *Bot) Fatal() <-chan struct{} { return b.fatal }

// Err is nil while the bot can work, and the rejected-token error once
// Fatal is closed.
func (b *Bot) Err() error {
	select {
	case <-b.fatal:
		return b.fatalErr
	default:
		return nil
	}
}

// reject records that Discord rejected the token. From then on the bot
// sends Discord nothing more: every further request with a bad token
// counts toward Discord's invalid-request ban (10,000 in 10 minutes).
func (b *Bot) reject(err error) {
	b.fatalOnce.Do(func() {
		b.fatalErr = err
		close(b.fatal)
		b.log.Error("Discord rejected the bot token; the bot stops", "err", err)
	})
}

// setToken remembers the bot token, to redact it.
func (b *Bot) setToken(token string) {
	t := strings.TrimSpace(strings.TrimPrefix(token, "Bot "))
	b.token.Store(&t)
}

// secret is the bot token to redact, or "" when none is worth redacting.
func (b *Bot) secret() string {
	t := b.token.Load()
	if t == nil || len(*t) < minSecretLen {
		return ""
	}
	return *t
}

// minSecretLen keeps redaction from mangling logs when a test or a broken
// config has a token of a few characters. Real tokens are ~70.
const minSecretLen = 8

type noMetrics struct{}

func (noMetrics) Question(string, time.Duration) {}
func (noMetrics) Feedback(bool)                  {}
func (noMetrics) Fallback()                      {}

// Run registers the interaction handler on s, opens the gateway,
// bulk-overwrites the commands (per guild when GuildIDs are set, else
// globally) and serves until ctx is done. Then it lets answers in flight
// finish and closes the session.
//
// A token Discord rejects (a REST 401 at any time, or a gateway close with
// 4004) ends Run promptly with an error that says so, and the session
// sends nothing more: discordgo would otherwise retry the gateway forever.
//
// Run sets s.Identify.Intents to none: interactions need no intent, and
// every other event would only cost bandwidth. It turns off discordgo's
// debug output, which prints the token (see secureSession).
func (b *Bot) Run(ctx context.Context, s *discordgo.Session) error {
	b.setToken(s.Token)
	b.secureSession(s)
	checks := newTokenChecks()
	defer checks.stop()
	removeHandlers := []func(){
		s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
			if ic.Interaction == nil {
				return
			}
			b.onGatewayInteraction(ctx, s, ic.Interaction)
		}),
		s.AddHandler(func(s *discordgo.Session, _ *discordgo.Disconnect) {
			if ctx.Err() != nil || b.Err() != nil {
				return
			}
			b.log.Warn("gateway disconnected; discordgo reconnects")
			// discordgo neither reports close codes nor stops after 4004,
			// so ask REST whether the token still works.
			checks.start(func(ctx context.Context) { b.checkToken(ctx, s) })
		}),
		s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) {
			b.log.Info("gateway resumed")
		}),
	}
	defer func() {
		for _, remove := range removeHandlers {
			remove()
		}
	}()

	if err := s.Open(); err != nil {
		return b.runError("open the Discord gateway", err)
	}
	appID := applicationID(s)
	if appID == "" {
		checks.stop()
		stopSession(s)
		return errors.New("bot: READY carried no application id")
	}
	if err := b.register(ctx, s, appID, func(context.Context) ([]string, error) { return readyGuilds(s), nil }); err != nil {
		checks.stop()
		stopSession(s)
		if ctx.Err() != nil && b.Err() == nil {
			// Asked to stop while starting: that is a clean shutdown.
			return nil
		}
		return err
	}
	b.log.Info("connected to Discord", "application_id", appID, "guilds", b.cfg.GuildIDs)

	select {
	case <-ctx.Done():
		b.log.Info("shutting down", "reason", context.Cause(ctx).Error())
	case <-b.fatal:
		// Close first: nothing more may reach Discord with this token.
		// The handlers in flight fail fast, their requests refused.
		checks.stop()
		stopSession(s)
		b.drain()
		return b.Err()
	}
	b.drain()
	checks.stop()
	if err := s.Close(); err != nil {
		return fmt.Errorf("bot: close the gateway: %w", err)
	}
	return nil
}

// tokenChecks runs Run's token checks: one at a time (Disconnect comes
// once per lost connection, but connections can flap), none after stop,
// which cancels and waits for the one running.
type tokenChecks struct {
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	running bool
	stopped bool
	wg      sync.WaitGroup
}

func newTokenChecks() *tokenChecks {
	ctx, cancel := context.WithCancel(context.Background())
	return &tokenChecks{ctx: ctx, cancel: cancel}
}

func (t *tokenChecks) start(check func(context.Context)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running || t.stopped {
		return
	}
	t.running = true
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		check(t.ctx)
		t.mu.Lock()
		t.running = false
		t.mu.Unlock()
	}()
}

func (t *tokenChecks) stop() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
}

// drain lets the handlers in flight finish, for at most drainTimeout.
func (b *Bot) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		b.log.Warn("answers still in flight at shutdown", "err", err)
	}
}

// runError wraps an error that ends Run, rejecting the token if that is
// what Discord said.
func (b *Bot) runError(what string, err error) error {
	err = b.redactErr(authError(what, err))
	if unauthorized(err) {
		b.reject(err)
	}
	return err
}

// checkToken asks Discord whether the token still works, after the gateway
// dropped: a token reset closes the gateway with 4004, which discordgo
// hides and answers by reconnecting forever. Any answer but a 401 means
// the token is fine, or that Discord is down, which the reconnect handles.
func (b *Bot) checkToken(ctx context.Context, s *discordgo.Session) {
	ctx, cancel := context.WithTimeout(ctx, replyTimeout)
	defer cancel()
	_, err := s.User("@me", restOptions(ctx)...)
	switch {
	case err == nil:
	case unauthorized(err):
		b.reject(b.redactErr(authError("check the token after the gateway disconnected", err)))
	default:
		b.log.Info("could not check the token after the gateway disconnected", "err", b.redactErr(err))
	}
}

// Shutdown waits until every interaction handler has finished, or ctx ends.
// HTTP serving calls it after http.Server.Shutdown; Run calls it itself.
func (b *Bot) Shutdown(ctx context.Context) error {
	if err := b.inflight.wait(ctx); err != nil {
		return fmt.Errorf("bot: waiting for handlers: %w", err)
	}
	return nil
}

// flights counts running handlers. Unlike a sync.WaitGroup it may start a
// handler while another goroutine waits, which happens when an interaction
// arrives during shutdown.
type flights struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to zero
}

// Go runs fn on a new goroutine, counted.
func (f *flights) Go(fn func()) {
	f.mu.Lock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
	go func() {
		defer f.done()
		fn()
	}()
}

func (f *flights) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

// wait returns when no handler runs, or with ctx's error.
func (f *flights) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unauthorized reports whether Discord rejected the bot token: a REST 401 or a
// gateway close with 4004. Only call it on the errors of routes that carry
// the bot token (registration, users/@me, the gateway): an interaction's
// routes are authorised by the interaction token, whose 401 says nothing
// about the bot's (see interactionTokenRejected).
func unauthorized(err error) bool {
	var rerr *discordgo.RESTError
	if errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode == 401 {
		return true
	}
	var cerr *websocket.CloseError
	return errors.As(err, &cerr) && cerr.Code == 4004
}

// authError wraps err, saying plainly when Discord rejected the token:
// a REST 401 or a gateway close with 4004.
func authError(what string, err error) error {
	var rerr *discordgo.RESTError
	if errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode == 401 {
		return fmt.Errorf("bot: %s: Discord rejected the bot token (401 Unauthorized); check DISCORD_TOKEN: %w", what, err)
	}
	var cerr *websocket.CloseError
	if errors.As(err, &cerr) && cerr.Code == 4004 {
		return fmt.Errorf("bot: %s: Discord rejected the bot token (gateway close 4004); check DISCORD_TOKEN: %w", what, err)
	}
	return fmt.Errorf("bot: %s: %w", what, err)
}

// onGatewayInteraction answers one interaction from the gateway. Handlers
// run on their own goroutine (discordgo may be set to deliver events
// synchronously) and are counted for shutdown. They do not stop when ctx
// does: an answer half given is worse than a slower shutdown.
func (b *Bot) onGatewayInteraction(ctx context.Context, s *discordgo.Session, i *discordgo.Interaction) {
	var c *call
	c = b.newCall(context.WithoutCancel(ctx), s, i, func(ctx context.Context, r *discordgo.InteractionResponse) error {
		// A global rate limit makes discordgo sleep, uncancellably, before
		// sending. If it lasts past the deadline the callback is lost
		// anyway; better to say so now than hold the handler. (A bucket
		// of our own makes GetWaitTime look at the global limit alone.)
		if rl := s.Ratelimiter; rl != nil {
			if wait := rl.GetWaitTime(&discordgo.Bucket{Remaining: 1}, 1); wait > 0 && time.Now().Add(wait).After(c.ackDeadline()) {
				return fmt.Errorf("%w for %v, past the acknowledgement deadline", errGlobalRateLimit, wait.Round(time.Millisecond))
			}
		}
		return s.InteractionRespond(i, r, restOptions(ctx)...)
	})
	b.inflight.Go(c.handle)
}

var errGlobalRateLimit = errors.New("Discord rate limits the bot globally")

// restOptions are the options of every REST call the bot makes: cancelled
// with ctx, and with discordgo's own retries off. discordgo would sleep
// through any 429 (uncancellably, however long) and retry 502s at once;
// send retries itself, within bounds that suit each call.
func restOptions(ctx context.Context) []discordgo.RequestOption {
	return []discordgo.RequestOption{
		discordgo.WithContext(ctx),
		discordgo.WithRetryOnRatelimit(false),
		discordgo.WithRestRetries(0),
	}
}

// rest is the part of *discordgo.Session the handlers use to reply.
type rest interface {
	InteractionRespond(i *discordgo.Interaction, r *discordgo.InteractionResponse, opts ...discordgo.RequestOption) error
	InteractionResponseEdit(i *discordgo.Interaction, e *discordgo.WebhookEdit, opts ...discordgo.RequestOption) (*discordgo.Message, error)
	FollowupMessageCreate(i *discordgo.Interaction, wait bool, p *discordgo.WebhookParams, opts ...discordgo.RequestOption) (*discordgo.Message, error)
}

// bucketRequester is *discordgo.Session's raw request, used to edit with a
// rate-limit bucket per interaction. InteractionResponseEdit puts every
// edit of every interaction in one bucket ("webhooks//"), whose lock
// discordgo holds for the whole request: edits would queue behind each
// other, and one 429 would stall them all.
type bucketRequester interface {
	RequestWithBucketID(method, urlStr string, data interface{}, bucketID string, options ...discordgo.RequestOption) ([]byte, error)
}

// call is one interaction being answered.
type call struct {
	b    *Bot
	ctx  context.Context
	rest rest
	i    *discordgo.Interaction
	// respondFn sends the initial response: a REST callback on the
	// gateway, the HTTP response body on the endpoint.
	respondFn func(context.Context, *discordgo.InteractionResponse) error
	user      *discordgo.User
	log       *slog.Logger
	// received is when the interaction arrived; Discord wants the initial
	// response within ackWindow of it.
	received time.Time
	// tokenExpires is when the interaction token dies (Bot.now's clock):
	// past it nothing is sent to the interaction's routes.
	tokenExpires time.Time
	// ended is set once Discord refused the interaction token: the
	// interaction is over, whatever else the handler would send.
	ended bool

	// What the user has seen so far, so a panic can still say sorry.
	// Only the handler's goroutine touches these.
	responded       bool // an initial response went out
	deferred        bool // ... and it was a deferral
	deferredPrivate bool
	completed       bool // a deferral was followed by an edit or followup
	// onPanic records the metric the handler would have, as a failure.
	onPanic func()
}

func (b *Bot) newCall(ctx context.Context, r rest, i *discordgo.Interaction, respond func(context.Context, *discordgo.InteractionResponse) error) *call {
	c := &call{b: b, ctx: ctx, rest: r, i: i, respondFn: respond, user: interactionUser(i),
		received: time.Now(), tokenExpires: b.now().Add(interactionTokenLife)}
	attrs := []any{"interaction", i.ID, "guild", i.GuildID}
	if c.user != nil {
		attrs = append(attrs, "user", c.user.ID)
	}
	c.log = b.log.With(attrs...)
	return c
}

// interactionUser is who acted: the member's user in a guild, the user in
// a DM (where Member is nil).
func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

func (c *call) userID() string {
	if c.user == nil {
		return ""
	}
	return c.user.ID
}

// sorryText is what the user reads when a handler panicked.
const sorryText = "Something went wrong on our side. Please try again."

// recoverPanic keeps a bug in one handler from taking the bot down: it logs
// the panic (redacted: a panic value may quote a URL with the interaction
// token) with the stack, counts it, and tells the user if it still can.
func (c *call) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	c.log.Error("handler panicked; the bot keeps serving",
		"panic", c.redactString(fmt.Sprint(r)), "stack", string(debug.Stack()))
	c.b.failure(failurePanic)
	if c.onPanic != nil {
		c.onPanic()
	}
	switch {
	case !c.responded:
		c.replyEphemeral(sorryText)
	case c.deferred && !c.completed:
		c.replyOrEdit(true, c.deferredPrivate, reply{ephemeral: true, content: sorryText})
	}
}

// handle routes the interaction to its handler.
func (c *call) handle() {
	defer c.recoverPanic()
	switch c.i.Type {
	case discordgo.InteractionApplicationCommand:
		data := c.i.ApplicationCommandData()
		c.log = c.log.With("command", data.Name)
		switch data.Name {
		case cmdAsk:
			private := false
			if o := option(data.Options, optPrivate); o != nil && o.Type == discordgo.ApplicationCommandOptionBoolean {
				private = o.BoolValue()
			}
			q := ""
			if o := option(data.Options, optQuestion); o != nil && o.Type == discordgo.ApplicationCommandOptionString {
				q = o.StringValue()
			}
			c.ask(q, private)
		case cmdAskMessage:
			c.askMessage(data)
		case cmdSources:
			if c.allowAction() {
				c.sources()
			}
		case cmdReload:
			c.reload()
		default:
			c.log.Warn("unknown command")
			c.replyEphemeral("I don't know that command. It may have been removed; try /ask.")
		}
	case discordgo.InteractionMessageComponent:
		if !c.allowAction() {
			return
		}
		id := c.i.MessageComponentData().CustomID
		switch {
		case strings.HasPrefix(id, feedbackPrefix):
			c.onFeedback(id)
		case strings.HasPrefix(id, passagesPrefix):
			c.showPassages(id)
		default:
			c.log.Warn("unknown button", "custom_id", id)
			c.replyEphemeral("That button no longer works.")
		}
	default:
		c.log.Debug("ignored interaction", "type", int(c.i.Type))
	}
}

// allowAction takes one of the user's actions (/sources, buttons), which
// are cheap but not free: a budget apart from questions, so pressing
// buttons does not use up questions. When it is spent the user is told.
func (c *call) allowAction() bool {
	ok, wait := c.b.actions.allow(c.userID())
	if !ok {
		c.log.Info("actions rate limited", "retry_after", wait.Round(time.Second).String())
		c.replyEphemeral(fmt.Sprintf("You're going faster than I can keep up with. Please try again in %d seconds.",
			int(math.Ceil(wait.Seconds()))))
	}
	return ok
}

func option(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) *discordgo.ApplicationCommandInteractionDataOption {
	i := slices.IndexFunc(opts, func(o *discordgo.ApplicationCommandInteractionDataOption) bool { return o.Name == name })
	if i < 0 {
		return nil
	}
	return opts[i]
}

// respond sends the initial response. Every message carries
// allowed_mentions that parse nothing.
func (c *call) respond(r *discordgo.InteractionResponse) error {
	if r.Data == nil {
		r.Data = &discordgo.InteractionResponseData{}
	}
	r.Data.AllowedMentions = noMentions()
	err := c.send("respond to the interaction", callbackPolicy(c.ackDeadline()), func(ctx context.Context) error {
		return c.respondFn(ctx, r)
	})
	if err != nil {
		return err
	}
	c.responded = true
	if r.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		c.deferred = true
		c.deferredPrivate = r.Data.Flags&discordgo.MessageFlagsEphemeral != 0
	}
	return nil
}

// ackDeadline is when Discord stops accepting the initial response.
func (c *call) ackDeadline() time.Time { return c.received.Add(ackWindow) }

// edit replaces the original response (after a deferral).
func (c *call) edit(e *discordgo.WebhookEdit) error {
	e.AllowedMentions = noMentions()
	err := c.send("edit the response", editPolicy, func(ctx context.Context) error {
		if br, ok := c.rest.(bucketRequester); ok && len(e.Files) == 0 {
			_, err := br.RequestWithBucketID("PATCH", discordgo.EndpointWebhookMessage(c.i.AppID, c.i.Token, "@original"),
				e, discordgo.EndpointWebhookToken(c.i.AppID, c.i.Token), restOptions(ctx)...)
			return err
		}
		_, err := c.rest.InteractionResponseEdit(c.i, e, restOptions(ctx)...)
		return err
	})
	if err == nil {
		c.completed = true
	}
	return err
}

// followup sends another message after the first.
func (c *call) followup(p *discordgo.WebhookParams) error {
	p.AllowedMentions = noMentions()
	err := c.send("send a followup", followupPolicy, func(ctx context.Context) error {
		_, err := c.rest.FollowupMessageCreate(c.i, true, p, restOptions(ctx)...)
		return err
	})
	if err == nil {
		c.completed = true
	}
	return err
}

// Retrying replies. Discord answers 5xx when it is having trouble and 429
// with retry_after when the bot goes too fast; both deserve another try,
// within bounds: the initial response must land within ackWindow of the
// interaction, the edits and followups while the interaction token lives
// (15 minutes). Discord bans IPs that send 10,000 invalid requests (401,
// 403, 429) in 10 minutes, so no loop may be unbounded.
const (
	ackWindow = 3 * time.Second
	// ackMargin is how long before the deadline a retried callback must
	// start, to reach Discord in time.
	ackMargin = 250 * time.Millisecond
	// replyAttempts bounds the tries of an edit or followup, waiting
	// replyBackoff, then twice and four times as long, between them.
	replyAttempts = 4
	replyBackoff  = 250 * time.Millisecond
	// maxRetryAfter is the longest 429 an edit or followup waits out.
	// discordgo holds the interaction's bucket that long anyway.
	maxRetryAfter = 30 * time.Second
)

// retryPolicy bounds the attempts of one reply.
type retryPolicy struct {
	attempts      int
	backoff       time.Duration // before the second attempt; doubles
	maxRetryAfter time.Duration
	// idempotent calls are retried after network errors too; a followup
	// might have been posted before the connection broke.
	idempotent bool
	// deadline, if set, is when Discord stops accepting the call; no
	// retry starts that would end after it, and every attempt ends by it
	// (plus a second for the answer to come back).
	deadline time.Time
}

var (
	editPolicy     = retryPolicy{attempts: replyAttempts, backoff: replyBackoff, maxRetryAfter: maxRetryAfter, idempotent: true}
	followupPolicy = retryPolicy{attempts: replyAttempts, backoff: replyBackoff, maxRetryAfter: maxRetryAfter}
)

func callbackPolicy(deadline time.Time) retryPolicy {
	return retryPolicy{attempts: 3, backoff: 100 * time.Millisecond, maxRetryAfter: ackWindow, deadline: deadline}
}

// send runs req until it succeeds, fails in a way another try cannot fix,
// or p's bounds are reached. Every failure is logged here, redacted; the
// error returned is redacted too. Every route it sends to is the
// interaction's, authorised by the interaction token: a 401 there, or
// 50027 Invalid Webhook Token, ends this interaction only. Past the
// token's 15 minutes nothing is sent at all.
func (c *call) send(op string, p retryPolicy, req func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if err := c.b.Err(); err != nil {
			c.log.Warn("reply not sent: the bot is stopping", "op", op)
			return fmt.Errorf("%s: not sent: %w", op, err)
		}
		if c.ended {
			c.log.Warn("reply dropped: Discord already refused this interaction's token", "op", op)
			return fmt.Errorf("%s: not sent: %w", op, errInteractionEnded)
		}
		left := c.tokenExpires.Sub(c.b.now())
		if left <= tokenMargin {
			c.ended = true
			c.log.Warn("reply dropped: the interaction's 15-minute token has expired", "op", op,
				"age", (interactionTokenLife - left).Round(time.Second).String())
			c.b.failure(failureReplyLost)
			return fmt.Errorf("%s: not sent: %w", op, errInteractionExpired)
		}
		ctx, cancel := context.WithTimeout(c.ctx, min(replyTimeout, left-tokenMargin))
		if !p.deadline.IsZero() {
			ctx, cancel = context.WithDeadline(c.ctx, p.deadline.Add(time.Second))
		}
		err := req(ctx)
		cancel()
		if err == nil {
			if attempt > 1 {
				c.log.Info("reply sent after retrying", "op", op, "attempts", attempt)
			}
			return nil
		}
		if interactionTokenRejected(err) {
			c.ended = true
			err = c.redact(err)
			c.log.Warn("Discord refused this interaction's token (expired or invalid); this interaction ends, the bot goes on",
				"op", op, "err", err)
			c.b.failure(failureReplyLost)
			return fmt.Errorf("%s: %w: %w", op, errInteractionEnded, err)
		}
		wait, retry, why := p.retryAfter(err, attempt)
		err = c.redact(err)
		if retry && !p.deadline.IsZero() && time.Now().Add(wait+ackMargin).After(p.deadline) {
			retry, why = false, fmt.Sprintf("a retry in %v would miss the %v acknowledgement deadline", wait.Round(time.Millisecond), ackWindow)
		}
		if !retry {
			attrs := []any{"op", op, "attempts", attempt, "err", err}
			if why != "" {
				attrs = append(attrs, "why", why)
			}
			c.log.Error("giving up on a reply to Discord; the user does not get it", attrs...)
			c.b.failure(failureReplyLost)
			return fmt.Errorf("%s: %w", op, err)
		}
		c.log.Warn("reply to Discord failed; retrying", "op", op, "attempt", attempt, "retry_in_ms", wait.Milliseconds(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.b.fatal:
			t.Stop()
		}
	}
}

// interactionTokenLife is how long Discord accepts an interaction token;
// tokenMargin keeps the last request from starting as it dies.
const (
	interactionTokenLife = 15 * time.Minute
	tokenMargin          = 5 * time.Second
)

var (
	errInteractionExpired = errors.New("the interaction token has expired (15 minutes)")
	errInteractionEnded   = errors.New("Discord refused the interaction token")
)

// codeInvalidWebhookToken is Discord's JSON error code for an interaction
// (webhook) token it no longer accepts.
const codeInvalidWebhookToken = 50027

// interactionTokenRejected reports whether an interaction route refused its
// token: a 401, or Discord's 50027 Invalid Webhook Token whatever the
// status.
func interactionTokenRejected(err error) bool {
	var rerr *discordgo.RESTError
	if !errors.As(err, &rerr) {
		return false
	}
	if rerr.Message != nil && rerr.Message.Code == codeInvalidWebhookToken {
		return true
	}
	return rerr.Response != nil && rerr.Response.StatusCode == http.StatusUnauthorized
}

// retryAfter says whether err after attempt deserves another try, and
// after how long; when not, why (if err alone does not say).
func (p retryPolicy) retryAfter(err error, attempt int) (wait time.Duration, retry bool, why string) {
	var rl *discordgo.RateLimitError
	var rerr *discordgo.RESTError
	var nerr *url.Error
	switch {
	case errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil:
		wait = rl.RetryAfter
		if wait > p.maxRetryAfter {
			return 0, false, fmt.Sprintf("rate limited for %v, longer than the %v the reply may wait", wait, p.maxRetryAfter)
		}
	case errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode >= 500,
		// What discordgo returns for a 502 with retries off.
		strings.HasPrefix(err.Error(), "Exceeded Max retries HTTP 5"):
		wait = p.backoff << (attempt - 1)
	case p.idempotent && errors.As(err, &nerr):
		wait = p.backoff << (attempt - 1)
	default:
		return 0, false, "" // 4xx, a refused request, a closed HTTP exchange: another try fails the same way
	}
	if attempt >= p.attempts {
		return 0, false, fmt.Sprintf("%d attempts failed", attempt)
	}
	return wait, true, ""
}

// replyEphemeral answers with a short message only the user sees.
func (c *call) replyEphemeral(text string) {
	_ = c.respond(&discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: truncate(text, maxContent),
			Flags:   discordgo.MessageFlagsEphemeral,
		},
	})
}

// deferReply acknowledges now and promises an edit; the ephemeral flag
// must be set here, since the edit cannot change it.
func (c *call) deferReply(private bool) error {
	var flags discordgo.MessageFlags
	if private {
		flags = discordgo.MessageFlagsEphemeral
	}
	return c.respond(&discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags},
	})
}

// redact keeps the interaction token, which lets anyone post as the bot
// for 15 minutes, and the bot token out of errors before they are logged:
// net/http errors quote the webhook URL that carries the former, and
// discordgo's rate-limit errors do too.
func (c *call) redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = fmt.Errorf("%s %s: %w", uerr.Op, redactToken(uerr.URL, c.i.Token), uerr.Err)
	}
	if c.i.Token != "" && strings.Contains(err.Error(), c.i.Token) {
		err = &redactedError{msg: redactToken(err.Error(), c.i.Token), err: err}
	}
	return c.b.redactErr(err)
}

// redactString is redact for text, such as a panic value.
func (c *call) redactString(s string) string {
	return redactToken(redactToken(s, c.i.Token), c.b.secret())
}

func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<redacted>")
}

// redactingHandler keeps the bot token out of every log record, whatever
// logged it: one choke point rather than care at every call site. It
// redacts the message and string, error and Stringer values, in groups
// too; other values are logged as they are.
type redactingHandler struct {
	inner  slog.Handler
	secret func() string
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	secret := h.secret()
	if secret == "" {
		return h.inner.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, redactToken(r.Message, secret), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(redactAttr(a, secret))
		return true
	})
	if err := h.inner.Handle(ctx, nr); err != nil {
		return fmt.Errorf("bot: log: %w", err)
	}
	return nil
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if secret := h.secret(); secret != "" {
		red := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			red[i] = redactAttr(a, secret)
		}
		attrs = red
	}
	return &redactingHandler{inner: h.inner.WithAttrs(attrs), secret: h.secret}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{inner: h.inner.WithGroup(name), secret: h.secret}
}

func redactAttr(a slog.Attr, secret string) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redactToken(v.String(), secret))
	case slog.KindGroup:
		group := v.Group()
		red := make([]any, len(group))
		for i, g := range group {
			red[i] = redactAttr(g, secret)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, redactToken(x.Error(), secret))
		case fmt.Stringer:
			return slog.String(a.Key, redactToken(x.String(), secret))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// secureSession readies s for Run. discordgo's debug output prints the
// Authorization header and the IDENTIFY payload, both with the token, and
// its informational level prints URLs carrying interaction tokens: Run
// turns both off. It also puts a guard in s's HTTP client and websocket
// dialer that refuses every connection once the token is rejected: that
// is the only way to stop discordgo's reconnect loop, which does not look
// at ShouldReconnectOnError once started and retries forever.
func (b *Bot) secureSession(s *discordgo.Session) {
	s.Identify.Intents = discordgo.IntentsNone
	s.Debug = false
	if s.LogLevel > discordgo.LogWarning {
		s.LogLevel = discordgo.LogWarning
	}

	client := &http.Client{}
	if s.Client != nil {
		c := *s.Client
		client = &c
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = &guardTransport{base: base, b: b}
	s.Client = client

	dialer := *websocket.DefaultDialer
	if s.Dialer != nil {
		dialer = *s.Dialer
	}
	dial := dialer.NetDialContext
	if dial == nil && dialer.NetDial != nil {
		netDial := dialer.NetDial
		dial = func(_ context.Context, network, addr string) (net.Conn, error) { return netDial(network, addr) }
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := b.Err(); err != nil {
			return nil, fmt.Errorf("bot: not connecting: %w", err)
		}
		return dial(ctx, network, addr)
	}
	if tlsDial := dialer.NetDialTLSContext; tlsDial != nil {
		dialer.NetDialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := b.Err(); err != nil {
				return nil, fmt.Errorf("bot: not connecting: %w", err)
			}
			return tlsDial(ctx, network, addr)
		}
	}
	s.Dialer = &dialer
}

// guardTransport refuses requests once the bot token is rejected.
type guardTransport struct {
	base http.RoundTripper
	b    *Bot
}

func (t *guardTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.b.Err(); err != nil {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, fmt.Errorf("bot: not sending: %w", err)
	}
	return t.base.RoundTrip(r)
}

// stopSession closes s. It leaves ShouldReconnectOnError alone: discordgo
// reads it without the lock as a connection drops, so writing it races,
// and it would not stop a reconnect loop already running. The guard in
// secureSession does: after a rejected token, every reconnect is refused
// before it reaches Discord.
func stopSession(s *discordgo.Session) {
	_ = s.Close()
}

// redactErr keeps the bot token out of err's text. discordgo's errors do
// not carry it; this is the belt to that pair of braces.
func (b *Bot) redactErr(err error) error {
	secret := b.secret()
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: redactToken(err.Error(), secret), err: err}
}

// redactedError is err with its text redacted; errors.Is and As still see
// err, which is never printed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
