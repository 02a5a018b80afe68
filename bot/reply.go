// The reply transport: every response, edit and followup goes through send,
// which sets allowed_mentions, keeps the interaction token's deadlines and
// retries within a policy that suits each call.

package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

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
		// A retry sends the files again from their start.
		for _, f := range e.Files {
			if s, ok := f.Reader.(io.Seeker); ok {
				if _, err := s.Seek(0, io.SeekStart); err != nil {
					return err
				}
			}
		}
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
