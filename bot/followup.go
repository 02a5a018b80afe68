package bot

import (
	"sync"
	"time"
)

// conversations remembers, for each asker in each channel, the story their
// last answer quoted, so that the next question can follow up on it: "who
// published this" after a question about the crane collapse asks about
// that story (retrieval.Library.AskAfter). It is per process: with several
// replicas a follow-up served by another one is read afresh.
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
)

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
