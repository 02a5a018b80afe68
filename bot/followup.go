package bot

import (
	"context"
	"sync"
	"time"

	"storybot/retrieval"
	"storybot/storage"
)

// conversations remembers, for each asker in each channel, the story their
// last answer quoted, so that the next question can follow up on it: "who
// published this" after a question about the crane collapse asks about
// that story (retrieval.Library.AskAfter). With a database (Memory.Store)
// the story is kept there too, so that a follow-up served by another
// replica reads it; this process's memory answers when the database does
// not, in time, or has not yet been written.
//
// Memory is bounded: a conversation idle for longer than ttl is forgotten,
// and past max conversations the idlest goes.
type conversations struct {
	mu   sync.Mutex
	max  int
	ttl  time.Duration
	last map[string]conversation
	now  func() time.Time
}

type conversation struct {
	story string
	at    time.Time
}

const (
	// followUpFor is how long a question may follow up on the last answer:
	// a conversation, not the next day.
	followUpFor = 15 * time.Minute
	// defaultMaxConversations bounds the memory: about a megabyte.
	defaultMaxConversations = 10000
	// followUpTimeout bounds the database's look-up of the last story: a
	// question waits no longer for it than for the shared rate limit.
	followUpTimeout = storage.DefaultLimitTimeout
)

// followUpStory is the story the asker's last answer in this channel
// quoted, or "": from the database when there is one, so that it holds
// across replicas, else from this process. It reads nothing when one story
// is loaded: there is nothing to follow.
func (c *call) followUpStory(ctx context.Context) string {
	key := c.conversation()
	if ix := c.b.lib.Current(); ix == nil || len(ix.Stories()) < 2 {
		return ""
	}
	if m := c.b.cfg.Memory; m != nil && m.Store != nil {
		ctx, cancel := context.WithTimeout(ctx, followUpTimeout)
		story, err := m.Store.LastStory(ctx, string(m.Users.User(key)), c.b.now().Add(-followUpFor))
		cancel()
		if err == nil && story != "" {
			return story
		}
	}
	return c.b.followUps.story(key)
}

// recordFollowUp remembers the story a's citations quote, if one, for the
// asker's next question: here at once, and through the writer for the
// other replicas (it never waits).
func (c *call) recordFollowUp(a *retrieval.Answer) {
	story := quotedStory(a)
	if story == "" {
		return
	}
	key := c.conversation()
	c.b.followUps.quoted(key, story)
	if m := c.b.cfg.Memory; m != nil && m.Writer != nil {
		m.Writer.SaveFollowUp(storage.FollowUp{Key: string(m.Users.User(key)), Story: story, Time: c.b.now()})
	}
}

// conversation names the asker's conversation in this channel.
func (c *call) conversation() string { return conversationKey(c.i.ChannelID, c.userID()) }

// quotedStory is the one story every citation of a quotes, or "": a list of
// the stories known is about none of them.
func quotedStory(a *retrieval.Answer) string {
	if len(a.Citations) == 0 {
		return ""
	}
	story := a.Citations[0].StoryID
	for _, ct := range a.Citations[1:] {
		if ct.StoryID != story {
			return ""
		}
	}
	return story
}

func newConversations(max int, ttl time.Duration) *conversations {
	return &conversations{max: max, ttl: ttl, last: map[string]conversation{}, now: time.Now}
}

// conversationKey names an asker's conversation in a channel.
func conversationKey(channelID, userID string) string { return channelID + "/" + userID }

// story is the story key's last answer quoted, or "" when there is none
// still fresh.
func (c *conversations) story(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.last[key]
	if !ok || c.now().Sub(v.at) > c.ttl {
		return ""
	}
	return v.story
}

// quoted records that key's last answer quoted story.
func (c *conversations) quoted(key, story string) {
	if story == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.last[key]; !ok && len(c.last) >= c.max {
		c.evict(now)
	}
	c.last[key] = conversation{story: story, at: now}
}

// evict drops the conversations past their time, and if none is, the
// idlest. Call with mu held.
func (c *conversations) evict(now time.Time) {
	evictIdle(c.last, c.max,
		func(v conversation) bool { return now.Sub(v.at) > c.ttl },
		func(v conversation) time.Time { return v.at })
}

// size is how many conversations are remembered, for tests.
func (c *conversations) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.last)
}
