package bot_test

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/metrics"
	"storybot/retrieval"
)

// Faults: what the bot does when Discord misbehaves (gateway drops, 429s,
// 5xx, a revoked token) and when its own code panics.

// faultMetrics is fakeMetrics that also counts failures (bot.FailureMetrics).
type faultMetrics struct {
	*fakeMetrics
	fmu      sync.Mutex
	failures map[string]int
}

func (m *faultMetrics) Failure(kind string) {
	m.fmu.Lock()
	defer m.fmu.Unlock()
	m.failures[kind]++
}

func (m *faultMetrics) failure(kind string) int {
	m.fmu.Lock()
	defer m.fmu.Unlock()
	return m.failures[kind]
}

// signalLog is a log sink that wakes waitLog on every write.
type signalLog struct {
	buf *syncBuffer
	mu  sync.Mutex
	ch  chan struct{} // closed and replaced on every write
}

func (l *signalLog) Write(p []byte) (int, error) {
	n, err := l.buf.Write(p)
	l.mu.Lock()
	close(l.ch)
	l.ch = make(chan struct{})
	l.mu.Unlock()
	return n, err
}

func (l *signalLog) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ch
}

// runOpts tune startRun.
type runOpts struct {
	fake  discordtest.Config
	token string // default testToken
	// metrics, if set, makes the bot's Metrics from the counting one.
	metrics func(*faultMetrics) bot.Metrics
	// session, if set, changes the session before Run.
	session func(*discordgo.Session)
}

// run is a bot under Run against a fake Discord, keeping the session and
// Run's result for tests that end Run with a fault.
type run struct {
	*env
	log  *signalLog
	s    *discordgo.Session
	fm   *faultMetrics
	errc chan error
	// Run's result, once result has read it.
	returned bool
}

