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
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"storybot/retrieval"
)

// Metrics is what the bot reports; metrics.Metrics (Prometheus) satisfies
// it. Nil means none.
type Metrics interface {
	Question(outcome string, d time.Duration) // "answered", "declined", "rate_limited", "error"
	Reload(result string)                     // "ok", "failed"
	Feedback(up bool)
	// Fallback counts answers made from keyword search alone because the
	// configured embedder failed or timed out.
	Fallback()
}

// Question outcomes and reload results, as Metrics receives them.
const (
	outcomeAnswered    = "answered"
	outcomeDeclined    = "declined"
	outcomeRateLimited = "rate_limited"
	outcomeError       = "error"
	reloadOK           = "ok"
	reloadFailed       = "failed"
)

// Config is what the bot needs. Zero values take the defaults.
type Config struct {
	Library *retrieval.Library
	// Reload re-reads the knowledge folder and swaps a new snapshot in;
	// nil means /reload answers that reloading is not configured.
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
)

// How long work may take once acknowledged. An interaction token is valid
// for 15 minutes; these stay well inside it.
const (
	answerTimeout = 2 * time.Minute
	reloadTimeout = 10 * time.Minute
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
	gate     gate
	feedback *feedbackBook

	// inflight counts handlers running, so shutdown can let them finish.
	inflight flights
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
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	m := cfg.Metrics
	if m == nil {
		m = noMetrics{}
	}
	return &Bot{
		cfg:      cfg,
		lib:      cfg.Library,
		log:      log,
		metrics:  m,
		limiter:  newRateLimiter(cfg.PerUserPerMinute, defaultMaxUsers),
		gate:     newGate(cfg.Concurrency),
		feedback: newFeedbackBook(defaultFeedbackAnswers),
	}, nil
}

type noMetrics struct{}

func (noMetrics) Question(string, time.Duration) {}
func (noMetrics) Reload(string)                  {}
func (noMetrics) Feedback(bool)                  {}
func (noMetrics) Fallback()                      {}

