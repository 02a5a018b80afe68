package storage

import (
	"net/url"
	"os"
	"strings"
	"testing"
)

func schemaVersion(t *testing.T, b backend) int {
	t.Helper()
	var v int
	if err := b.raw(t).QueryRow(`SELECT version FROM storybot_schema`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func tableExists(t *testing.T, b backend, name string) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if b.name == "postgres" {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := b.raw(t).QueryRow(q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestMigrationsAreIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for range 3 {
			db := mustOpen(t, b)
			db.Close()
		}
		if v := schemaVersion(t, b); v != SchemaVersion() {
			t.Errorf("schema version %d, want %d", v, SchemaVersion())
		}
	})
}

// TestUpgradeFromVersion1: a database an earlier storybot made (schema 1)
// gains the follow-ups table at open and keeps what it held.
func TestUpgradeFromVersion1(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		old, err := b.open(t, migrations[:1])
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Write(ctx, Batch{Answers: []Answer{{ID: "kept", Time: day0, Outcome: OutcomeAnswer}}}); err != nil {
			t.Fatal(err)
		}
		old.Close()
		if tableExists(t, b, "follow_ups") {
			t.Fatal("schema 1 already has follow_ups: the test shows nothing")
		}
		db := mustOpen(t, b)
		if v := schemaVersion(t, b); v != SchemaVersion() || !tableExists(t, b, "follow_ups") {
			t.Errorf("after the upgrade: schema version %d (want %d), follow_ups %v", v, SchemaVersion(), tableExists(t, b, "follow_ups"))
		}
		if _, err := db.Answer(ctx, "kept"); err != nil {
			t.Errorf("the answer stored before the upgrade: %v", err)
		}
		if err := db.Write(ctx, Batch{FollowUps: []FollowUp{{Key: "k", Story: "s", Time: day0}}}); err != nil {
			t.Errorf("a follow-up after the upgrade: %v", err)
		}
	})
}

func TestNewerSchemaIsRefusedNamingTheSetting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		mustOpen(t, b).Close()
		if _, err := b.raw(t).Exec(`UPDATE storybot_schema SET version = 99`); err != nil {
			t.Fatal(err)
		}
		_, err := b.open(t, migrations)
		t.Log(err)
		setting := map[string]string{"sqlite": "data_dir", "postgres": "storage.postgres_url"}[b.name]
		if err == nil || !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), "newer") ||
			!strings.Contains(err.Error(), setting) {
			t.Errorf("opening a newer schema: %v; want an error naming version 99 and %s", err, setting)
		}
	})
}

func TestFailedMigrationRollsBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		mustOpen(t, b).Close()
		broken := append(append([]migration(nil), migrations...), migration{
			version: SchemaVersion() + 1,
			what:    "a step that fails half-way",
			stmts: func(dialect) []string {
				return []string{
					`CREATE TABLE half_done (x INTEGER)`,
					`INSERT INTO questions (no_such_column) VALUES (1)`,
				}
			},
		})
		_, err := b.open(t, broken)
		t.Log(err)
		if err == nil || !strings.Contains(err.Error(), "rolled back") || !strings.Contains(err.Error(), "statement 2") {
			t.Fatalf("the failing step gave %v", err)
		}
		if tableExists(t, b, "half_done") {
			t.Error("the first statement of the failed step was kept")
		}
		if v := schemaVersion(t, b); v != SchemaVersion() {
			t.Errorf("schema version %d after the failed step, want %d", v, SchemaVersion())
		}
		// The database still works with the released schema.
		db := mustOpen(t, b)
		if err := db.Write(ctx, Batch{Questions: []Question{question(day0, "still?", OutcomeAnswer)}}); err != nil {
			t.Error(err)
		}
	})
}

func TestFirstMigrationFailingLeavesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		broken := []migration{{1, "fails", func(d dialect) []string {
			return append(migrations[0].stmts(d), `CREATE TABLE questions (x INTEGER)`) // a duplicate: fails last
		}}}
		if _, err := b.open(t, broken); err == nil {
			t.Fatal("a failing first step was not reported")
		}
		if tableExists(t, b, "questions") || tableExists(t, b, "votes") {
			t.Error("tables of the failed first step were kept")
		}
		// Even the version table, made in the same transaction, is gone.
		if tableExists(t, b, "storybot_schema") {
			t.Error("the schema table of the failed first step was kept")
		}
		mustOpen(t, b)
	})
}

func TestBadPostgresURLNamesTheSettingNotThePassword(t *testing.T) {
	const secret = "hunter2-very-secret"
	for _, tc := range []struct{ name, url string }{
		{"unparsable port", "postgres://storybot:" + secret + "@localhost:notaport/storybot"},
		{"unknown setting", "host=localhost password=" + secret + " sslmode=sometimes"},
		{"nothing listening", "postgres://storybot:" + secret + "@127.0.0.1:1/storybot?connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenPostgres(ctx, tc.url)
			t.Log(err)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "storage.postgres_url") {
				t.Errorf("error does not name storage.postgres_url: %v", err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		base := os.Getenv(PostgresEnv)
		if base == "" {
			t.Skip(PostgresEnv + " is not set")
		}
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := u.User.Password(); !ok {
			t.Skip(PostgresEnv + " has no password, so the server may not ask for one")
		}
		u.User = url.UserPassword(u.User.Username(), secret)
		_, err = OpenPostgres(ctx, u.String())
		if err == nil {
			t.Skip("the server took a wrong password (trust authentication)")
		}
		if !strings.Contains(err.Error(), "storage.postgres_url") || strings.Contains(err.Error(), secret) {
			t.Errorf("wrong password: %v", err)
		}
	})
}
