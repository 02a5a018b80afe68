// What the bot keeps of its users' questions and votes, in the database
// (package storage), so that it survives restarts and is shared by
// replicas.

package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"storybot/retrieval"
	"storybot/storage"
)

// Memory is where the bot keeps what it learns. Every part is optional: a
// nil Memory keeps nothing (votes are then counted in memory only).
type Memory struct {
	// Store answers the reads and the votes that need an answer at once
	// (a vote must say whether it counted).
	Store storage.Store
	// Writer takes the question log, the answers, and the votes Store could
	// not take in time, without making anyone wait.
	Writer *storage.Writer
	// Users hashes user IDs; the raw ID is never stored.
	Users storage.Hasher
	// Questions and Actions, when set, replace the per-process rate limits
	// with counts shared by every replica on the database.
	Questions, Actions *storage.Limiter
}

// voteTimeout bounds how long a click waits for the database before its
// vote is queued instead: the click must be acknowledged within 3 s.
const voteTimeout = 500 * time.Millisecond

// answerLookupTimeout bounds the look-up of a stored answer.
const answerLookupTimeout = 500 * time.Millisecond

// outcomeOf maps an answer to the question log's outcome: quoted (answer),
// hedged with the closest the story comes (closest), or declined (none).
func outcomeOf(a *retrieval.Answer) storage.Outcome {
	switch a.Outcome {
	case retrieval.OutcomeAnswer:
		return storage.OutcomeAnswer
	case retrieval.OutcomeClosest:
		return storage.OutcomeClosest
	}
	return storage.OutcomeNone
}

// channelKind names where an interaction came from, for the log: "guild",
// "dm" (with the bot) or "private" (a group DM or another user's DM, for a
// user-installed app). discordgo does not carry the channel's type.
func channelKind(i *discordgo.Interaction) string {
	switch {
	case i.Context == discordgo.InteractionContextBotDM:
		return "dm"
	case i.Context == discordgo.InteractionContextPrivateChannel:
		return "private"
	case i.GuildID == "":
		return "dm"
	}
	return "guild"
}

func (c *call) userHash() storage.UserHash {
	return c.b.cfg.Memory.Users.User(c.userID())
}

// remember queues the question-log row and the answer. It never waits.
func (c *call) remember(q string, a *retrieval.Answer, took time.Duration) {
	m := c.b.cfg.Memory
	if m == nil || m.Writer == nil {
		return
	}
	now := time.Now()
	row := storage.Question{
		Time: now, GuildID: c.i.GuildID, ChannelKind: channelKind(c.i), User: c.userHash(),
		Text: q, Outcome: outcomeOf(a), AnswerID: c.i.ID, Score: a.Score, Latency: took, IndexVersion: a.Index,
	}
	if len(a.Citations) > 0 {
		first := a.Citations[0]
		row.Story, row.Paragraph, row.Sentence = first.StoryID, first.Paragraph, first.Sentence
	}
	saved := storage.Answer{ID: c.i.ID, Time: now, Question: q, Outcome: row.Outcome, IndexVersion: a.Index}
	for _, ct := range a.Citations {
		saved.Citations = append(saved.Citations, storage.Citation{
			N: ct.N, Story: ct.StoryID, Paragraph: ct.Paragraph, Sentence: ct.Sentence, ChunkID: ct.ChunkID, Quote: ct.Quote,
		})
	}
	m.Writer.SaveAnswer(saved)
	m.Writer.LogQuestion(row)
}

// storedVote records a vote in the database. ok is false when there is no
// database or it did not answer in time; the vote is then queued (durable
// once the database is back) and the in-memory count decides the reply.
func (c *call) storedVote(key string, up bool) (res storage.VoteResult, ok bool) {
	m := c.b.cfg.Memory
	if m == nil || m.Store == nil {
		return res, false
	}
	v := storage.Vote{AnswerID: key, User: c.userHash(), Up: up, Time: time.Now()}
	ctx, cancel := context.WithTimeout(c.ctx, voteTimeout)
	defer cancel()
	res, err := m.Store.Vote(ctx, v)
	if err == nil {
		return res, true
	}
	c.log.Warn("vote not stored at once; queued", "err", err)
	if m.Writer != nil {
		m.Writer.Vote(v)
	}
	return res, false
}

// storedAnswer looks an answer up in the database, for a click on a
// replica that did not answer it, or after a restart.
func (c *call) storedAnswer(id string) (storage.Answer, bool) {
	m := c.b.cfg.Memory
	if m == nil || m.Store == nil || id == "" {
		return storage.Answer{}, false
	}
	ctx, cancel := context.WithTimeout(c.ctx, answerLookupTimeout)
	defer cancel()
	a, err := m.Store.Answer(ctx, id)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			c.log.Warn("stored answer not read", "answer", id, "err", err)
		}
		return storage.Answer{}, false
	}
	return a, true
}

// allowShared takes one event from a shared limiter. ok reports the
// verdict; wait is how long until the window ends when refused.
func (c *call) allowShared(l *storage.Limiter, kind string) (ok bool, wait time.Duration) {
	now := time.Now()
	allowed, _ := l.Allow(c.ctx, kind+":"+string(c.userHash()), now)
	if allowed {
		return true, 0
	}
	// The limiter's windows are fixed, counted from the Unix epoch.
	w := max(l.Window.Milliseconds(), 1)
	end := (now.UnixMilli()/w + 1) * w
	return false, time.UnixMilli(end).Sub(now)
}

// storedQuotes renders, from the stored answer of the message clicked, the
// quoted sentences of the cited passages ix no longer has; nil when the
// answer is not stored or quotes none of them.
func (c *call) storedQuotes(ix *retrieval.Index, chunkIDs []string) *discordgo.MessageEmbed {
	msg := c.i.Message
	if msg == nil || msg.InteractionMetadata == nil {
		return nil
	}
	a, ok := c.storedAnswer(msg.InteractionMetadata.ID)
	if !ok {
		return nil
	}
	gone := map[string]bool{}
	for _, id := range chunkIDs {
		if _, ok := ix.Passage(id); !ok {
			gone[id] = true
		}
	}
	var lines []string
	for _, ct := range a.Citations {
		if gone[ct.ChunkID] {
			lines = append(lines, fmt.Sprintf("[%d] %s (%s, paragraph %d, sentence %d)",
				ct.N, EscapeMarkdown(flatten(ct.Quote)), EscapeMarkdown(flatten(ct.Story)), ct.Paragraph, ct.Sentence))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return &discordgo.MessageEmbed{
		Title:       "As quoted when answered",
		Description: truncate(strings.Join(lines, "\n"), maxEmbedDescription),
		Color:       colorDecline,
	}
}
