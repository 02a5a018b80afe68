package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

// discordMarkup is what Discord's client writes into a question for a
// mention, a channel, a custom emoji, a command or a timestamp ("<@123…>",
// "<#…>", "<:wave:…>", "</ask:…>", "<t:1700000000:R>"), and the everyone
// and here pings. None of it is a word a story could hold: "@storybot who
// favors strikes?" asks "who favors strikes?".
var discordMarkup = regexp.MustCompile(`<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|/[\w -]+:\d+|t:-?\d+(?::[tTdDfFR])?)>|@(?:everyone|here)\b`)

// withoutMarkup is the question without Discord's markup, its spaces
// closed up.
func withoutMarkup(q string) string {
	if !strings.ContainsAny(q, "<@") {
		return q
	}
	return strings.Join(strings.Fields(discordMarkup.ReplaceAllString(q, " ")), " ")
}

type askResult struct {
	a   *retrieval.Answer
	err error
}

// ask answers a question. The answer is sent directly if it is ready within
// DeferAfter; otherwise the bot defers first and edits the answer in, so
// Discord's 3-second deadline is never missed however slow the embedder.
func (c *call) ask(question string, private bool) {
	start := time.Now()
	q, err := retrieval.CleanQuestion(withoutMarkup(question))
	if err != nil {
		// The Err* values are written to be shown to the asker. Not counted
		// as an error: the bot did nothing wrong.
		c.log.Info("question refused", "reason", err.Error())
		c.replyEphemeral("I can't answer that: " + err.Error() + ".")
		return
	}
	// The gate first: a "busy" reply is the bot's fault and must not use
	// up one of the user's questions.
	if !c.b.gate.tryEnter() {
		c.log.Warn("too many questions at once")
		c.b.metrics.Question(outcomeRateLimited, time.Since(start))
		c.replyEphemeral("I'm busy answering other questions. Please try again in a moment.")
		return
	}
	defer c.b.gate.leave()
	if ok, wait := c.allowQuestion(); !ok {
		c.log.Info("rate limited", "retry_after", wait.Round(time.Second).String())
		c.b.metrics.Question(outcomeRateLimited, time.Since(start))
		c.replyEphemeral(fmt.Sprintf("You're asking faster than I can keep up with. Please try again in %d seconds.",
			int(math.Ceil(wait.Seconds()))))
		return
	}
	// Until an outcome is counted, a panic counts as an error.
	counted := false
	count := func(outcome string) {
		counted = true
		c.b.metrics.Question(outcome, time.Since(start))
	}
	c.onPanic = func() {
		if !counted {
			count(outcomeError)
		}
	}

	ctx, cancel := context.WithTimeout(c.ctx, answerTimeout)
	defer cancel()
	done := make(chan askResult, 1)
	go c.answer(ctx, q, done)
	timer := time.NewTimer(c.b.cfg.DeferAfter)
	defer timer.Stop()
	var res askResult
	deferred := false
	select {
	case res = <-done:
	case <-timer.C:
		deferred = true
		if err := c.deferReply(private); err != nil {
			count(outcomeError)
			return
		}
		res = <-done
	}

	outcome := c.answerOutcome(res)
	attrs := []any{"outcome", outcome, "deferred", deferred, "private", private, "took_ms", time.Since(start).Milliseconds()}
	if res.err != nil {
		count(outcome)
		c.log.Error("could not answer", append(attrs, "err", res.err)...)
		c.replyOrEdit(deferred, private, errorReply(res.err))
		return
	}
	if res.a.Degraded {
		c.b.metrics.Fallback()
		c.log.Warn("answered from keyword search alone: the embedder failed", "note", res.a.Note)
	}
	c.b.feedback.remember(c.i.ID, q, res.a.Index)
	c.recordFollowUp(res.a)
	c.remember(q, res.a, time.Since(start))
	embeds, components := AnswerMessage(res.a, c.i.ID)
	// Counted once the message is made, before it is sent: the outcome is
	// about answering; a reply Discord never gets is counted apart
	// (FailureMetrics).
	count(outcome)
	c.log.Info("answered", append(attrs, "index", res.a.Index, "citations", len(res.a.Citations))...)
	c.replyOrEdit(deferred, private, reply{embeds: embeds, components: components})
}

