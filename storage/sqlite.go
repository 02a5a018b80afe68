package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" driver: pure Go, no cgo
)

// SQLiteFile is the database's name in the data directory.
const SQLiteFile = "storybot.db"

// OpenSQLite opens (creating it if needed) the SQLite database at path and
// brings its schema up to date.
//
// WAL lets the insights query read while the writer writes; a 5 s busy
// timeout lets a second process (storybot insights beside the bot) wait
// for the write lock rather than fail; transactions take the write lock at
// BEGIN (immediate), so two writers never deadlock upgrading a read lock.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	return openSQLite(ctx, path, migrations)
}

func openSQLite(ctx context.Context, path string, ms []migration) (*DB, error) {
	d := dialect{
		name:     "sqlite",
		where:    "data_dir " + path,
		idColumn: "INTEGER PRIMARY KEY",
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=cache_size(-16000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d.where, err)
	}
	// A few connections: readers run beside the one writer under WAL.
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", d.where, err)
	}
	if err := migrate(ctx, db, d, ms); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db: db, d: d}, nil
}