// Run registers the interaction handler on s, opens the gateway,
// bulk-overwrites the commands (per guild when GuildIDs are set, else
// globally) and serves until ctx is done. Then it lets answers in flight
// finish and closes the session. A token Discord rejects ends Run with an
// error that says so.
//
// Run sets s.Identify.Intents to none: interactions need no intent, and
// every other event would only cost bandwidth.
func (b *Bot) Run(ctx context.Context, s *discordgo.Session) error {
	s.Identify.Intents = discordgo.IntentsNone
	removeHandlers := []func(){
		s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
			b.onGatewayInteraction(ctx, s, ic.Interaction)
		}),
		s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
			if ctx.Err() == nil {
				b.log.Warn("gateway disconnected; discordgo reconnects")
			}
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
		return authError("open the Discord gateway", err)
	}
	appID := applicationID(s)
	if appID == "" {
		_ = s.Close()
		return errors.New("bot: READY carried no application id")
	}
	if err := b.register(ctx, s, appID); err != nil {
		_ = s.Close()
		if ctx.Err() != nil {
			// Asked to stop while starting: that is a clean shutdown.
			return nil
		}
		return err
	}
	b.log.Info("connected to Discord", "application_id", appID, "guilds", b.cfg.GuildIDs)

	<-ctx.Done()
	b.log.Info("shutting down", "reason", context.Cause(ctx).Error())
	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := b.Shutdown(drainCtx); err != nil {
		b.log.Warn("answers still in flight at shutdown", "err", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("bot: close the gateway: %w", err)
	}
	return nil
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

// applicationID reads the application id from READY, falling back to the
// bot user's id, which is the same for every bot made since 2019.
func applicationID(s *discordgo.Session) string {
	s.State.RLock()
	defer s.State.RUnlock()
	if app := s.State.Ready.Application; app != nil && app.ID != "" {
		return app.ID
	}
	if s.State.User != nil {
		return s.State.User.ID
	}
	return ""
}

// register bulk-overwrites the commands: one call per guild, or one global.
func (b *Bot) register(ctx context.Context, s *discordgo.Session, appID string) error {
	scopes := b.cfg.GuildIDs
	if len(scopes) == 0 {
		scopes = []string{""}
	}
	for _, guild := range scopes {
		cmds := commandsFor(guild)
		if _, err := s.ApplicationCommandBulkOverwrite(appID, guild, cmds, discordgo.WithContext(ctx)); err != nil {
			where := "globally"
			if guild != "" {
				where = "in guild " + guild
			}
			return authError("register commands "+where, err)
		}
		b.log.Info("registered commands", "guild", guild, "count", len(cmds))
	}
	return nil
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
	c := b.newCall(context.WithoutCancel(ctx), s, i, func(ctx context.Context, r *discordgo.InteractionResponse) error {
		return s.InteractionRespond(i, r, discordgo.WithContext(ctx))
	})
	b.inflight.Go(c.handle)
}

// rest is the part of *discordgo.Session the handlers use to reply.
type rest interface {
	InteractionRespond(i *discordgo.Interaction, r *discordgo.InteractionResponse, opts ...discordgo.RequestOption) error
	InteractionResponseEdit(i *discordgo.Interaction, e *discordgo.WebhookEdit, opts ...discordgo.RequestOption) (*discordgo.Message, error)
	InteractionResponseDelete(i *discordgo.Interaction, opts ...discordgo.RequestOption) error
	FollowupMessageCreate(i *discordgo.Interaction, wait bool, p *discordgo.WebhookParams, opts ...discordgo.RequestOption) (*discordgo.Message, error)
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
}

func (b *Bot) newCall(ctx context.Context, r rest, i *discordgo.Interaction, respond func(context.Context, *discordgo.InteractionResponse) error) *call {
	c := &call{b: b, ctx: ctx, rest: r, i: i, respondFn: respond, user: interactionUser(i)}
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

// handle routes the interaction to its handler.
func (c *call) handle() {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("handler panicked", "panic", fmt.Sprint(r))
			c.replyEphemeral("Something went wrong on our side. Please try again.")
		}
	}()
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
			c.sources()
		case cmdReload:
			c.reload()
		default:
			c.log.Warn("unknown command")
			c.replyEphemeral("I don't know that command. It may have been removed; try /ask.")
		}
	case discordgo.InteractionMessageComponent:
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
	ctx, cancel := context.WithTimeout(c.ctx, replyTimeout)
	defer cancel()
	if err := c.respondFn(ctx, r); err != nil {
		err = c.redact(err)
		c.log.Error("could not respond to the interaction", "type", int(r.Type), "err", err)
		return fmt.Errorf("respond: %w", err)
	}
	return nil
}

// edit replaces the original response (after a deferral).
func (c *call) edit(e *discordgo.WebhookEdit) error {
	e.AllowedMentions = noMentions()
	ctx, cancel := context.WithTimeout(c.ctx, replyTimeout)
	defer cancel()
	if _, err := c.rest.InteractionResponseEdit(c.i, e, discordgo.WithContext(ctx)); err != nil {
		err = c.redact(err)
		c.log.Error("could not edit the response", "err", err)
		return fmt.Errorf("edit response: %w", err)
	}
	return nil
}

// deleteOriginal removes the original response.
func (c *call) deleteOriginal() error {
	ctx, cancel := context.WithTimeout(c.ctx, replyTimeout)
	defer cancel()
	if err := c.rest.InteractionResponseDelete(c.i, discordgo.WithContext(ctx)); err != nil {
		err = c.redact(err)
		c.log.Error("could not delete the response", "err", err)
		return fmt.Errorf("delete response: %w", err)
	}
	return nil
}

// followup sends another message after the first.
func (c *call) followup(p *discordgo.WebhookParams) error {
	p.AllowedMentions = noMentions()
	ctx, cancel := context.WithTimeout(c.ctx, replyTimeout)
	defer cancel()
	if _, err := c.rest.FollowupMessageCreate(c.i, true, p, discordgo.WithContext(ctx)); err != nil {
		err = c.redact(err)
		c.log.Error("could not send a followup", "err", err)
		return fmt.Errorf("followup: %w", err)
	}
	return nil
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
// for 15 minutes, out of errors before they are logged: net/http errors
// quote the webhook URL that carries it.
func (c *call) redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s %s: %w", uerr.Op, redactToken(uerr.URL, c.i.Token), uerr.Err)
	}
	if c.i.Token != "" && strings.Contains(err.Error(), c.i.Token) {
		return errors.New(redactToken(err.Error(), c.i.Token))
	}
	return err
}

func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<interaction-token>")
}
