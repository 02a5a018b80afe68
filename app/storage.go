package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"storybot/config"
	"storybot/storage"
)

// ErrNoStorage is OpenDB's error when the config names no database.
var ErrNoStorage = errors.New("no question log: set data_dir (SQLite, one process) or storage.postgres_url (PostgreSQL, many replicas)")

// OpenDB opens the database the config chooses: PostgreSQL when
// storage.postgres_url is set, else SQLite in data_dir. create says whether
// a missing SQLite file may be made (the bot) or is an error (insights,
// which would only find it empty).
func OpenDB(ctx context.Context, cfg *config.Config, create bool) (*storage.DB, error) {
	if cfg.Storage.PostgresURL != "" {
		return storage.OpenPostgres(ctx, cfg.Storage.PostgresURL)
	}
	if cfg.DataDir == "" {
		return nil, ErrNoStorage
	}
	path := filepath.Join(cfg.DataDir, storage.SQLiteFile)
	if !create {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no question log at %s: the bot writes it once it runs with data_dir %s", path, cfg.DataDir)
		}
	}
	return storage.OpenSQLite(ctx, path)
}

// Storage is the bot's database, opened once for serve: the store, the
// writer that takes rows without making anyone wait, and the hasher of
// user IDs.
type Storage struct {
	DB     *storage.DB
	Writer *storage.Writer
	Users  storage.Hasher
	// Shared says whether replicas share the database (PostgreSQL), so
	// rate limits are counted there; one process on SQLite counts its own.
	Shared    bool
	Retention time.Duration
}

// OpenStorage opens the database for serve with the deployment's salt
// (cfg.StorageSalt; with SQLite and none set, one kept in data_dir) and
// starts its writer. The writer outlives ctx, so the answers given while
// the bot drains are still written: Close ends it. It returns ErrNoStorage when the
// config names no database. Close flushes the writer and closes the
// database.
func OpenStorage(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger, m storage.WriterMetrics) (*Storage, error) {
	salt, err := cfg.StorageSalt(getenv)
	if err != nil {
		return nil, err
	}
	if salt == nil && cfg.Storage.PostgresURL == "" && cfg.DataDir != "" {
		if salt, err = storage.DataDirSalt(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
	}
	db, err := OpenDB(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	users, err := storage.NewHasher(salt)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage salt: %w", err)
	}
	w := storage.NewWriter(context.WithoutCancel(ctx), db, storage.WriterOptions{LogQuestions: cfg.Storage.LogQuestions, Metrics: m, Log: log})
	return &Storage{
		DB: db, Writer: w, Users: users, Shared: db.Name() == "postgres",
		Retention: time.Duration(cfg.Storage.RetentionDays) * 24 * time.Hour,
	}, nil
}

// Close writes what is queued (within a few seconds) and closes the
// database.
func (s *Storage) Close() error {
	return errors.Join(s.Writer.Close(), s.DB.Close())
}
