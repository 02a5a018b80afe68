package bot_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"storybot/bot"
	"storybot/bot/discordtest"
)

// movingClock is a time source a test moves forward.
type movingClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *movingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *movingClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// TestInteractionTokenRejectedEndsOnlyThatInteraction: a 401 or a 50027
// Invalid Webhook Token on an interaction's own routes (callback, edit)
// says the interaction token is dead, not the bot's: that interaction ends,
// logged, and the bot goes on answering. Before, one late edit stopped the
// whole bot ("Discord rejected the bot token").
func TestInteractionTokenRejectedEndsOnlyThatInteraction(t *testing.T) {
	t.Parallel()
	invalidWebhookToken := discordtest.ErrorResponse(http.StatusUnauthorized, 50027, "Invalid Webhook Token")
	cases := []struct {
		name  string
		fault func(r *run, emb *countingEmbedder) discordtest.Payload
	}{
		{"401 on the callback", func(r *run, _ *countingEmbedder) discordtest.Payload {
			r.f.FailNext(discordtest.RouteCallback, 1, discordtest.ErrorResponse(http.StatusUnauthorized, 0, "401: Unauthorized"))
			return r.ask(question, member)
		}},
		// The done-when case: Discord's clock (the fake's) reaches minute
		// 16 while the bot's has not, and the edit gets Discord's own
		// 401 50027 for an expired token.
		{"50027 on an edit at minute 16", func(r *run, emb *countingEmbedder) discordtest.Payload {
			p, release := r.deferredAsk(emb, member)
			r.f.Advance(16 * time.Minute)
			release()
			return p
		}},
		{"50027 on an edit", func(r *run, emb *countingEmbedder) discordtest.Payload {
			p, release := r.deferredAsk(emb, member)
			r.f.FailNext(discordtest.RouteEditOriginal, 1, invalidWebhookToken)
			release()
			return p
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emb := &countingEmbedder{}
			r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), emb), DeferAfter: 50 * time.Millisecond})
			r.allowStatus[http.StatusUnauthorized] = true
			p := tc.fault(r, emb)
			r.waitLog("this interaction ends", p.ID())
			r.settle()
			// Nothing more for that interaction: its token is dead.
			if n := len(requestsFor(r.f, p.Token(), discordtest.RouteFollowup)); n != 0 {
				t.Errorf("%d followups after the token was refused", n)
			}
			if err := r.bot.Err(); err != nil {
				t.Fatalf("the bot stopped: %v", err)
			}
			if got := r.fm.failure("reply_lost"); got != 1 {
				t.Errorf("%d replies counted lost, want 1", got)
			}
			r.answered(r.ask(question, reader2))
		})
	}
}

// TestLateEditIsDroppedNotSent: past the interaction token's 15 minutes
// the bot sends nothing to its routes (every such request is an invalid
// one, which Discord counts toward an IP ban) and logs what it dropped;
// the next /ask is answered.
func TestLateEditIsDroppedNotSent(t *testing.T) {
	t.Parallel()
	emb := &countingEmbedder{}
	clk := &movingClock{}
	r := startRun(t, runOpts{}, bot.Config{Library: folderLibrary(t, writeStories(t), emb), DeferAfter: 50 * time.Millisecond})
	bot.SetClock(r.bot, clk.now)
	p, release := r.deferredAsk(emb, member)
	clk.advance(16 * time.Minute)
	release()
	r.waitLog("reply dropped", "15-minute", p.ID(), "edit the response")
	r.settle()
	if n := len(requestsFor(r.f, p.Token(), discordtest.RouteEditOriginal)); n != 0 {
		t.Errorf("%d edits sent past the token's life", n)
	}
	if err := r.bot.Err(); err != nil {
		t.Fatalf("the bot stopped: %v", err)
	}
	r.answered(r.ask(question, reader2))
}
