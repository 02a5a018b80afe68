package bot

import "time"

// SetClock makes b tell the time for interaction-token deadlines from now,
// so tests can reach minute 16 without waiting for it.
func SetClock(b *Bot, now func() time.Time) { b.now = now }

// ConversationKey names an asker's conversation in a channel, as the
// follow-ups store it (hashed).
var ConversationKey = conversationKey
