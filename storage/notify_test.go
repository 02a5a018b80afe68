package storage

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// events collects what a Listen hands over.
type events struct {
	mu  sync.Mutex
	got []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) has(want Event) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.got {
		if ev == want {
			return true
		}
	}
	return false
}

func TestNotifyReachesEveryReplica(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		replicaA, replicaB := mustOpen(t, b), mustOpen(t, b)
		lctx, cancel := context.WithCancel(ctx)
		var (
			wg        sync.WaitGroup
			onA, onB  events
			listenErr = make(chan error, 2)
		)
		for _, l := range []struct {
			db *DB
			ev *events
		}{{replicaA, &onA}, {replicaB, &onB}} {
			ready := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				listenErr <- l.db.Listen(lctx, ReloadChannel, ready, l.ev.add)
			}()
			<-ready
		}
		defer func() {
			cancel()
			wg.Wait()
			for range 2 {
				if err := <-listenErr; err != nil {
					t.Errorf("Listen returned %v when its context ended", err)
				}
			}
		}()
		if err := replicaA.Notify(ctx, ReloadChannel, "index v2"); err != nil {
			t.Fatal(err)
		}
		if b.name != "postgres" {
			// One process: nothing to tell, nothing delivered.
			time.Sleep(100 * time.Millisecond)
			if len(onA.got)+len(onB.got) != 0 {
				t.Errorf("SQLite delivered %v %v", onA.got, onB.got)
			}
			return
		}
		// Both replicas, the sender too, hear it.
		waitFor(t, func() bool { return onA.has(Event{Payload: "index v2"}) && onB.has(Event{Payload: "index v2"}) })

		// B's listening connection is killed: B makes it again, says it
		// may have missed something, and hears the next one.
		if _, err := b.raw(t).Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()
			AND application_name = current_setting('application_name')`); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return onB.has(Event{Missed: true}) })
		waitFor(t, func() bool {
			replicaA.Notify(ctx, ReloadChannel, "index v3")
			return onB.has(Event{Payload: "index v3"})
		})
		if err := replicaA.Notify(ctx, ReloadChannel, string(make([]byte, 9000))); err == nil {
			t.Error("a 9000-byte payload was sent")
		}
	})
}

// Channels are database-wide in PostgreSQL, tables are per schema: two
// deployments in two schemas of one database must not hear each other's
// reloads.
func TestNotifyStaysInItsSchema(t *testing.T) {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " is not set (a postgres:// URL of a database the tests may create schemas in); .ci/run sets it")
	}
	open := func(connURL string) *DB {
		db, err := openPostgres(ctx, connURL, migrations)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	first, second := open(testSchema(t, base)), open(testSchema(t, base))
	if first.scope == second.scope || first.scope == "" {
		t.Fatalf("scopes %q and %q: want two different, non-empty ones", first.scope, second.scope)
	}
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var onFirst, onSecond events
	for _, l := range []struct {
		db *DB
		ev *events
	}{{first, &onFirst}, {second, &onSecond}} {
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.db.Listen(lctx, ReloadChannel, ready, l.ev.add)
		}()
		<-ready
	}
	defer func() { cancel(); wg.Wait() }()
	if err := first.Notify(ctx, ReloadChannel, "first's reload"); err != nil {
		t.Fatal(err)
	}
	if err := second.Notify(ctx, ReloadChannel, "second's reload"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return onFirst.has(Event{Payload: "first's reload"}) && onSecond.has(Event{Payload: "second's reload"})
	})
	time.Sleep(200 * time.Millisecond) // time for a stray delivery to show
	if onFirst.has(Event{Payload: "second's reload"}) || onSecond.has(Event{Payload: "first's reload"}) {
		t.Errorf("a notification crossed schemas: first heard %v, second %v", onFirst.got, onSecond.got)
	}
}
