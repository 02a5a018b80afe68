// Package discordtest is a fake Discord that speaks the real protocol: a REST
// API and a websocket gateway on 127.0.0.1, good enough for an unmodified
// *discordgo.Session to Open(), receive interactions and answer them.
//
// Tests get what a mock cannot give them: the exact bytes discordgo put on
// the wire (Requests, WaitFor), a check of those bytes against Discord's own
// OpenAPI spec (CheckRequests), and the faults real Discord produces (rate
// limits, 5xx, dropped gateways, RECONNECT, INVALID_SESSION, missing
// heartbeat ACKs).
//
// A typical test:
//
//	f := discordtest.New(t, discordtest.Config{})
//	s, _ := f.NewSession("Bot token")
//	s.AddHandler(handler)
//	if err := s.Open(); err != nil { t.Fatal(err) }
//	f.DispatchInteraction(f.SlashCommand("ask", nil, discordtest.Caller{GuildID: "1"}))
//	f.WaitFor(ctx, discordtest.OnRoute(discordtest.RouteCallback))
//	for _, err := range f.SpecErrors() { t.Error(err) }
package discordtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Config tunes a Fake. The zero value is a working fake.
type Config struct {
	// AppID is the application id in READY and on every interaction.
	// Default: a fresh snowflake.
	AppID string
	// BotUserID is the bot user's id. Default: AppID, as for real bots.
	BotUserID string
	// BotUsername defaults to "storybot".
	BotUsername string
	// AppFlags is READY's application.flags, e.g. 1<<19 for the
	// message content intent. Default 0.
	AppFlags int

	// Guilds are the ids of the guilds the bot is in: READY lists them
	// and GET /users/@me/guilds returns them.
	Guilds []string

	// Shards is the shard count GET /gateway/bot recommends (default 1).
	// Above 1, the bot is in too many guilds for fewer shards: an
	// IDENTIFY without a shard, or with fewer shards, is closed with 4011
	// Sharding required, as Discord does past 2,500 guilds a shard.
	Shards int

	// Token, if set, is the only bot token accepted: REST routes that need
	// bot auth answer 401 without it and the gateway closes with 4004 on
	// IDENTIFY/RESUME. A "Bot " prefix is optional on both sides.
	Token string

	// HeartbeatInterval is sent in HELLO. Default 41.25s as on Discord;
	// tests of heartbeat handling set a few milliseconds. discordgo gives
	// up on a connection after 5 intervals without an ACK.
	HeartbeatInterval time.Duration

	// Compress sends every gateway frame as a zlib-compressed binary
	// message (what Discord does for identify "compress": true); by
	// default frames are plain text JSON.
	Compress bool

	// AckTimeout is how long after dispatch an interaction accepts its
	// initial callback; later callbacks get 404 Unknown interaction.
	// Zero means Discord's 3s; negative disables the deadline.
	AckTimeout time.Duration
}

// Fake is one fake Discord: a REST server and a gateway on the same
// 127.0.0.1 port. It is safe for concurrent use.
type Fake struct {
	tb  testing.TB
	cfg Config
	srv *httptest.Server

	rest restState
	gw   gatewayState
	ix   interactionRegistry
	cmds commandRegistry

	// Ids the interaction builders use when a Caller leaves them empty.
	defaultChannel, defaultDM, defaultUser string

	closeOnce sync.Once
	done      chan struct{} // closed by Close; unblocks delayed handlers

	// clockOffset moves the fake's clock (Now) ahead of the wall clock.
	clockOffset atomic.Int64
}

// Now is the fake's clock: the wall clock moved on by Advance. Interaction
// tokens expire on it (TokenLife after dispatch), and the acknowledgement
// deadline is measured on it.
func (f *Fake) Now() time.Time { return time.Now().Add(time.Duration(f.clockOffset.Load())) }

// Advance moves the fake's clock forward by d, so a test can reach an
// interaction token's 16th minute at once.
func (f *Fake) Advance(d time.Duration) { f.clockOffset.Add(int64(d)) }

// New starts a fake on 127.0.0.1 and closes it when the test ends.
// Sessions made with NewSession are closed before the fake.
func New(tb testing.TB, cfg Config) *Fake {
	tb.Helper()
	if cfg.AppID == "" {
		cfg.AppID = NewSnowflake()
	}
	if cfg.BotUserID == "" {
		cfg.BotUserID = cfg.AppID
	}
	if cfg.BotUsername == "" {
		cfg.BotUsername = "storybot"
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 41250 * time.Millisecond
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = 3 * time.Second
	}
	f := &Fake{
		tb: tb, cfg: cfg, done: make(chan struct{}),
		defaultChannel: NewSnowflake(), defaultDM: NewSnowflake(), defaultUser: NewSnowflake(),
	}
	f.rest.init()
	f.gw.init()
	f.ix.init()
	f.cmds.init()

	mux := http.NewServeMux()
	f.routes(mux)
	mux.HandleFunc("GET "+gatewayPath+"/", f.serveGateway)
	mux.HandleFunc("GET "+gatewayPath, f.serveGateway)
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.Close)
	return f
}