// startRun is start with the fake, token and session under the test's
// control. It returns once the commands are registered and the gateway
// connection has settled (faults may be injected).
func startRun(t *testing.T, o runOpts, cfg bot.Config) *run {
	t.Helper()
	if o.token == "" {
		o.token = testToken
	}
	f := discordtest.New(t, o.fake)
	logs, m := newHarness(t, &cfg)
	sl := &signalLog{buf: logs, ch: make(chan struct{})}
	cfg.Log = slog.New(slog.NewJSONHandler(sl, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fm := &faultMetrics{fakeMetrics: m, failures: map[string]int{}}
	cfg.Metrics = fm
	if o.metrics != nil {
		cfg.Metrics = o.metrics(fm)
	}
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.NewSession(o.token)
	if err != nil {
		t.Fatal(err)
	}
	if o.session != nil {
		o.session(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{
		env: &env{t: t, f: f, bot: b, logs: logs, metrics: m, allowStatus: map[int]bool{}},
		log: sl, s: s, fm: fm, errc: make(chan error, 1),
	}
	go func() { r.errc <- b.Run(ctx, s) }()
	if _, err := f.WaitFor(waitCtx(t), discordtest.OnRoute(discordtest.RouteGlobalCommands)); err != nil {
		cancel()
		t.Fatalf("commands never registered: %v (Run: %v)", err, <-r.errc)
	}
	if err := f.WaitReady(waitCtx(t)); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if !r.returned {
			select {
			case err := <-r.errc:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return after cancel")
			}
		}
		r.checkWire()
	})
	return r
}

// result waits for Run to return on its own.
func (r *run) result() error {
	r.t.Helper()
	select {
	case err := <-r.errc:
		r.returned = true
		return err
	case <-time.After(30 * time.Second):
		r.t.Fatal("Run did not return")
		return nil
	}
}

// settle waits until every handler has finished: the way to observe that
// the bot gave up, without sleeping.
func (r *run) settle() {
	r.t.Helper()
	if err := r.bot.Shutdown(waitCtx(r.t)); err != nil {
		r.t.Fatal(err)
	}
}

// waitLog waits until a log line holds every one of parts.
func (r *run) waitLog(parts ...string) {
	r.t.Helper()
	ctx := waitCtx(r.t)
	for {
		ch := r.log.changed()
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
				return
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			r.t.Fatalf("no log line with %q:\n%s", parts, r.logs)
		}
	}
}

// requestsFor lists the requests on route for the interaction token.
func requestsFor(f *discordtest.Fake, token, route string) []discordtest.Request {
	var out []discordtest.Request
	for _, r := range f.Requests() {
		if r.Route == route && r.Params["token"] == token {
			out = append(out, r)
		}
	}
	return out
}

func statuses(reqs []discordtest.Request) []int {
	var out []int
	for _, r := range reqs {
		out = append(out, r.Status)
	}
	return out
}

// answered waits until the interaction's answer landed (a type 4 callback
// or an edit that succeeded; final would take a failed one) and checks it
// names the city engineer.
func (r *run) answered(p discordtest.Payload) {
	r.t.Helper()
	if _, err := r.f.WaitFor(waitCtx(r.t), func(q discordtest.Request) bool {
		if q.Params["token"] != p.Token() || q.Status >= 300 {
			return false
		}
		if q.Route == discordtest.RouteEditOriginal {
			return true
		}
		var cb callbackBody
		return q.Route == discordtest.RouteCallback && q.Decode(&cb) == nil && cb.Type == 4
	}); err != nil {
		r.t.Fatalf("no answer: %v", err)
	}
	m, ok := r.f.Original(p.Token())
	if !ok {
		r.t.Fatal("no original message")
	}
	if e := answerEmbed(r.t, m); !strings.Contains(e.Description, "Dana Whitfield") {
		r.t.Errorf("answer %q does not name the engineer", e.Description)
	}
}

const question = "Who is the city engineer?"

var reader2 = discordtest.Caller{GuildID: guild, UserID: "1002", Username: "reader2"}

// TestGatewayFaultsThenAnswers: after each fault Discord's gateway
// produces, the bot gets a live session back (resuming or identifying as
// the fault requires) and answers the next /ask. The time from the fault
// to that answer is logged (LATENCY lines), not asserted beyond a bound.
func TestGatewayFaultsThenAnswers(t *testing.T) {
	t.Parallel()
	lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
	// newConn: a fresh connection is the only one open, and settled.
	newConn := func(b, a discordtest.GatewayStats) bool {
		return a.Connections > b.Connections && a.Open == 1 && a.Settled == 1
	}
	resumed := func(t *testing.T, f *discordtest.Fake, b, a discordtest.GatewayStats) {
		t.Helper()
		rs := f.Resumes()
		if a.Identifies != b.Identifies || a.Resumed != b.Resumed+1 || len(rs) == 0 || !rs[len(rs)-1].Known {
			t.Errorf("want one accepted RESUME and no IDENTIFY: before %+v after %+v resumes %+v", b, a, rs)
		}
	}
	cases := []struct {
		name  string
		hb    time.Duration // heartbeat interval; 0 is Discord's 41.25s
		fault func(*discordtest.Fake) int
		back  func(before, after discordtest.GatewayStats) bool
		check func(t *testing.T, f *discordtest.Fake, before, after discordtest.GatewayStats)
	}{
		{
			name:  "close 4000",
			fault: func(f *discordtest.Fake) int { return f.CloseGateway(4000) },
			back: func(b, a discordtest.GatewayStats) bool {
				return newConn(b, a) && a.Resumed > b.Resumed
			},
			check: resumed,
		},
		{
			name:  "op 7 reconnect",
			fault: func(f *discordtest.Fake) int { return f.SendReconnect() },
			back: func(b, a discordtest.GatewayStats) bool {
				return newConn(b, a) && a.Resumed > b.Resumed
			},
			check: resumed,
		},
		{
			name:  "op 9 invalid session",
			fault: func(f *discordtest.Fake) int { return f.SendInvalidSession(false) },
			back: func(b, a discordtest.GatewayStats) bool {
				return a.Readies > b.Readies && a.Open == 1 && a.Settled == 1
			},
			check: func(t *testing.T, _ *discordtest.Fake, b, a discordtest.GatewayStats) {
				if a.Identifies != b.Identifies+1 || a.Resumes != b.Resumes || a.Connections != b.Connections {
					t.Errorf("want one IDENTIFY on the same connection: before %+v after %+v", b, a)
				}
			},
		},
		{
			// discordgo ignores d and identifies on the live connection;
			// Discord (and the fake) close it with 4005, and discordgo
			// reconnects and resumes.
			name:  "op 9 invalid session, resumable",
			fault: func(f *discordtest.Fake) int { return f.SendInvalidSession(true) },
			back: func(b, a discordtest.GatewayStats) bool {
				return newConn(b, a) && a.Resumed > b.Resumed
			},
			check: func(t *testing.T, _ *discordtest.Fake, b, a discordtest.GatewayStats) {
				if a.Resumed != b.Resumed+1 {
					t.Errorf("want a RESUME after the refused IDENTIFY: before %+v after %+v", b, a)
				}
			},
		},
		{
			// discordgo gives up after 5 intervals without an ACK and
			// closes with 1000, which ends the session: the RESUME is
			// refused and it identifies.
			name:  "heartbeat ACKs stop",
			hb:    250 * time.Millisecond,
			fault: func(f *discordtest.Fake) int { return f.StopHeartbeatAcks() },
			back: func(b, a discordtest.GatewayStats) bool {
				return newConn(b, a) && a.Readies > b.Readies
			},
			check: func(t *testing.T, _ *discordtest.Fake, b, a discordtest.GatewayStats) {
				if a.Identifies != b.Identifies+1 || a.Connections < b.Connections+1 {
					t.Errorf("want a new connection and one IDENTIFY: before %+v after %+v", b, a)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRun(t, runOpts{fake: discordtest.Config{HeartbeatInterval: tc.hb}}, bot.Config{Library: lib})
			r.answered(r.ask(question, member))

			before := r.f.GatewayStats()
			faulted := time.Now()
			if n := tc.fault(r.f); n != 1 {
				t.Fatalf("the fault hit %d connections, want 1", n)
			}
			after, err := r.f.WaitGateway(waitCtx(t), func(st discordtest.GatewayStats) bool { return tc.back(before, st) })
			if err != nil {
				t.Fatalf("no live session after the fault: %v", err)
			}
			back := time.Since(faulted)
			r.answered(r.ask(question, member))
			took := time.Since(faulted)
			t.Logf("LATENCY %s: session back after %v, first good answer %v after the fault", tc.name, back.Round(time.Millisecond), took.Round(time.Millisecond))
			if took > 30*time.Second {
				t.Errorf("first answer %v after the fault", took)
			}
			tc.check(t, r.f, before, after)
		})
	}
}

// TestCallbackRateLimit: a 429 on the initial response is waited out only
// if the retry still lands within Discord's 3-second deadline; otherwise
// the bot gives up at once (discordgo would sleep through it
// uncancellably), logs and counts it, and other interactions go on.
func TestCallbackRateLimit(t *testing.T) {
	t.Parallel()

	t.Run("short retry_after is waited out", func(t *testing.T) {
		t.Parallel()
		r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), &countingEmbedder{})})
		r.allowStatus[http.StatusTooManyRequests] = true
		r.f.FailNext(discordtest.RouteCallback, 1, discordtest.RateLimited(200*time.Millisecond, false))
		dispatched := time.Now()
		p := r.ask(question, member)
		r.answered(p)
		calls := requestsFor(r.f, p.Token(), discordtest.RouteCallback)
		if len(calls) != 2 || calls[0].Status != http.StatusTooManyRequests || calls[1].Status >= 300 {
			t.Fatalf("callbacks %v, want a 429 then a success", statuses(calls))
		}
		if gap := calls[1].Time.Sub(calls[0].Time); gap < 200*time.Millisecond {
			t.Errorf("retried %v after the 429, before its retry_after", gap)
		}
		if took := calls[1].Time.Sub(dispatched); took > 3*time.Second {
			t.Errorf("answered %v after the interaction, past the deadline", took)
		}
		if got := r.fm.failure("reply_lost"); got != 0 {
			t.Errorf("%d replies counted lost", got)
		}
	})

	t.Run("long retry_after gives up at once", func(t *testing.T) {
		t.Parallel()
		emb := &countingEmbedder{}
		r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), emb), DeferAfter: 50 * time.Millisecond})
		r.allowStatus[http.StatusTooManyRequests] = true
		release := emb.hold()
		defer release()
		r.f.FailNext(discordtest.RouteCallback, 1, discordtest.RateLimited(5*time.Second, false))
		dispatched := time.Now()
		p := r.ask(question, member)
		r.waitLog("giving up on a reply", p.ID())
		r.settle()
		gaveUp := time.Since(dispatched)
		t.Logf("gave up %v after the interaction arrived (retry_after 5s)", gaveUp.Round(time.Millisecond))
		if gaveUp > 2500*time.Millisecond {
			t.Errorf("took %v to give up on a 5s rate limit", gaveUp)
		}
		calls := requestsFor(r.f, p.Token(), discordtest.RouteCallback)
		if len(calls) != 1 {
			t.Errorf("callbacks %v, want the one 429 and no retry", statuses(calls))
		}
		if logs := r.logs.String(); !strings.Contains(logs, "giving up on a reply") || !strings.Contains(logs, p.ID()) {
			t.Errorf("no give-up line naming the interaction in the logs:\n%s", logs)
		}
		if r.metrics.question("error") != 1 || r.fm.failure("reply_lost") != 1 {
			t.Errorf("questions %+v failures %+v, want one error and one lost reply", r.metrics.questions, r.fm.failures)
		}

		// Another interaction, while the first one's rate limit lasts, is
		// acknowledged and answered as usual.
		p2 := r.ask(question, reader2)
		cb, body := r.callback(p2)
		if body.Type != 5 || cb.Time.After(calls[0].Time.Add(5*time.Second)) {
			t.Errorf("second interaction: callback type %d at %v", body.Type, cb.Time.Sub(calls[0].Time))
		}
		release()
		r.answered(p2)
	})

	t.Run("global rate limit past the deadline: nothing sent", func(t *testing.T) {
		t.Parallel()
		r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), &countingEmbedder{})})
		r.allowStatus[http.StatusTooManyRequests] = true
		r.f.FailNext(discordtest.RouteCallback, 1, discordtest.RateLimited(5*time.Second, true))
		p1 := r.ask(question, member)
		r.waitLog("giving up on a reply", p1.ID())
		// discordgo now blocks every request for 5s; a callback sent
		// after that would be refused, so the bot does not send it.
		dispatched := time.Now()
		p2 := r.ask(question, reader2)
		r.waitLog("giving up on a reply", p2.ID(), "rate limits the bot globally")
		r.settle()
		if took := time.Since(dispatched); took > 2500*time.Millisecond {
			t.Errorf("took %v to give up under a 5s global rate limit", took)
		}
		if calls := requestsFor(r.f, p2.Token(), discordtest.RouteCallback); len(calls) != 0 {
			t.Errorf("callbacks %v sent under a global rate limit past the deadline", statuses(calls))
		}
		if got := r.fm.failure("reply_lost"); got != 2 {
			t.Errorf("%d replies counted lost, want 2", got)
		}
	})
}

