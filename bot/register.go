package bot

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// Registering the commands: one bulk overwrite per scope, the same in both
// transports. Moving between guild and global registration clears the
// scope left behind, or users would see every command twice.

// Register bulk-overwrites the commands for HTTP serving, where no gateway
// READY names the application or its guilds: the application id is
// Config.ApplicationID or the bot user's, and the guilds whose old
// per-guild commands may need clearing come from GET /users/@me/guilds. A
// rejected token closes Fatal, as on the gateway.
func (b *Bot) Register(ctx context.Context, s *discordgo.Session) error {
	b.setToken(s.Token)
	appID := b.cfg.ApplicationID
	if appID == "" {
		u, err := s.User("@me", discordgo.WithContext(ctx))
		if err != nil {
			return b.runError("find the application id", err)
		}
		appID = u.ID
	}
	return b.register(ctx, s, appID, ownsAll, func(ctx context.Context) ([]string, error) { return userGuilds(ctx, s) })
}

// ownsAll is the HTTP transport's scope test: one process, no shards.
func ownsAll(string) bool { return true }

// shardOwns says which scopes a gateway shard registers, so that N shards
// make each bulk overwrite once rather than N times (each counts against
// the same rate limit): a guild belongs to shard (guild_id >> 22) %
// shard_count, Discord's own formula, and the global scope to shard 0.
// With shards split across processes, each process registers what its
// shards own.
func shardOwns(s *discordgo.Session) func(guild string) bool {
	id, count := s.ShardID, s.ShardCount
	if count <= 1 {
		return ownsAll
	}
	return func(guild string) bool {
		if guild == "" {
			return id == 0
		}
		g, err := strconv.ParseUint(guild, 10, 64)
		if err != nil {
			return id == 0 // not a snowflake: config validation reports it; register once
		}
		return int((g>>22)%uint64(count)) == id
	}
}

// applicationID reads the application id from READY, falling back to the
// bot user's id, which is the same for every bot made since 2019.
func applicationID(s *discordgo.Session) string {
	s.State.RLock()
	defer s.State.RUnlock()
	if app := s.State.Ready.Application; app != nil && app.ID != "" {
		return app.ID
	}
	if s.State.User != nil {
		return s.State.User.ID
	}
	return ""
}

// readyGuilds lists the guilds READY announced.
func readyGuilds(s *discordgo.Session) []string {
	s.State.RLock()
	defer s.State.RUnlock()
	ids := make([]string, 0, len(s.State.Ready.Guilds))
	for _, g := range s.State.Ready.Guilds {
		ids = append(ids, g.ID)
	}
	return ids
}

// maxGuildPages bounds GET /users/@me/guilds (200 a page).
const maxGuildPages = 50

// userGuilds lists the bot's guilds over REST, page by page.
func userGuilds(ctx context.Context, s *discordgo.Session) ([]string, error) {
	var ids []string
	after := ""
	for range maxGuildPages {
		page, err := s.UserGuilds(200, "", after, false, discordgo.WithContext(ctx))
		if err != nil {
			return ids, err
		}
		for _, g := range page {
			ids = append(ids, g.ID)
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].ID
	}
	return ids, nil
}

// register bulk-overwrites the commands: one call per configured guild, or
// one global. Then it clears the other scope: the global set when
// registering per guild, the per-guild sets of guilds (listed by guilds)
// when registering globally. Only a set that is not empty is overwritten.
// Scopes for which owns is false are left to the shard that owns them.
func (b *Bot) register(ctx context.Context, s *discordgo.Session, appID string, owns func(guild string) bool, guilds func(context.Context) ([]string, error)) error {
	scopes := b.cfg.GuildIDs
	if len(scopes) == 0 {
		scopes = []string{""}
	}
	for _, guild := range scopes {
		if !owns(guild) {
			continue
		}
		cmds := commandsFor(guild)
		if _, err := s.ApplicationCommandBulkOverwrite(appID, guild, cmds, discordgo.WithContext(ctx)); err != nil {
			return b.runError("register commands "+where(guild), err)
		}
		b.log.Info("registered commands", "guild", guild, "count", len(cmds))
	}
	var stale []string
	if len(b.cfg.GuildIDs) > 0 {
		if owns("") {
			stale = []string{""}
		}
	} else {
		ids, err := guilds(ctx)
		if err != nil {
			if unauthorized(err) {
				return b.runError("list the bot's guilds", err)
			}
			b.log.Warn("could not list the bot's guilds to clear their old commands", "err", b.redactErr(err))
		}
		stale = ids
	}
	for _, guild := range stale {
		if err := b.clearScope(ctx, s, appID, guild); err != nil {
			if unauthorized(err) {
				return err
			}
			b.log.Warn("could not clear old commands "+where(guild)+"; users may see them twice", "err", err)
		}
	}
	return nil
}

// clearScope empties one scope's commands if it has any.
func (b *Bot) clearScope(ctx context.Context, s *discordgo.Session, appID, guild string) error {
	old, err := s.ApplicationCommands(appID, guild, discordgo.WithContext(ctx))
	if err != nil {
		return b.runError("list the commands "+where(guild), err)
	}
	if len(old) == 0 {
		return nil
	}
	if _, err := s.ApplicationCommandBulkOverwrite(appID, guild, []*discordgo.ApplicationCommand{}, discordgo.WithContext(ctx)); err != nil {
		return b.runError("clear the commands "+where(guild), err)
	}
	b.log.Info("cleared the commands of the other scope", "guild", guild, "count", len(old))
	return nil
}

func where(guild string) string {
	if guild == "" {
		return "globally"
	}
	return fmt.Sprintf("in guild %s", guild)
}
