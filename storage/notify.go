package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ReloadChannel is where a replica announces that the knowledge changed, so
// every replica reloads (the payload is up to the sender, e.g. the index
// version it built).
const ReloadChannel = "storybot_reload"

// maxPayload is PostgreSQL's limit on a notification's payload, less one.
const maxPayload = 7999

// Event is one notification.
type Event struct {
	Payload string
	// Missed is set, with no payload, after the listening connection was
	// lost and made again: notifications sent meanwhile are gone, so the
	// listener should check for itself (re-read the knowledge folder, say).
	Missed bool
}

// Notify sends payload to every Listen on channel, in this process and every
// other sharing the database and schema, once the transaction commits (at once here).
// On SQLite there is only one process, and nobody else to tell: it does
// nothing.
func (s *DB) Notify(ctx context.Context, channel, payload string) error {
	if s.d.name != "postgres" {
		return nil
	}
	if len(payload) > maxPayload {
		return fmt.Errorf("notify %s: payload of %d bytes; the limit is %d", channel, len(payload), maxPayload)
	}
	if _, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel+s.scope, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen calls handle for every notification on channel until ctx ends, on a
// connection of its own. A lost connection is made again (with backoff), and
// handle then gets an Event with Missed set. ready, if not nil, is closed
// once the first LISTEN is in place, so a caller can wait before relying on
// it. On SQLite it only waits for ctx. It returns nil when ctx ends.
func (s *DB) Listen(ctx context.Context, channel string, ready chan<- struct{}, handle func(Event)) error {
	if s.d.name != "postgres" {
		if ready != nil {
			close(ready)
		}
		<-ctx.Done()
		return nil
	}
	backoff := firstBackoff
	connected := false
	for {
		err := s.listenOnce(ctx, channel, func() {
			if !connected {
				connected = true
				if ready != nil {
					close(ready)
				}
			} else {
				handle(Event{Missed: true})
			}
			backoff = firstBackoff
		}, handle)
		if ctx.Err() != nil {
			return nil
		}
		if !connected && errors.Is(err, errNotPgx) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

var errNotPgx = errors.New("listen: the connection is not a pgx connection")

// listenOnce listens on one connection until it fails or ctx ends; listening
// is called once LISTEN is in place.
func (s *DB) listenOnce(ctx context.Context, channel string, listening func(), handle func(Event)) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("listen %s: %w", channel, err)
	}
	defer conn.Close()
	// Every way out returns driver.ErrBadConn too, so database/sql discards
	// the connection, LISTEN and all, rather than pool it.
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errNotPgx
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel + s.scope}.Sanitize()); err != nil {
			return errors.Join(fmt.Errorf("listen %s: %w", channel, err), driver.ErrBadConn)
		}
		listening()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return errors.Join(fmt.Errorf("listen %s: %w", channel, err), driver.ErrBadConn)
			}
			handle(Event{Payload: n.Payload})
		}
	})
}