// deferredAsk asks with the embedder held, so the bot defers, and waits
// for the deferral; release lets the answer (an edit) go.
func (r *run) deferredAsk(emb *countingEmbedder, c discordtest.Caller) (p discordtest.Payload, release func()) {
	r.t.Helper()
	release = emb.hold()
	r.t.Cleanup(release)
	p = r.ask(question, c)
	if _, cb := r.callback(p); cb.Type != 5 {
		r.t.Fatalf("callback type %d, want a deferral", cb.Type)
	}
	return p, release
}

// TestEditRetries: an edit after a deferral is retried on 5xx with growing
// waits, and on 429 after retry_after, both within bounds; beyond them the
// bot gives up with a log line and a count.
func TestEditRetries(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*run, *countingEmbedder) {
		emb := &countingEmbedder{}
		r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), emb), DeferAfter: 50 * time.Millisecond})
		for _, s := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway} {
			r.allowStatus[s] = true
		}
		return r, emb
	}
	landed := func(r *run, p discordtest.Payload) []discordtest.Request {
		r.t.Helper()
		if _, err := r.f.WaitFor(waitCtx(r.t), func(q discordtest.Request) bool {
			return forToken(p.Token(), discordtest.RouteEditOriginal)(q) && q.Status == http.StatusOK
		}); err != nil {
			r.t.Fatalf("the edit never landed: %v", err)
		}
		m, ok := r.f.Original(p.Token())
		if !ok || len(m.Embeds) != 1 || !strings.Contains(m.Embeds[0].Description, "Dana Whitfield") {
			r.t.Errorf("after the edit the message is %+v", m)
		}
		return requestsFor(r.f, p.Token(), discordtest.RouteEditOriginal)
	}

	t.Run("5xx retried with backoff", func(t *testing.T) {
		t.Parallel()
		r, emb := setup(t)
		p, release := r.deferredAsk(emb, member)
		r.f.FailNext(discordtest.RouteEditOriginal, 1, discordtest.ErrorResponse(http.StatusInternalServerError, 0, "500: Internal Server Error"))
		r.f.FailNext(discordtest.RouteEditOriginal, 1, discordtest.ErrorResponse(http.StatusBadGateway, 0, "502: Bad Gateway"))
		release()
		edits := landed(r, p)
		if got := statuses(edits); !slices.Equal(got, []int{500, 502, 200}) {
			t.Fatalf("edits %v, want 500, 502, then 200", got)
		}
		// Each wait at least the backoff: 250ms, then 500ms.
		for i, min := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond} {
			if gap := edits[i+1].Time.Sub(edits[i].Time); gap < min {
				t.Errorf("retry %d came %v after the failure, want at least %v", i+1, gap, min)
			}
		}
		if r.fm.failure("reply_lost") != 0 {
			t.Error("a reply that landed was counted lost")
		}
	})

	t.Run("5xx gives up after 4 attempts", func(t *testing.T) {
		t.Parallel()
		r, emb := setup(t)
		p, release := r.deferredAsk(emb, member)
		r.f.FailNext(discordtest.RouteEditOriginal, 10, discordtest.ErrorResponse(http.StatusInternalServerError, 0, "500: Internal Server Error"))
		release()
		r.waitLog("giving up on a reply", p.ID())
		r.settle()
		edits := requestsFor(r.f, p.Token(), discordtest.RouteEditOriginal)
		if len(edits) != 4 {
			t.Errorf("%d edit attempts %v, want exactly 4", len(edits), statuses(edits))
		}
		logs := r.logs.String()
		if !strings.Contains(logs, "giving up on a reply") || !strings.Contains(logs, `"attempts":4`) {
			t.Errorf("no give-up line after 4 attempts:\n%s", logs)
		}
		if r.fm.failure("reply_lost") != 1 {
			t.Errorf("failures %+v, want one lost reply", r.fm.failures)
		}
	})

	t.Run("429 waits retry_after", func(t *testing.T) {
		t.Parallel()
		r, emb := setup(t)
		p, release := r.deferredAsk(emb, member)
		r.f.FailNext(discordtest.RouteEditOriginal, 1, discordtest.RateLimited(300*time.Millisecond, false))
		release()
		edits := landed(r, p)
		if len(edits) != 2 || edits[0].Status != http.StatusTooManyRequests {
			t.Fatalf("edits %v, want a 429 then 200", statuses(edits))
		}
		if gap := edits[1].Time.Sub(edits[0].Time); gap < 300*time.Millisecond {
			t.Errorf("retried %v after the 429, before its retry_after", gap)
		}
	})

	t.Run("429 longer than the bound gives up", func(t *testing.T) {
		t.Parallel()
		r, emb := setup(t)
		p, release := r.deferredAsk(emb, member)
		r.f.FailNext(discordtest.RouteEditOriginal, 1, discordtest.RateLimited(time.Minute, false))
		release()
		r.waitLog("giving up on a reply", p.ID())
		r.settle()
		if edits := requestsFor(r.f, p.Token(), discordtest.RouteEditOriginal); len(edits) != 1 {
			t.Errorf("edits %v, want the one 429", statuses(edits))
		}
		if !strings.Contains(r.logs.String(), "rate limited for 1m0s") {
			t.Errorf("no give-up line for the long rate limit:\n%s", r.logs)
		}
	})

	// discordgo puts the edits of all interactions in one rate-limit
	// bucket and holds its lock for the whole request; the bot keys them
	// per interaction, so a slow edit does not hold up the others.
	t.Run("edits of different interactions do not queue", func(t *testing.T) {
		t.Parallel()
		r, emb := setup(t)
		r.f.SetDelay(discordtest.RouteEditOriginal, 3*time.Second)
		release := emb.hold()
		defer release()
		p1, p2 := r.ask(question, member), r.ask(question, reader2)
		for _, p := range []discordtest.Payload{p1, p2} {
			if _, cb := r.callback(p); cb.Type != 5 {
				t.Fatalf("callback type %d, want a deferral", cb.Type)
			}
		}
		release()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, p := range []discordtest.Payload{p1, p2} {
			if _, err := r.f.WaitFor(ctx, forToken(p.Token(), discordtest.RouteEditOriginal)); err != nil {
				t.Fatalf("both edits were not sent within 2s of each other (the fake holds each 3s): %v", err)
			}
		}
	})
}

