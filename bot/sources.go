package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

// sources lists the stories being served. The list is ephemeral: it is a
// look-up for whoever asked, not something to fill the channel with.
func (c *call) sources() {
	ix := c.b.lib.Current()
	if ix == nil {
		c.replyEphemeral("No stories are loaded yet.")
		return
	}
	_ = c.respond(&discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Embeds: []*discordgo.MessageEmbed{SourcesEmbed(ix, c.b.lib.LoadedAt())},
			Flags:  discordgo.MessageFlagsEphemeral,
		},
	})
}

// SourcesEmbed describes a snapshot: each story with its publisher and
// passage count, when it was loaded, and the index version.
func SourcesEmbed(ix *retrieval.Index, loadedAt time.Time) *discordgo.MessageEmbed {
	stories := ix.Stories()
	counts := ix.StoryChunks()
	var desc strings.Builder
	fmt.Fprintf(&desc, "%d %s, %d passages. Index version %s.",
		len(stories), plural(len(stories), "story", "stories"), len(ix.Chunks()), codeSpan(ix.Version()))
	if !loadedAt.IsZero() {
		// Discord shows <t:…> in each reader's own time zone.
		fmt.Fprintf(&desc, "\nLast reloaded <t:%d:f> (<t:%d:R>).", loadedAt.Unix(), loadedAt.Unix())
	}
	e := &discordgo.MessageEmbed{Title: "Sources", Description: desc.String(), Color: colorAnswer}
	for _, s := range stories {
		title := s.Title
		if title == "" {
			title = s.ID
		}
		var v []string
		if s.Publisher != "" {
			pub := EscapeMarkdown(flatten(s.Publisher))
			if s.Year != 0 {
				pub += fmt.Sprintf(", %d", s.Year)
			}
			v = append(v, pub)
		}
		v = append(v, fmt.Sprintf("%d %s", counts[s.ID], plural(counts[s.ID], "passage", "passages")))
		v = append(v, "id "+codeSpan(s.ID))
		if link := markdownURL(s.URL); link != "" {
			v = append(v, "[link]("+link+")")
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
			Name:  EscapeMarkdown(flatten(title)),
			Value: strings.Join(v, " · "),
		})
	}
	return fitEmbeds([]*discordgo.MessageEmbed{e})[0]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