// Close drops every gateway connection and stops the server. It is safe to
// call more than once.
func (f *Fake) Close() {
	f.closeOnce.Do(func() {
		close(f.done)
		f.gw.closeAll(websocket.CloseGoingAway)
		f.srv.Close()
	})
}

// AppID is the application id the fake reports in READY and interactions.
func (f *Fake) AppID() string { return f.cfg.AppID }

// BotUserID is the bot user's id.
func (f *Fake) BotUserID() string { return f.cfg.BotUserID }

// URL is the fake's base URL, e.g. http://127.0.0.1:41234.
func (f *Fake) URL() string { return f.srv.URL }

// GatewayURL is what GET /gateway returns: the fake's websocket endpoint.
func (f *Fake) GatewayURL() string {
	return "ws://" + strings.TrimPrefix(f.srv.URL, "http://") + gatewayPath
}

// Client returns an http.Client that sends every request, whatever its URL,
// to the fake. discordgo builds URLs from package-level vars
// (discordgo.EndpointAPI = "https://discord.com/api/v9/"); rewriting in the
// transport leaves those globals alone, so parallel tests don't interfere.
// The original host is kept in the Host header and recorded in Request.Host.
func (f *Fake) Client() *http.Client {
	return &http.Client{
		Transport: rewriteTransport{base: f.srv.Client().Transport, host: f.srv.Listener.Addr().String()},
		Timeout:   20 * time.Second, // discordgo's own default
	}
}

type rewriteTransport struct {
	base http.RoundTripper
	host string
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Scheme = "http"
	r2.URL.Host = t.host
	return t.base.RoundTrip(r2)
}

// NewSession returns a discordgo session wired to the fake: Client is
// Client(), and Open() finds the fake's websocket through GET /gateway.
// Everything else is discordgo's default, including
// ShouldReconnectOnError = true; set that field to false before Open() to
// test a bot that must not reconnect. The session is closed when the test
// ends, before the fake (discordgo's Close sleeps 1s when connected).
func (f *Fake) NewSession(token string) (*discordgo.Session, error) {
	s, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("discordtest: new session: %w", err)
	}
	s.Client = f.Client()
	// A dialer of our own: no proxy from the environment, and a handshake
	// timeout so a wedged fake fails the test instead of hanging it.
	s.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	f.tb.Cleanup(func() { f.closeSession(s) })
	return s, nil
}

// closeSession closes s at the end of a test without letting it come back.
// discordgo v0.29's heartbeat goroutine can outlive Close: if it has not
// sent its first heartbeat yet, or its ticker fires as Close runs, it
// writes to the closed socket and calls reconnect(), which would then
// retry forever against the closed fake. So: let the heartbeat loop start
// (see GatewayStats.Settled), and turn reconnection off first. The write
// is ordered before that goroutine's read by the session lock both take.
func (f *Fake) closeSession(s *discordgo.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = f.WaitGateway(ctx, func(st GatewayStats) bool { return st.Settled == st.Ready })
	s.ShouldReconnectOnError = false
	_ = s.Close()
}

// snowflakeSeq keeps snowflakes unique across fakes in one test binary.
var snowflakeSeq atomic.Uint64

// NewSnowflake returns a fresh, realistic Discord id: milliseconds since the
// Discord epoch in the top bits, a counter in the low 22.
func NewSnowflake() string {
	const discordEpochMs = 1420070400000
	ms := uint64(time.Now().UnixMilli() - discordEpochMs)
	return strconv.FormatUint(ms<<22|snowflakeSeq.Add(1)&(1<<22-1), 10)
}

// newToken returns an interaction token shaped like Discord's.
func newToken(id string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString([]byte("interaction:" + id + ":" + hex.EncodeToString(b)))
}

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// signal is a broadcast: waiters take the current channel, which is closed
// and replaced on every change.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
	}
	s.ch = make(chan struct{})
}

// tokenMatches compares bot tokens with or without the "Bot " prefix.
func tokenMatches(want, got string) bool {
	return strings.TrimPrefix(want, "Bot ") == strings.TrimPrefix(got, "Bot ")
}