// TestTokenRejectedMidSession: a dropped gateway after which REST says the
// bot token is bad (what a reset token does: gateway close 4004) ends Run
// promptly with an error that says so, and nothing more is sent to
// Discord: not by the handlers, not by discordgo's reconnect loop. A 401
// on an interaction's own routes is not this: see
// TestInteractionTokenRejectedEndsOnlyThatInteraction.
func TestTokenRejectedMidSession(t *testing.T) {
	t.Parallel()
	unauthorized := discordtest.ErrorResponse(http.StatusUnauthorized, 0, "401: Unauthorized")
	cases := []struct {
		name  string
		fault func(r *run, emb *countingEmbedder)
	}{
		// The fake cannot revoke a token mid-session; REST saying 401
		// after the gateway closed with 4004 is what a reset token does.
		{"gateway 4004", func(r *run, _ *countingEmbedder) {
			r.f.FailNext(discordtest.RouteUsersMe, 1, unauthorized)
			if n := r.f.CloseGateway(4004); n != 1 {
				r.t.Fatalf("closed %d connections", n)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emb := &countingEmbedder{}
			r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), emb), DeferAfter: 50 * time.Millisecond})
			r.allowStatus[http.StatusUnauthorized] = true
			faulted := time.Now()
			tc.fault(r, emb)
			rejected, err := r.f.WaitFor(waitCtx(t), func(q discordtest.Request) bool { return q.Status == http.StatusUnauthorized })
			if err != nil {
				t.Fatal(err)
			}
			runErr := r.result()
			took := time.Since(faulted)
			t.Logf("Run returned %v after the fault: %v", took.Round(time.Millisecond), runErr)
			if runErr == nil || !strings.Contains(runErr.Error(), "rejected the bot token") || !strings.Contains(runErr.Error(), "401") {
				t.Errorf("Run = %v, want a rejected-token error", runErr)
			}
			if took > 10*time.Second {
				t.Errorf("Run took %v to stop", took)
			}
			select {
			case <-r.bot.Fatal():
			default:
				t.Error("Fatal is not closed")
			}

			for _, q := range r.f.Requests() {
				if q.Time.After(rejected.Time) {
					t.Errorf("sent after the 401: %v", q)
				}
			}
			// A reconnect racing the 401 may identify once more; no more.
			n := 0
			for _, id := range r.f.Identifies() {
				if id.Time.After(faulted) {
					n++
				}
			}
			if n > 1 {
				t.Errorf("%d IDENTIFYs after the fault", n)
			}

			// What discordgo's reconnect loop would do next is refused
			// before it reaches Discord: with the gateway URL cached, and
			// without (GET /gateway first).
			before, reqs := r.f.GatewayStats(), len(r.f.Requests())
			for range 2 {
				if err := r.s.Open(); err == nil {
					t.Fatal("the session opened again after the token was rejected")
				}
			}
			if after := r.f.GatewayStats(); after.Connections != before.Connections || len(r.f.Requests()) != reqs {
				t.Errorf("reopening reached Discord: %+v, %d requests (was %d)", after, len(r.f.Requests()), reqs)
			}
		})
	}
}

