package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DB is a Store on SQLite or PostgreSQL. Safe for concurrent use.
type DB struct {
	db *sql.DB
	d  dialect
	// scope suffixes notification channels. PostgreSQL's channels are
	// database-wide while the tables live in a schema, so two deployments in
	// two schemas of one database would otherwise hear each other's
	// reloads. Empty in the default schema, "public".
	scope string
}

// dialect is what differs between the two databases.
type dialect struct {
	name string
	// where names the setting that chose the database, for messages
	// ("data_dir /data" or "storage.postgres_url").
	where string
	// dollar: placeholders are $1, $2 … rather than ?.
	dollar bool
	// idColumn is the auto-numbered primary key's definition.
	idColumn string
	// lock, when set, runs first in every migration transaction, so two
	// replicas starting at once migrate one after the other.
	lock string
}

// Name is "sqlite" or "postgres".
func (s *DB) Name() string { return s.d.name }

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// q rewrites ? placeholders for the dialect. Queries here hold no ? in
// literals.
func (s *DB) q(query string) string {
	if !s.d.dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func millis(t time.Time) int64 { return t.UnixMilli() }

var _ Store = (*DB)(nil)

// clean makes text storable in both databases: PostgreSQL refuses invalid
// UTF-8 and NUL bytes in TEXT, and one such row would fail its whole batch.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// Rows per INSERT statement: one statement per chunk keeps round trips to
// PostgreSQL few and stays far below both databases' limits on parameters
// (SQLite 32766, PostgreSQL 65535).
const rowsPerInsert = 200

const questionColumns = 14

// Write stores b in one transaction.
func (s *DB) Write(ctx context.Context, b Batch) error {
	if b.Len() == 0 {
		return nil
	}
	for _, q := range b.Questions {
		if !q.Outcome.valid() {
			return fmt.Errorf("write question log: outcome %q is not answer, closest or none", q.Outcome)
		}
	}
	for _, a := range b.Answers {
		if a.ID == "" || !a.Outcome.valid() {
			return fmt.Errorf("write answer %q: needs an ID and an outcome of answer, closest or none", a.ID)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write: begin: %w", err)
	}
	defer tx.Rollback()
	if err := s.insertQuestions(ctx, tx, b.Questions); err != nil {
		return err
	}
	if err := s.upsertAnswers(ctx, tx, b.Answers); err != nil {
		return err
	}
	if err := s.upsertVotes(ctx, tx, lastVotes(b.Votes)); err != nil {
		return err
	}
	if err := s.upsertFollowUps(ctx, tx, b.FollowUps); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write: commit: %w", err)
	}
	return nil
}

// upsertFollowUps keeps each conversation's latest story: a row written
// later, by another replica, for an earlier answer does not replace it.
func (s *DB) upsertFollowUps(ctx context.Context, tx *sql.Tx, fs []FollowUp) error {
	// One row per key, the latest: PostgreSQL refuses to update a row
	// twice in one statement.
	latest := map[string]FollowUp{}
	var keys []string
	for _, f := range fs {
		f.Key, f.Story = clean(f.Key), clean(f.Story)
		if f.Key == "" || f.Story == "" {
			continue
		}
		old, ok := latest[f.Key]
		if !ok {
			keys = append(keys, f.Key)
		}
		if !ok || !f.Time.Before(old.Time) {
			latest[f.Key] = f
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), rowsPerInsert)
		args := make([]any, 0, n*3)
		for _, k := range keys[:n] {
			f := latest[k]
			args = append(args, f.Key, f.Story, millis(f.Time))
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO follow_ups (key, story, ts) VALUES `+values(n, 3)+`
			ON CONFLICT (key) DO UPDATE SET story = excluded.story, ts = excluded.ts WHERE excluded.ts >= follow_ups.ts`), args...)
		if err != nil {
			return fmt.Errorf("write follow-ups: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// LastStory reads the story conversation key's last answer quoted.
func (s *DB) LastStory(ctx context.Context, key string, since time.Time) (string, error) {
	var story string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT story FROM follow_ups WHERE key = ? AND ts >= ?`), clean(key), millis(since)).Scan(&story)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("follow-up %s: %w", key, err)
	}
	return story, nil
}

