package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one step of the schema. Steps are never edited once
// released: a change is a new step.
type migration struct {
	version int
	what    string
	// stmts makes the statements for a dialect.
	stmts func(d dialect) []string
}

// migrations is the schema, oldest first; versions count up from 1.
var migrations = []migration{
	{1, "question log, answers, votes, rate-limit windows", func(d dialect) []string {
		return []string{
			`CREATE TABLE questions (
				id ` + d.idColumn + `,
				ts BIGINT NOT NULL,
				guild_id TEXT NOT NULL,
				channel_kind TEXT NOT NULL,
				user_hash TEXT NOT NULL,
				question TEXT,
				question_key TEXT NOT NULL,
				outcome TEXT NOT NULL,
				answer_id TEXT NOT NULL,
				story TEXT NOT NULL,
				paragraph INTEGER NOT NULL,
				sentence INTEGER NOT NULL,
				score DOUBLE PRECISION NOT NULL,
				latency_us BIGINT NOT NULL,
				index_version TEXT NOT NULL
			)`,
			// Questions per UTC day by outcome, kept up to date by every
			// write, so insights never count a million rows.
			`CREATE TABLE question_days (
				day BIGINT NOT NULL,
				outcome TEXT NOT NULL,
				n BIGINT NOT NULL,
				PRIMARY KEY (day, outcome)
			)`,
			// Declined and hedged questions grouped by wording, from the
			// index alone, already in group order.
			`CREATE INDEX questions_unanswered ON questions (question_key, ts, outcome) WHERE outcome <> 'answer'`,
			// Pruning by age.
			`CREATE INDEX questions_ts ON questions (ts)`,
			`CREATE TABLE answers (
				id TEXT PRIMARY KEY,
				ts BIGINT NOT NULL,
				question TEXT,
				outcome TEXT NOT NULL,
				index_version TEXT NOT NULL,
				citations TEXT NOT NULL
			)`,
			`CREATE INDEX answers_ts ON answers (ts)`,
			`CREATE TABLE votes (
				answer_id TEXT NOT NULL,
				user_hash TEXT NOT NULL,
				up BOOLEAN NOT NULL,
				ts BIGINT NOT NULL,
				PRIMARY KEY (answer_id, user_hash)
			)`,
			`CREATE INDEX votes_ts ON votes (ts)`,
			`CREATE TABLE rate_windows (
				key TEXT NOT NULL,
				window_start BIGINT NOT NULL,
				expires BIGINT NOT NULL,
				n INTEGER NOT NULL,
				PRIMARY KEY (key, window_start)
			)`,
			`CREATE INDEX rate_windows_expires ON rate_windows (expires)`,
		}
	}},
	{2, "follow-ups: each conversation's last quoted story", func(d dialect) []string {
		return []string{
			`CREATE TABLE follow_ups (
				key TEXT PRIMARY KEY,
				story TEXT NOT NULL,
				ts BIGINT NOT NULL
			)`,
			`CREATE INDEX follow_ups_ts ON follow_ups (ts)`,
		}
	}},
}

// SchemaVersion is the schema this storybot writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the schema up to the last of ms, one transaction per step,
// so a step that fails leaves the database as it was before that step. It
// is idempotent, and safe when several processes start at once (SQLite's
// write lock, or the dialect's lock on PostgreSQL, orders them).
func migrate(ctx context.Context, db *sql.DB, d dialect, ms []migration) error {
	latest := ms[len(ms)-1].version
	for {
		done, err := migrateStep(ctx, db, d, ms, latest)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next step, if any, in one transaction.
func migrateStep(ctx context.Context, db *sql.DB, d dialect, ms []migration, latest int) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate %s: begin: %w", d.where, err)
	}
	defer tx.Rollback()
	if d.lock != "" {
		if _, err := tx.ExecContext(ctx, d.lock); err != nil {
			return false, fmt.Errorf("migrate %s: lock: %w", d.where, err)
		}
	}
	for _, st := range []string{
		`CREATE TABLE IF NOT EXISTS storybot_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
		`INSERT INTO storybot_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
	} {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return false, fmt.Errorf("migrate %s: %w", d.where, err)
		}
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT version FROM storybot_schema WHERE id = 1`).Scan(&v); err != nil {
		return false, fmt.Errorf("migrate %s: read schema version: %w", d.where, err)
	}
	if v > latest {
		return false, fmt.Errorf("the database at %s has schema version %d, newer than this storybot knows (%d): run the newer storybot that wrote it, or point %s at another database",
			d.where, v, latest, d.setting())
	}
	var next *migration
	for i := range ms {
		if ms[i].version > v {
			next = &ms[i]
			break
		}
	}
	if next == nil {
		return true, tx.Commit()
	}
	for i, st := range next.stmts(d) {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return false, fmt.Errorf("migrate %s to schema version %d (%s): statement %d: %w; rolled back, the database stays at version %d",
				d.where, next.version, next.what, i+1, err, v)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE storybot_schema SET version = `+fmt.Sprint(next.version)+` WHERE id = 1`); err != nil {
		return false, fmt.Errorf("migrate %s: record version %d: %w", d.where, next.version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %s to schema version %d: commit: %w", d.where, next.version, err)
	}
	return false, nil
}

// setting is the configuration key that chooses this database.
func (d dialect) setting() string {
	if d.name == "postgres" {
		return "storage.postgres_url"
	}
	return "data_dir"
}
