package bot

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/insights"
	"storybot/storage"
)

// /insights shows moderators what people ask: counts by outcome, the most
// asked questions the stories do not answer, the answers with the most 👎,
// and a chart of questions per day, attached as a PNG.
const (
	cmdInsights = "insights"
	optDays     = "days"
	// defaultInsightDays and maxInsightDays bound the period: a week, and
	// at most the longest retention.
	defaultInsightDays = 7
	maxInsightDays     = 3650
	insightsTop        = 10
	insightsTimeout    = 30 * time.Second
	chartFile          = "insights.png"
)

// insights answers /insights for a moderator, privately. It defers at once:
// the query and the chart may take more than Discord's 3 s.
func (c *call) insights(data discordgo.ApplicationCommandInteractionData) {
	if !c.isModerator() {
		c.log.Warn("insights refused: not a moderator")
		c.replyEphemeral("Only moderators (Manage Server, or a moderator role) can see the insights.")
		return
	}
	m := c.b.cfg.Memory
	if m == nil || m.Store == nil {
		c.replyEphemeral("No question log is kept: the bot needs data_dir (SQLite) or storage.postgres_url (PostgreSQL).")
		return
	}
	days := defaultInsightDays
	if o := option(data.Options, optDays); o != nil && o.Type == discordgo.ApplicationCommandOptionInteger {
		days = int(o.IntValue())
	}
	if days < 1 || days > maxInsightDays {
		c.replyEphemeral(fmt.Sprintf("days must be from 1 to %d.", maxInsightDays))
		return
	}
	if err := c.deferReply(true); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, insightsTimeout)
	defer cancel()
	now := time.Now()
	in, err := m.Store.Insights(ctx, now.Add(-time.Duration(days)*24*time.Hour), now, insightsTop)
	if err != nil {
		c.log.Error("insights failed", "err", err)
		msg := "Could not read the question log just now. Please try again in a moment."
		_ = c.edit(&discordgo.WebhookEdit{Content: &msg})
		return
	}
	embed := InsightsEmbed(in, days)
	e := &discordgo.WebhookEdit{Embeds: &[]*discordgo.MessageEmbed{embed}}
	var png bytes.Buffer
	if err := insights.WriteChart(&png, in); err != nil {
		c.log.Warn("insights chart failed; sent without it", "err", err)
	} else {
		embed.Image = &discordgo.MessageEmbedImage{URL: "attachment://" + chartFile}
		e.Files = []*discordgo.File{{Name: chartFile, ContentType: "image/png", Reader: bytes.NewReader(png.Bytes())}}
	}
	c.log.Info("insights", "days", days, "questions", in.Total())
	_ = c.edit(e)
}

// InsightsEmbed renders insights as one embed. Questions are the users'
// words: escaped, flattened to one line, cut to fit.
func InsightsEmbed(in *storage.Insights, days int) *discordgo.MessageEmbed {
	total := in.Total()
	var desc strings.Builder
	fmt.Fprintf(&desc, "%d %s in the last %d %s.", total, plural(total, "question", "questions"), days, plural(days, "day", "days"))
	for _, o := range storage.Outcomes {
		n := in.ByOutcome[o]
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(n) / float64(total)
		}
		fmt.Fprintf(&desc, "\n**%d** (%.0f%%) %s", n, pct, insights.Labels[o])
	}
	var asked []string
	for _, g := range in.Unanswered {
		asked = append(asked, fmt.Sprintf("%d× %s", g.Count, EscapeMarkdown(flatten(g.Example))))
	}
	var disliked []string
	for _, a := range in.Disliked {
		q := EscapeMarkdown(flatten(a.Question))
		if q == "" {
			q = "(question not kept)"
		}
		disliked = append(disliked, fmt.Sprintf("%d 👎 %d 👍 %s", a.Down, a.Up, q))
	}
	field := func(name string, lines []string) *discordgo.MessageEmbedField {
		v := strings.Join(lines, "\n")
		if v == "" {
			v = "None."
		}
		return &discordgo.MessageEmbedField{Name: name, Value: truncate(v, maxFieldValue)}
	}
	return &discordgo.MessageEmbed{
		Title:       "What people asked",
		Description: truncate(desc.String(), maxEmbedDescription),
		Color:       colorAnswer,
		Fields: []*discordgo.MessageEmbedField{
			field("Most asked, not in the stories", asked),
			field("Answers with the most 👎", disliked),
		},
	}
}