// panickyEmbedder embeds the stories, then, once armed, panics on
// questions: a provider client with a bug. The panic quotes a secret, as
// a careless library might.
type panickyEmbedder struct {
	countingEmbedder
	armed  atomic.Bool
	secret string
}

func (e *panickyEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 1 && e.armed.Load() {
		panic("embedder: nil response from https://api.example.com (key " + e.secret + ")")
	}
	return e.countingEmbedder.Embed(ctx, texts)
}

// TestPanicsAreRecovered: a panic while answering (on the goroutine that
// runs the embedder) or in a handler (here a Reload) is logged with the
// interaction id, counted, told to the user, and the bot goes on serving.
func TestPanicsAreRecovered(t *testing.T) {
	t.Parallel()

	t.Run("while answering", func(t *testing.T) {
		t.Parallel()
		emb := &panickyEmbedder{}
		r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), emb)})
		emb.armed.Store(true)
		p := r.ask(question, member)
		m, _ := r.final(p)
		if !strings.Contains(m.Content, "Something went wrong") || m.Flags&discordgo.MessageFlagsEphemeral == 0 {
			t.Errorf("the user got %q (flags %d), want an ephemeral apology", m.Content, m.Flags)
		}
		logs := r.logs.String()
		if !strings.Contains(logs, "answering panicked") || !strings.Contains(logs, `"interaction":"`+p.ID()+`"`) || !strings.Contains(logs, "panickyEmbedder") {
			t.Errorf("no panic line with the interaction id and the stack:\n%s", logs)
		}
		if strings.Contains(logs, p.Token()) {
			t.Error("the interaction token is in the logs")
		}
		if r.metrics.question("error") != 1 || r.fm.failure("panic") != 1 {
			t.Errorf("questions %+v failures %+v, want one error and one panic", r.metrics.questions, r.fm.failures)
		}
		emb.armed.Store(false)
		r.answered(r.ask(question, member))
	})

	t.Run("in a handler after deferring", func(t *testing.T) {
		t.Parallel()
		lib := folderLibrary(t, writeStories(t), &countingEmbedder{})
		r := startRun(t, runOpts{}, bot.Config{Library: lib, Reload: func(context.Context) (_ retrieval.ReloadReport, _ error) {
			var stories map[string]int
			stories["alpha"]++ // a nil map: a bug in the reload
			return
		}})
		p := r.dispatch(r.f.SlashCommand("reload", nil, moderator))
		m, _ := r.final(p)
		if !strings.Contains(m.Content, "Something went wrong on our side") {
			t.Errorf("after the panic the reply is %q", m.Content)
		}
		logs := r.logs.String()
		if !strings.Contains(logs, "handler panicked") || !strings.Contains(logs, `"interaction":"`+p.ID()+`"`) || !strings.Contains(logs, "assignment to entry in nil map") {
			t.Errorf("no panic line with the interaction id:\n%s", logs)
		}
		if r.fm.failure("panic") != 1 {
			t.Errorf("failures %+v, want one panic", r.fm.failures)
		}
		r.answered(r.ask(question, member))
	})
}

