// Package storage keeps what storybot learns from its users in a real
// database: the question log, the answers (so "Show passages" and the vote
// buttons work on any replica and after a restart), the votes, shared
// rate-limit counters, each conversation's last quoted story (so a
// follow-up works on any replica), and the moderators' insights drawn from
// them.
//
// There is one implementation, *DB, over database/sql, with two dialects:
// SQLite in the data directory (modernc.org/sqlite, pure Go, so the binary
// stays static and CGO-free) for one process, and PostgreSQL (pgx) for many
// replicas. The schema is versioned and migrated at open.
//
// Nothing here may slow an answer down: the bot hands rows to a Writer,
// which batches them onto the database from its own goroutine and drops
// (and counts) what it cannot write.
package storage

import (
	"context"
	"errors"
	"time"
)

// Outcome is what the bot did with a question.
type Outcome string

// The outcomes, as issue "natural questions" names them.
const (
	// OutcomeAnswer: the stories answer it and the bot quoted them.
	OutcomeAnswer Outcome = "answer"
	// OutcomeClosest: the stories do not say; the closest passage was
	// offered (a hedge).
	OutcomeClosest Outcome = "closest"
	// OutcomeNone: the stories do not say and nothing came close.
	OutcomeNone Outcome = "none"
)

// Outcomes lists every outcome, in the order reports show them.
var Outcomes = []Outcome{OutcomeAnswer, OutcomeClosest, OutcomeNone}

func (o Outcome) valid() bool {
	return o == OutcomeAnswer || o == OutcomeClosest || o == OutcomeNone
}

// UserHash is a user ID hashed with the deployment's salt (Hasher.User).
// The raw Discord user ID is never stored.
type UserHash string

// Question is one row of the question log.
type Question struct {
	Time time.Time
	// GuildID is "" for a direct message.
	GuildID string
	// ChannelKind is where it was asked: "text", "thread", "dm", ….
	ChannelKind string
	User        UserHash
	// Text is the question; "" when storage.log_questions is false
	// (Writer blanks it).
	Text    string
	Outcome Outcome
	// AnswerID links the row to its Answer ("" if none was saved).
	AnswerID string
	// The first citation (or the closest passage): story ID, paragraph and
	// sentence, 1-based; zero when nothing was cited.
	Story     string
	Paragraph int
	Sentence  int
	Score     float64
	Latency   time.Duration
	// IndexVersion is the snapshot that answered.
	IndexVersion string
}

// Answer is what the bot replied, by ID (the interaction ID), so a click on
// its buttons can be served by any replica.
type Answer struct {
	ID   string
	Time time.Time
	// Question is "" when storage.log_questions is false.
	Question     string
	Outcome      Outcome
	IndexVersion string
	Citations    []Citation
}

// Citation is one quoted sentence of an answer.
type Citation struct {
	N         int    `json:"n"`
	Story     string `json:"story"`
	Paragraph int    `json:"paragraph"`
	Sentence  int    `json:"sentence"`
	ChunkID   string `json:"chunk_id"`
	Quote     string `json:"quote"`
}

// Vote is one user's 👍 or 👎 on one answer. A user has at most one vote
// per answer; a later vote replaces an earlier one.
type Vote struct {
	AnswerID string
	User     UserHash
	Up       bool
	Time     time.Time
}

// VoteResult is what a vote did, and the answer's counts after it.
type VoteResult struct {
	// Counted: a new vote, or a changed one. False when the user had
	// already voted the same way.
	Counted bool
	// Changed: the user had voted the other way.
	Changed  bool
	Up, Down int
}

// FollowUp is the story a conversation's last answer quoted, so that the
// next question in it can follow up on that story on any replica.
type FollowUp struct {
	// Key names the conversation: an asker in a channel, hashed
	// (Hasher.User of the pair), never the raw IDs.
	Key   string
	Story string
	Time  time.Time
}

// FollowUpsKept is how long a conversation's last story is kept: longer
// than any follow-up waits, short enough that the table holds only the
// conversations of the last hour.
const FollowUpsKept = time.Hour

// Batch is what a Writer hands the database in one transaction.
type Batch struct {
	Questions []Question
	Answers   []Answer
	Votes     []Vote
	FollowUps []FollowUp
}

// Len is the number of rows in b.
func (b Batch) Len() int {
	return len(b.Questions) + len(b.Answers) + len(b.Votes) + len(b.FollowUps)
}

// Pruned counts the rows a Prune removed.
type Pruned struct {
	Questions, Answers, Votes, RateWindows, FollowUps int64
	// Days counts the per-day summaries removed.
	Days int64
}

// ErrNotFound is returned for an answer that was never saved or has been
// pruned.
var ErrNotFound = errors.New("not found")

// Store is what the bot keeps in a database. *DB implements it.
type Store interface {
	// Write stores a batch in one transaction: all of it or nothing.
	Write(ctx context.Context, b Batch) error
	// Answer returns the answer saved under id, or ErrNotFound.
	Answer(ctx context.Context, id string) (Answer, error)
	// Vote records v and says what it did.
	Vote(ctx context.Context, v Vote) (VoteResult, error)
	// Take counts one event for key in the fixed window of length window
	// that holds now, and returns the count so far in that window,
	// across every process sharing the database.
	Take(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)
	// LastStory is the story conversation key's last answer quoted at
	// since or later, or "" when there is none.
	LastStory(ctx context.Context, key string, since time.Time) (string, error)
	// Prune deletes the log, answers and votes older than retention, the
	// rate-limit windows that have ended and the follow-ups older than
	// FollowUpsKept.
	Prune(ctx context.Context, now time.Time, retention time.Duration) (Pruned, error)
	// Insights summarises the questions asked on the UTC days from since's
	// to until's.
	Insights(ctx context.Context, since, until time.Time, top int) (*Insights, error)
	Close() error
}
