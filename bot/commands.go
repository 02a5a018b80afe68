package bot

import (
	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
)

// Command and option names, as users see them in Discord.
const (
	cmdAsk        = "ask"
	cmdSources    = "sources"
	cmdReload     = "reload"
	cmdAskMessage = "Ask storybot" // message context menu
	optQuestion   = "question"
	optPrivate    = "private"
)

// Commands is the command set storybot registers, in one bulk overwrite.
// /reload is hidden from everyone without Manage Server by default; the
// handler checks again, because server admins can change who sees it.
func Commands() []*discordgo.ApplicationCommand {
	manageServer := int64(discordgo.PermissionManageGuild)
	minQuestion := 1
	minDays := 1.0
	anywhere := &[]discordgo.InteractionContextType{
		discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM,
	}
	guildOnly := &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	return []*discordgo.ApplicationCommand{
		{
			Name:        cmdAsk,
			Type:        discordgo.ChatApplicationCommand,
			Description: "Ask a question about the news stories; the answer quotes them",
			Contexts:    anywhere,
			Options: []*discordgo.ApplicationCommandOption{
				{
					Type:        discordgo.ApplicationCommandOptionString,
					Name:        optQuestion,
					Description: "Your question, e.g. who favors strikes?",
					Required:    true,
					MinLength:   &minQuestion,
					MaxLength:   retrieval.MaxQuestionRunes,
				},
				{
					Type:        discordgo.ApplicationCommandOptionBoolean,
					Name:        optPrivate,
					Description: "Only you see the answer",
				},
			},
		},
		{
			Name:        cmdSources,
			Type:        discordgo.ChatApplicationCommand,
			Description: "List the stories storybot answers from",
			Contexts:    anywhere,
		},
		{
			Name:                     cmdReload,
			Type:                     discordgo.ChatApplicationCommand,
			Description:              "Re-read the stories (moderators only)",
			DefaultMemberPermissions: &manageServer,
			Contexts:                 guildOnly,
		},
		{
			Name:                     cmdInsights,
			Type:                     discordgo.ChatApplicationCommand,
			Description:              "What people asked that the stories do not answer (moderators only)",
			DefaultMemberPermissions: &manageServer,
			Contexts:                 guildOnly,
			Options: []*discordgo.ApplicationCommandOption{
				{
					Type:        discordgo.ApplicationCommandOptionInteger,
					Name:        optDays,
					Description: "How many days back (default 7)",
					MinValue:    &minDays,
					MaxValue:    maxInsightDays,
				},
			},
		},
		{
			Name:     cmdAskMessage,
			Type:     discordgo.MessageApplicationCommand,
			Contexts: anywhere,
		},
	}
}

// commandsFor is the command set for one scope. Contexts only apply to
// global commands; a guild command is usable in its guild only.
func commandsFor(guildID string) []*discordgo.ApplicationCommand {
	cmds := Commands()
	if guildID != "" {
		for _, c := range cmds {
			c.Contexts = nil
		}
	}
	return cmds
}
