// The bot's lifecycle on the gateway: Run registers and serves until its
// context ends or Discord rejects the bot token (a 401 on a bot-token route,
// gateway close 4004), then drains the handlers in flight.

package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

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
	if err := b.register(ctx, s, appID, shardOwns(s), func(context.Context) ([]string, error) { return readyGuilds(s), nil }); err != nil {
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
