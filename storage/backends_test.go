package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresEnv names the database the PostgreSQL half of the suite runs
// against (.ci/run starts one). Each test gets a schema of its own in it.
const PostgresEnv = "STORYBOT_TEST_POSTGRES_URL"

// backend opens databases of one kind for a test.
type backend struct {
	name string
	// open opens a handle on the test's database; every call opens the
	// same database, as a second replica (or a restart) would.
	open func(t *testing.T, ms []migration) (*DB, error)
	// raw is a plain connection to it, for setting up what a test needs.
	raw func(t *testing.T) *sql.DB
}

// forEachBackend runs f against SQLite (a file in t.TempDir()) and, when
// STORYBOT_TEST_POSTGRES_URL is set, against PostgreSQL.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), SQLiteFile)
		f(t, backend{
			name: "sqlite",
			open: func(t *testing.T, ms []migration) (*DB, error) { return openSQLite(context.Background(), path, ms) },
			raw: func(t *testing.T) *sql.DB {
				db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			},
		})
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(PostgresEnv)
		if base == "" {
			t.Skip(PostgresEnv + " is not set (a postgres:// URL of a database the tests may create schemas in); .ci/run sets it")
		}
		connURL := testSchema(t, base)
		f(t, backend{
			name: "postgres",
			open: func(t *testing.T, ms []migration) (*DB, error) {
				return openPostgres(context.Background(), connURL, ms)
			},
			raw: func(t *testing.T) *sql.DB { return rawPostgres(t, connURL) },
		})
	})
}

// testSchema makes a schema for this test in the database at base, dropped
// at the end, and returns a URL whose connections use it.
func testSchema(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "storybot_test_" + hex.EncodeToString(b)
	admin := rawPostgres(t, base)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create test schema in %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Named after the schema, so a test that kills connections kills only
	// its own, never those of tests running beside it on the same server.
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func rawPostgres(t testing.TB, connURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", connURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var _ = stdlib.GetDefaultDriver // registers "pgx" for database/sql

// mustOpen opens b's database with the real migrations.
func mustOpen(t *testing.T, b backend) *DB {
	t.Helper()
	db, err := b.open(t, migrations)
	if err != nil {
		t.Fatalf("open %s: %v", b.name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