// teeMetrics reports to several Metrics.
type teeMetrics []bot.Metrics

func (t teeMetrics) Question(o string, d time.Duration) {
	for _, m := range t {
		m.Question(o, d)
	}
}

func (t teeMetrics) Feedback(up bool) {
	for _, m := range t {
		m.Feedback(up)
	}
}

func (t teeMetrics) Fallback() {
	for _, m := range t {
		m.Fallback()
	}
}

func (t teeMetrics) Failure(kind string) {
	for _, m := range t {
		if f, ok := m.(bot.FailureMetrics); ok {
			f.Failure(kind)
		}
	}
}

// TestTokenNeverLeaks runs a bot through a normal answer, a 500, a panic
// that quotes the token, a dropped gateway and finally a 401, with
// discordgo's debug output asked for, and greps everything it produced:
// its logs, discordgo's (the standard logger), Run's error and /metrics.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const secret = "FAKE.TOKEN-VALUE-MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"
	var dglog syncBuffer
	prev := log.Writer()
	log.SetOutput(io.MultiWriter(prev, &dglog))
	t.Cleanup(func() { log.SetOutput(prev) })

	emb := &panickyEmbedder{secret: secret}
	prom := metrics.New()
	reload := func(context.Context) (retrieval.ReloadReport, error) {
		return retrieval.ReloadReport{}, errors.New("load stories: config dump: token=" + secret)
	}
	r := startRun(t, runOpts{
		fake:    discordtest.Config{Token: secret},
		token:   "Bot " + secret,
		metrics: func(fm *faultMetrics) bot.Metrics { return teeMetrics{fm, prom} },
		session: func(s *discordgo.Session) {
			// What a debugging operator might set; Run must undo it.
			s.Debug = true
			s.LogLevel = discordgo.LogDebug
		},
	}, bot.Config{Library: folderLibrary(t, writeStories(t), emb), Reload: reload, PerUserPerMinute: 100})
	for _, s := range []int{http.StatusInternalServerError, http.StatusUnauthorized} {
		r.allowStatus[s] = true
	}
	r.s.RLock()
	level, debug := r.s.LogLevel, r.s.Debug
	r.s.RUnlock()
	if level >= discordgo.LogDebug || debug {
		t.Errorf("after Run started: LogLevel %d, Debug %v; discordgo's debug output prints the token", level, debug)
	}

	var tokens []string
	ask := func(c discordtest.Caller) discordtest.Payload {
		p := r.ask(question, c)
		tokens = append(tokens, p.Token())
		return p
	}
	r.answered(ask(member))

	r.f.FailNext(discordtest.RouteEditOriginal, 1, discordtest.ErrorResponse(http.StatusInternalServerError, 0, "500: Internal Server Error"))
	p, release := r.deferredAsk(emb.asCounting(), member)
	tokens = append(tokens, p.Token())
	release()
	r.answered(p)

	emb.armed.Store(true)
	m, _ := r.final(ask(member))
	if !strings.Contains(m.Content, "Something went wrong") {
		t.Errorf("after the panic the user got %q", m.Content)
	}
	emb.armed.Store(false)

	rl := r.dispatch(r.f.SlashCommand("reload", nil, moderator))
	tokens = append(tokens, rl.Token())
	if m, _ := r.final(rl); !strings.Contains(m.Content, "Reload failed") {
		t.Errorf("reload reply %q", m.Content)
	}

	before := r.f.GatewayStats()
	r.f.CloseGateway(4000)
	if _, err := r.f.WaitGateway(waitCtx(t), func(st discordtest.GatewayStats) bool {
		return st.Resumed > before.Resumed && st.Open == 1 && st.Settled == 1
	}); err != nil {
		t.Fatal(err)
	}
	r.answered(ask(member))

	// A 401 on an interaction's route ends only that interaction; the
	// bot token is found bad when REST refuses it after a 4004.
	r.f.FailNext(discordtest.RouteCallback, 1, discordtest.ErrorResponse(http.StatusUnauthorized, 0, "401: Unauthorized"))
	ask(member)
	r.waitLog("this interaction ends")
	r.f.FailNext(discordtest.RouteUsersMe, 1, discordtest.ErrorResponse(http.StatusUnauthorized, 0, "401: Unauthorized"))
	r.f.CloseGateway(4004)
	runErr := r.result()
	if runErr == nil {
		t.Fatal("Run went on after the bot token was refused")
	}

	rec := httptest.NewRecorder()
	prom.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	outputs := map[string]string{
		"bot logs":       r.logs.String(),
		"discordgo logs": dglog.String(),
		"Run's error":    runErr.Error(),
		"/metrics":       rec.Body.String(),
	}
	var bodies strings.Builder
	for _, q := range r.f.Requests() {
		bodies.Write(q.Body)
		bodies.WriteString(q.Path)
	}
	outputs["messages sent to Discord"] = bodies.String()
	for what, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("the bot token is in %s", what)
		}
		for _, tok := range tokens {
			if what != "messages sent to Discord" && strings.Contains(out, tok) {
				t.Errorf("an interaction token is in %s", what)
			}
		}
	}
	// Not vacuous: the panic quoted the token and was logged redacted;
	// discordgo did log (the dropped gateway); /metrics was served.
	if !strings.Contains(outputs["bot logs"], "(key <redacted>)") || !strings.Contains(outputs["bot logs"], "token=<redacted>") {
		t.Error("the panic or reload line with the redacted token is missing")
	}
	if !strings.Contains(outputs["discordgo logs"], "[DG") {
		t.Error("captured nothing from discordgo")
	}
	if !strings.Contains(outputs["/metrics"], "storybot_questions_total") {
		t.Error("/metrics served nothing")
	}
}

// asCounting gives deferredAsk the embedder's hold.
func (e *panickyEmbedder) asCounting() *countingEmbedder { return &e.countingEmbedder }