// errAnswerPanicked is what the asker's question failed with when
// answering panicked; the panic itself is logged.
var errAnswerPanicked = errors.New("answering panicked")

// answer runs the question on its own goroutine, so ask can defer while it
// runs. A panic there (in an embedder, say) would not reach handle's
// recover and would kill the process: it becomes an error instead.
func (c *call) answer(ctx context.Context, q string, done chan<- askResult) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("answering panicked; the bot keeps serving",
				"panic", c.redactString(fmt.Sprint(r)), "stack", string(debug.Stack()))
			c.b.failure(failurePanic)
			done <- askResult{err: errAnswerPanicked}
		}
	}()
	a, err := c.b.lib.AskAfter(ctx, q, c.followUpStory(ctx))
	done <- askResult{a, err}
}

// allowQuestion takes one of the user's questions: from the shared count
// when the replicas share one, else from this process's.
func (c *call) allowQuestion() (bool, time.Duration) {
	if m := c.b.cfg.Memory; m != nil && m.Questions != nil {
		return c.allowShared(m.Questions, "ask")
	}
	return c.b.limiter.allow(c.userID())
}

func (c *call) answerOutcome(res askResult) string {
	switch {
	case res.err != nil:
		return outcomeError
	case res.a.Outcome == retrieval.OutcomeAnswer:
		return outcomeAnswered
	case res.a.Outcome == retrieval.OutcomeClosest:
		return outcomeHedged
	default:
		return outcomeDeclined
	}
}

// reply is a message's body, sent as the first response or as an edit.
type reply struct {
	// ephemeral marks replies only the asker should see (errors).
	ephemeral  bool
	content    string
	embeds     []*discordgo.MessageEmbed
	components []discordgo.MessageComponent
}

// errorReply is what the asker reads when answering failed. The cause is
// logged, not shown, except for the errors meant for the asker.
func errorReply(err error) reply {
	switch {
	case errors.Is(err, retrieval.ErrEmptyQuestion), errors.Is(err, retrieval.ErrQuestionTooLong), errors.Is(err, retrieval.ErrInvalidText):
		return reply{ephemeral: true, content: "I can't answer that: " + err.Error() + "."}
	case errors.Is(err, retrieval.ErrNoIndex):
		return reply{ephemeral: true, content: "The stories are still loading. Please try again in a moment."}
	}
	return reply{ephemeral: true, content: "Something went wrong while answering. Please try again in a moment."}
}

// replyOrEdit sends r as the first response, or as an edit of the deferred
// one. private only applies to a first response: a deferral fixed it, so
// an error after a public deferral is an edit of that message, public (it
// says only that something went wrong; the cause is logged). Deleting the
// "thinking" message and following up privately is a sequence Discord
// does not document.
func (c *call) replyOrEdit(deferred, private bool, r reply) {
	if deferred {
		e := &discordgo.WebhookEdit{Embeds: &r.embeds, Components: &r.components}
		if r.content != "" {
			content := truncate(r.content, maxContent)
			e.Content = &content
		}
		if r.embeds == nil {
			e.Embeds = nil
		}
		if r.components == nil {
			e.Components = nil
		}
		_ = c.edit(e)
		return
	}
	var flags discordgo.MessageFlags
	if private || r.ephemeral {
		flags = discordgo.MessageFlagsEphemeral
	}
	_ = c.respond(&discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content:    truncate(r.content, maxContent),
			Embeds:     r.embeds,
			Components: r.components,
			Flags:      flags,
		},
	})
}

// askMessage is the "Ask storybot" context-menu command: the chosen
// message's text is the question.
func (c *call) askMessage(data discordgo.ApplicationCommandInteractionData) {
	var text string
	if data.Resolved != nil {
		if m := data.Resolved.Messages[data.TargetID]; m != nil {
			text = m.Content
		}
	}
	if text == "" {
		c.replyEphemeral("That message has no text to ask about.")
		return
	}
	c.ask(text, false)
}