// values is "(?,?,?),(?,?,?)" for rows of cols.
func values(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

func (s *DB) insertQuestions(ctx context.Context, tx *sql.Tx, qs []Question) error {
	qs0 := qs
	for len(qs) > 0 {
		n := min(len(qs), rowsPerInsert)
		args := make([]any, 0, n*questionColumns)
		for _, q := range qs[:n] {
			var text any // NULL when not logged
			if t := clean(q.Text); t != "" {
				text = t
			}
			args = append(args, millis(q.Time), clean(q.GuildID), clean(q.ChannelKind), clean(string(q.User)), text, clean(QuestionKey(q.Text)),
				string(q.Outcome), clean(q.AnswerID), clean(q.Story), q.Paragraph, q.Sentence, q.Score, q.Latency.Microseconds(), clean(q.IndexVersion))
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO questions
			(ts, guild_id, channel_kind, user_hash, question, question_key, outcome, answer_id, story, paragraph, sentence, score, latency_us, index_version)
			VALUES `+values(n, questionColumns)), args...)
		if err != nil {
			return fmt.Errorf("write question log: %w", err)
		}
		qs = qs[n:]
	}
	return s.countDays(ctx, tx, qs0)
}

// countDays adds the questions to the per-day counts.
func (s *DB) countDays(ctx context.Context, tx *sql.Tx, qs []Question) error {
	type dayOutcome struct {
		day     int64
		outcome Outcome
	}
	counts := map[dayOutcome]int{}
	var order []dayOutcome
	for _, q := range qs {
		k := dayOutcome{millis(q.Time) / msPerDay, q.Outcome}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	for len(order) > 0 {
		n := min(len(order), rowsPerInsert)
		args := make([]any, 0, n*3)
		for _, k := range order[:n] {
			args = append(args, k.day, string(k.outcome), counts[k])
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO question_days (day, outcome, n) VALUES `+values(n, 3)+`
			ON CONFLICT (day, outcome) DO UPDATE SET n = question_days.n + excluded.n`), args...)
		if err != nil {
			return fmt.Errorf("write question counts: %w", err)
		}
		order = order[n:]
	}
	return nil
}

func (s *DB) upsertAnswers(ctx context.Context, tx *sql.Tx, as []Answer) error {
	// One row per ID: PostgreSQL refuses to update a row twice in one
	// statement. The last save wins.
	seen := map[string]int{}
	var uniq []Answer
	for _, a := range as {
		if i, ok := seen[a.ID]; ok {
			uniq[i] = a
			continue
		}
		seen[a.ID] = len(uniq)
		uniq = append(uniq, a)
	}
	for len(uniq) > 0 {
		n := min(len(uniq), rowsPerInsert)
		args := make([]any, 0, n*6)
		for _, a := range uniq[:n] {
			cites, err := json.Marshal(a.Citations)
			if err != nil {
				return fmt.Errorf("write answer %s: %w", a.ID, err)
			}
			var text any
			if t := clean(a.Question); t != "" {
				text = t
			}
			args = append(args, clean(a.ID), millis(a.Time), text, string(a.Outcome), clean(a.IndexVersion), clean(string(cites)))
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO answers (id, ts, question, outcome, index_version, citations)
			VALUES `+values(n, 6)+`
			ON CONFLICT (id) DO UPDATE SET ts = excluded.ts, question = excluded.question, outcome = excluded.outcome,
				index_version = excluded.index_version, citations = excluded.citations`), args...)
		if err != nil {
			return fmt.Errorf("write answers: %w", err)
		}
		uniq = uniq[n:]
	}
	return nil
}

// lastVotes keeps each user's last vote per answer, in order.
func lastVotes(vs []Vote) []Vote {
	type key struct {
		answer string
		user   UserHash
	}
	seen := map[key]int{}
	var out []Vote
	for _, v := range vs {
		k := key{v.AnswerID, v.User}
		if i, ok := seen[k]; ok {
			out[i] = v
			continue
		}
		seen[k] = len(out)
		out = append(out, v)
	}
	return out
}

func (s *DB) upsertVotes(ctx context.Context, tx *sql.Tx, vs []Vote) error {
	for len(vs) > 0 {
		n := min(len(vs), rowsPerInsert)
		args := make([]any, 0, n*4)
		for _, v := range vs[:n] {
			args = append(args, clean(v.AnswerID), clean(string(v.User)), v.Up, millis(v.Time))
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO votes (answer_id, user_hash, up, ts) VALUES `+values(n, 4)+`
			ON CONFLICT (answer_id, user_hash) DO UPDATE SET up = excluded.up, ts = excluded.ts`), args...)
		if err != nil {
			return fmt.Errorf("write votes: %w", err)
		}
		vs = vs[n:]
	}
	return nil
}

