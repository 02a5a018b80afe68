package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

// maxReloadMessages bounds how many messages a long reload error is split
// into.
const maxReloadMessages = 3

// isModerator reports whether the member may /reload: Manage Server or
// Administrator in this channel, or one of the configured roles. The
// command's default_member_permissions is not enough, because server
// admins can grant the command to anyone. In a DM nobody is a moderator.
func (c *call) isModerator() bool {
	m := c.i.Member
	if m == nil {
		return false
	}
	if m.Permissions&(discordgo.PermissionManageGuild|discordgo.PermissionAdministrator) != 0 {
		return true
	}
	for _, r := range m.Roles {
		if slices.Contains(c.b.cfg.ModeratorRoleIDs, r) {
			return true
		}
	}
	return false
}

// reload re-reads the stories for a moderator. It defers at once (a reload
// may take longer than 3 s), privately, then reports what changed or why
// nothing did. Questions keep being answered from the old snapshot until
// the new one is swapped in.
func (c *call) reload() {
	if !c.isModerator() {
		c.log.Warn("reload refused: not a moderator")
		c.replyEphemeral("Only moderators (Manage Server, or a moderator role) can reload the stories.")
		return
	}
	if gs := c.b.cfg.GuildIDs; len(gs) > 0 && !slices.Contains(gs, c.i.GuildID) {
		// The commands are registered in those guilds only; an
		// interaction from elsewhere is a stale global command or forged.
		c.log.Warn("reload refused: not from a configured guild")
		c.replyEphemeral("Reloading is only possible from the servers this bot is configured for.")
		return
	}
	if c.b.cfg.Reload == nil {
		c.replyEphemeral("Reloading is not configured for this bot.")
		return
	}
	if err := c.deferReply(true); err != nil {
		return
	}
	c.log.Info("reload requested")
	// The reload counts and logs itself (one reloader serves /reload, the
	// folder watcher and SIGHUP); this only waits for it, and not past
	// the point where the answer could still reach Discord.
	ctx, cancel := context.WithDeadline(c.ctx, c.tokenExpires.Add(-time.Minute))
	defer cancel()
	rep, err := c.b.cfg.Reload(ctx)
	var text string
	if err != nil {
		c.log.Info("reload failed; the old stories keep serving", "err", err)
		// Redacted: the error goes to Discord, and an error from a
		// misconfigured provider may quote any secret.
		text = "Reload failed, so nothing changed: the stories loaded before keep answering questions.\n" +
			EscapeMarkdown(c.redactString(err.Error()))
	} else {
		text = ReloadText(rep)
	}
	if c.b.cfg.ReloadReplicas != nil {
		text += "\n" + c.reloadReplicas(ctx)
	}
	parts := splitContent(text, maxContent, maxReloadMessages)
	if err := c.edit(&discordgo.WebhookEdit{Content: &parts[0]}); err != nil {
		return
	}
	for _, p := range parts[1:] {
		if err := c.followup(&discordgo.WebhookParams{Content: p, Flags: discordgo.MessageFlagsEphemeral}); err != nil {
			return
		}
	}
}

// ReloadText reports a reload to the moderator: stories added, changed and
// removed, passages embedded or reused, and the time it took.
func ReloadText(rep retrieval.ReloadReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Reloaded in %.1f s. Index version %s.\n", rep.Took.Seconds(), codeSpan(rep.Version))
	line := func(what string, ids []string) {
		fmt.Fprintf(&b, "%s: ", what)
		if len(ids) == 0 {
			b.WriteString("none\n")
			return
		}
		esc := make([]string, len(ids))
		for i, id := range ids {
			esc[i] = EscapeMarkdown(id)
		}
		fmt.Fprintf(&b, "%d (%s)\n", len(ids), strings.Join(esc, ", "))
	}
	line("Stories added", rep.Added)
	line("Stories changed", rep.Changed)
	line("Stories removed", rep.Removed)
	fmt.Fprintf(&b, "Passages re-embedded: %d; reused unchanged: %d.", rep.Embedded, rep.Cached)
	return b.String()
}

// reloadReplicas has the other replicas reload and says what each did.
func (c *call) reloadReplicas(ctx context.Context) string {
	res, err := c.b.cfg.ReloadReplicas(ctx)
	if err != nil {
		c.log.Warn("other replicas not asked to reload", "err", err)
		return "The other replicas could not be asked to reload: " + EscapeMarkdown(c.redactString(err.Error()))
	}
	c.log.Info("replicas reloaded", "answered", len(res))
	if len(res) == 0 {
		return "No other replica answered."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d other %s:", len(res), plural(len(res), "replica", "replicas"))
	for _, r := range res {
		if r.Err != "" {
			fmt.Fprintf(&b, "\n- %s: failed, still serving index %s: %s", codeSpan(r.Replica), codeSpan(r.Version), EscapeMarkdown(c.redactString(r.Err)))
			continue
		}
		fmt.Fprintf(&b, "\n- %s: index %s", codeSpan(r.Replica), codeSpan(r.Version))
	}
	return b.String()
}
