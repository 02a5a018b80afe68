// One interaction being answered, and the tables that dispatch it.

package bot

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

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

// commandHandlers dispatches application commands by name, as
// discordgo's examples do: one entry per command Commands registers.
var commandHandlers = map[string]func(c *call, data discordgo.ApplicationCommandInteractionData){
	cmdAsk: func(c *call, data discordgo.ApplicationCommandInteractionData) {
		private := false
		if o := option(data.Options, optPrivate); o != nil && o.Type == discordgo.ApplicationCommandOptionBoolean {
			private = o.BoolValue()
		}
		q := ""
		if o := option(data.Options, optQuestion); o != nil && o.Type == discordgo.ApplicationCommandOptionString {
			q = o.StringValue()
		}
		c.ask(q, private)
	},
	cmdAskMessage: func(c *call, data discordgo.ApplicationCommandInteractionData) { c.askMessage(data) },
	cmdSources: func(c *call, _ discordgo.ApplicationCommandInteractionData) {
		if c.allowAction() {
			c.sources()
		}
	},
	cmdReload:   func(c *call, _ discordgo.ApplicationCommandInteractionData) { c.reload() },
	cmdInsights: (*call).insights,
}

// buttonHandlers dispatches button presses by custom_id prefix.
var buttonHandlers = []struct {
	prefix string
	handle func(c *call, customID string)
}{
	{feedbackPrefix, (*call).onFeedback},
	{passagesPrefix, (*call).showPassages},
}

// handle routes the interaction to its handler.
func (c *call) handle() {
	defer c.recoverPanic()
	switch c.i.Type {
	case discordgo.InteractionApplicationCommand:
		data := c.i.ApplicationCommandData()
		c.log = c.log.With("command", data.Name)
		h, ok := commandHandlers[data.Name]
		if !ok {
			c.log.Warn("unknown command")
			c.replyEphemeral("I don't know that command. It may have been removed; try /ask.")
			return
		}
		h(c, data)
	case discordgo.InteractionMessageComponent:
		if !c.allowAction() {
			return
		}
		id := c.i.MessageComponentData().CustomID
		for _, h := range buttonHandlers {
			if strings.HasPrefix(id, h.prefix) {
				h.handle(c, id)
				return
			}
		}
		c.log.Warn("unknown button", "custom_id", id)
		c.replyEphemeral("That button no longer works.")
	default:
		c.log.Debug("ignored interaction", "type", int(c.i.Type))
	}
}

// allowAction takes one of the user's actions (/sources, buttons), which
// are cheap but not free: a budget apart from questions, so pressing
// buttons does not use up questions. When it is spent the user is told.
func (c *call) allowAction() bool {
	var (
		ok   bool
		wait time.Duration
	)
	if m := c.b.cfg.Memory; m != nil && m.Actions != nil {
		ok, wait = c.allowShared(m.Actions, "action")
	} else {
		ok, wait = c.b.actions.allow(c.userID())
	}
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