// Answer returns the answer saved under id.
func (s *DB) Answer(ctx context.Context, id string) (Answer, error) {
	id = clean(id)
	var (
		a        = Answer{ID: id}
		ts       int64
		question sql.NullString
		outcome  string
		cites    string
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT ts, question, outcome, index_version, citations FROM answers WHERE id = ?`), id).
		Scan(&ts, &question, &outcome, &a.IndexVersion, &cites)
	if errors.Is(err, sql.ErrNoRows) {
		return Answer{}, fmt.Errorf("answer %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("answer %s: %w", id, err)
	}
	a.Time, a.Question, a.Outcome = time.UnixMilli(ts), question.String, Outcome(outcome)
	if err := json.Unmarshal([]byte(cites), &a.Citations); err != nil {
		return Answer{}, fmt.Errorf("answer %s: citations: %w", id, err)
	}
	return a, nil
}

// Vote records v in one transaction and reports the answer's counts.
func (s *DB) Vote(ctx context.Context, v Vote) (VoteResult, error) {
	if v.AnswerID == "" || v.User == "" {
		return VoteResult{}, errors.New("vote: needs an answer ID and a user")
	}
	v.AnswerID, v.User = clean(v.AnswerID), UserHash(clean(string(v.User)))
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return VoteResult{}, fmt.Errorf("vote: begin: %w", err)
	}
	defer tx.Rollback()
	// Insert, else change: each statement decides on the row itself, so
	// simultaneous clicks (two replicas, a double click) are serialised
	// by the row's lock and exactly one of them counts. Reading first and
	// writing after would let both see no vote and both count.
	var res VoteResult
	inserted, err := affected(tx.ExecContext(ctx, s.q(`INSERT INTO votes (answer_id, user_hash, up, ts) VALUES (?, ?, ?, ?)
		ON CONFLICT (answer_id, user_hash) DO NOTHING`), v.AnswerID, string(v.User), v.Up, millis(v.Time)))
	if err != nil {
		return VoteResult{}, fmt.Errorf("vote: %w", err)
	}
	if inserted {
		res.Counted = true
	} else {
		changed, err := affected(tx.ExecContext(ctx, s.q(`UPDATE votes SET up = ?, ts = ? WHERE answer_id = ? AND user_hash = ? AND up <> ?`),
			v.Up, millis(v.Time), v.AnswerID, string(v.User), v.Up))
		if err != nil {
			return VoteResult{}, fmt.Errorf("vote: %w", err)
		}
		res.Counted, res.Changed = changed, changed
	}
	err = tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(SUM(CASE WHEN up THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN up THEN 0 ELSE 1 END), 0)
		FROM votes WHERE answer_id = ?`), v.AnswerID).Scan(&res.Up, &res.Down)
	if err != nil {
		return VoteResult{}, fmt.Errorf("vote: count: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return VoteResult{}, fmt.Errorf("vote: commit: %w", err)
	}
	return res, nil
}

// affected reports whether a statement changed a row.
func affected(r sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

// Take counts one event in key's current fixed window.
func (s *DB) Take(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	if window < time.Millisecond {
		return 0, fmt.Errorf("rate limit %s: window %s is shorter than a millisecond", key, window)
	}
	key = clean(key)
	w := window.Milliseconds()
	start := millis(now) / w * w
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO rate_windows (key, window_start, expires, n) VALUES (?, ?, ?, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET n = rate_windows.n + 1
		RETURNING n`), key, start, start+w).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return n, nil
}

// pruneChunk bounds one DELETE, so pruning a large backlog never holds the
// write lock long enough to stall the writer.
const pruneChunk = 5000

// Prune deletes what is older than retention and the ended rate windows.
func (s *DB) Prune(ctx context.Context, now time.Time, retention time.Duration) (Pruned, error) {
	var p Pruned
	cut := millis(now.Add(-retention))
	steps := []struct {
		n     *int64
		what  string
		query string
		arg   int64
	}{
		{&p.Questions, "question log", `DELETE FROM questions WHERE id IN (SELECT id FROM questions WHERE ts < ? LIMIT ` + strconv.Itoa(pruneChunk) + `)`, cut},
		{&p.Answers, "answers", `DELETE FROM answers WHERE id IN (SELECT id FROM answers WHERE ts < ? LIMIT ` + strconv.Itoa(pruneChunk) + `)`, cut},
		{&p.Votes, "votes", `DELETE FROM votes WHERE ts < ?`, cut},
		// Whole days only: the day the cut falls in keeps its count.
		{&p.Days, "question counts", `DELETE FROM question_days WHERE day < ?`, cut / msPerDay},
		{&p.RateWindows, "rate limits", `DELETE FROM rate_windows WHERE expires < ?`, millis(now)},
		{&p.FollowUps, "follow-ups", `DELETE FROM follow_ups WHERE ts < ?`, millis(now.Add(-FollowUpsKept))},
	}
	for _, st := range steps {
		for {
			r, err := s.db.ExecContext(ctx, s.q(st.query), st.arg)
			if err != nil {
				return p, fmt.Errorf("prune %s: %w", st.what, err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return p, fmt.Errorf("prune %s: %w", st.what, err)
			}
			*st.n += n
			if n < pruneChunk {
				break
			}
		}
	}
	return p, nil
}
