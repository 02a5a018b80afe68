package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// connectTimeout bounds the first connection when the URL sets none, so a
// wrong host fails the start in seconds rather than hanging.
const connectTimeout = 10 * time.Second

// migrationLock is the advisory lock every migration transaction takes: an
// arbitrary number, the same in every storybot.
const migrationLock = `SELECT pg_advisory_xact_lock(7263551015)`

// OpenPostgres connects to the PostgreSQL database at connURL (a
// postgres:// URL or key=value settings) and brings its schema up to date.
// No error holds the password.
func OpenPostgres(ctx context.Context, connURL string) (*DB, error) {
	return openPostgres(ctx, connURL, migrations)
}

func openPostgres(ctx context.Context, connURL string, ms []migration) (*DB, error) {
	db, d, err := connectPostgres(ctx, connURL)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, d, ms); err != nil {
		db.Close()
		return nil, redactPassword(err, connURL, "")
	}
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		db.Close()
		return nil, redactPassword(fmt.Errorf("%s: read the current schema: %w", d.where, err), connURL, "")
	}
	return &DB{db: db, d: d, scope: channelScope(schema)}, nil
}

// channelScope is the suffix of this schema's notification channels: none
// for "public", else a short hash of the schema's name (channel names are
// identifiers of at most 63 bytes, schema names may be as long).
func channelScope(schema string) string {
	if schema == "" || schema == "public" {
		return ""
	}
	sum := sha256.Sum256([]byte(schema))
	return "_" + hex.EncodeToString(sum[:4])
}

func connectPostgres(ctx context.Context, connURL string) (*sql.DB, dialect, error) {
	d := dialect{
		name:     "postgres",
		where:    "storage.postgres_url",
		dollar:   true,
		idColumn: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		lock:     migrationLock,
	}
	cfg, err := pgx.ParseConfig(connURL)
	if err != nil {
		return nil, d, redactPassword(fmt.Errorf("storage.postgres_url: %w", err), connURL, "")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	d.where = fmt.Sprintf("storage.postgres_url (host %s, database %s)", cfg.Host, cfg.Database)
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, d, redactPassword(fmt.Errorf("connect to %s: %w", d.where, err), connURL, cfg.Password)
	}
	return db, d, nil
}

// redactPassword replaces the password of connURL (and pw, as parsed) in
// err's message. The result does not wrap err, whose message may hold it.
func redactPassword(err error, connURL, pw string) error {
	var secrets []string
	if pw != "" {
		secrets = append(secrets, pw)
	}
	if u, perr := url.Parse(connURL); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	// key=value form: password=secret or password='se cret'
	for _, f := range strings.Fields(connURL) {
		if v, ok := strings.CutPrefix(f, "password="); ok && v != "" {
			secrets = append(secrets, strings.Trim(v, "'"))
		}
	}
	msg := err.Error()
	redacted := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
			redacted = true
		}
	}
	if !redacted {
		return err
	}
	return errors.New(msg)
}
