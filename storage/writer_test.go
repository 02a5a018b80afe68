package storage

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// drops counts what a Writer reports through WriterMetrics.
type drops struct {
	mu       sync.Mutex
	rows     map[string]int
	failures int
}

func (d *drops) StorageDropped(kind string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rows == nil {
		d.rows = map[string]int{}
	}
	d.rows[kind] += n
}

func (d *drops) StorageWriteFailed() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failures++
}

func (d *drops) total() (rows, failures int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range d.rows {
		rows += n
	}
	return rows, d.failures
}

func TestWriterWritesEverythingByClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		var m drops
		w := NewWriter(ctx, db, WriterOptions{LogQuestions: true, Metrics: &m})
		const n = 2000
		for i := range n {
			id := fmt.Sprint("a", i)
			if !w.SaveAnswer(Answer{ID: id, Time: day0, Question: "q?", Outcome: OutcomeNone}) ||
				!w.LogQuestion(Question{Time: day0.Add(time.Duration(i) * time.Second), User: "u", Text: fmt.Sprint("question ", i%7), Outcome: OutcomeNone, AnswerID: id}) ||
				!w.Vote(Vote{AnswerID: id, User: "u", Up: false, Time: day0}) {
				t.Fatalf("row %d dropped with an empty queue", i)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if w.Dropped() != 0 || w.Healthy() != nil {
			t.Errorf("dropped %d, healthy %v", w.Dropped(), w.Healthy())
		}
		in, err := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 100)
		if err != nil {
			t.Fatal(err)
		}
		if in.Total() != n || len(in.Unanswered) != 7 || len(in.Disliked) != 100 {
			t.Errorf("after Close: %d questions, %d groups, %d disliked", in.Total(), len(in.Unanswered), len(in.Disliked))
		}
		if _, err := db.Answer(ctx, "a1999"); err != nil {
			t.Error(err)
		}
		// After Close rows are dropped and counted, never sent.
		if w.LogQuestion(Question{Time: day0, Outcome: OutcomeNone}) {
			t.Error("a closed writer took a row")
		}
		if rows, _ := m.total(); rows != 1 {
			t.Errorf("%d dropped rows counted, want 1", rows)
		}
	})
}

func TestWriterKeepsNoTextWhenQuestionsAreNotLogged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		w := NewWriter(ctx, db, WriterOptions{LogQuestions: false})
		w.LogQuestion(question(day0, "Who favors strikes?", OutcomeNone))
		w.SaveAnswer(Answer{ID: "a1", Time: day0, Question: "Who favors strikes?", Outcome: OutcomeNone})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var texts, keys int
		if err := b.raw(t).QueryRow(`SELECT COUNT(question), COUNT(NULLIF(question_key, '')) FROM questions`).Scan(&texts, &keys); err != nil {
			t.Fatal(err)
		}
		a, err := db.Answer(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if texts != 0 || keys != 0 || a.Question != "" {
			t.Errorf("with log_questions false: %d texts, %d keys, answer question %q", texts, keys, a.Question)
		}
		in, _ := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 10)
		if in.ByOutcome[OutcomeNone] != 1 {
			t.Errorf("the outcome was not kept: %v", in.ByOutcome)
		}
	})
}

// TestWriterDropsAndCountsWhenTheDatabaseIsBusy holds SQLite's write lock
// from another connection, as a long migration or a stuck process would:
// the writer's attempts time out, the queue fills, rows are dropped and
// counted, LogQuestion never waits, and Healthy says so until the lock goes.
func TestWriterDropsAndCountsWhenTheDatabaseIsBusy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		lock, err := b.raw(t).Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		lockStmts := []string{`BEGIN EXCLUSIVE`}
		if b.name == "postgres" {
			lockStmts = []string{`BEGIN`, `LOCK TABLE questions IN ACCESS EXCLUSIVE MODE`}
		}
		for _, st := range lockStmts {
			if _, err := lock.ExecContext(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		var m drops
		w := NewWriter(ctx, db, WriterOptions{LogQuestions: true, QueueSize: 8, BatchSize: 4, WriteTimeout: 50 * time.Millisecond, Metrics: &m})
		defer w.Close()
		took := 0
		const n = 100
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range n {
				if w.LogQuestion(question(day0, fmt.Sprint("q", i), OutcomeNone)) {
					took++
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("LogQuestion blocked while the database was locked")
		}
		if took >= n {
			t.Fatalf("all %d rows queued in a queue of 8", n)
		}
		waitFor(t, func() bool { return w.Healthy() != nil })
		if b.name == "postgres" {
			// PostgreSQL cancels an attempt at the write timeout; SQLite's
			// busy wait (5 s) does not heed it, so there the queue filling
			// up is what Healthy reports.
			waitFor(t, func() bool { _, f := m.total(); return f > 0 })
			if err := w.Healthy(); err == nil || !strings.Contains(err.Error(), "writes failing") {
				t.Errorf("Healthy after failed writes: %v", err)
			}
		}
		if err := w.Healthy(); !strings.Contains(err.Error(), "storage degraded") {
			t.Errorf("Healthy: %v", err)
		}
		rows, _ := m.total()
		if rows < n-took || int64(rows) != w.Dropped() {
			t.Errorf("counted %d dropped rows (writer says %d); at least %d were refused", rows, w.Dropped(), n-took)
		}
		if _, err := lock.ExecContext(ctx, `ROLLBACK`); err != nil {
			t.Fatal(err)
		}
		// Once the database takes rows again, the writer is healthy and the
		// next rows arrive.
		waitFor(t, func() bool {
			w.LogQuestion(question(day0.Add(time.Hour), "after", OutcomeAnswer))
			return w.Healthy() == nil
		})
		if err := w.Close(); err != nil {
			t.Fatalf("Close after recovery: %v", err)
		}
		_, failures := m.total()
		in, _ := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 10)
		if (b.name == "postgres" && failures == 0) || in.ByOutcome[OutcomeAnswer] == 0 {
			t.Errorf("%d failed attempts counted; %d rows written after the lock went", failures, in.ByOutcome[OutcomeAnswer])
		}
		if in.Total()+int(w.Dropped()) < took {
			t.Errorf("rows lost without being counted: %d written + %d dropped < %d queued", in.Total(), w.Dropped(), took)
		}
	})
}

func TestWriterStopsWithItsContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		wctx, cancel := context.WithCancel(ctx)
		w := NewWriter(wctx, db, WriterOptions{LogQuestions: true})
		for i := range 100 {
			w.LogQuestion(question(day0, fmt.Sprint("q", i), OutcomeNone))
		}
		cancel()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		in, _ := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 10)
		if in.Total()+int(w.Dropped()) != 100 {
			t.Errorf("%d written + %d dropped, want 100", in.Total(), w.Dropped())
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWriterSurvivesKilledConnections kills every connection the writer has
// to PostgreSQL, again and again, while it writes: each failed batch is
// retried on a new connection, so every row arrives.
func TestWriterSurvivesKilledConnections(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		if b.name != "postgres" {
			t.Skip("SQLite has no connections to kill")
		}
		db := mustOpen(t, b)
		raw := b.raw(t)
		var m drops
		w := NewWriter(ctx, db, WriterOptions{LogQuestions: true, BatchSize: 20, Metrics: &m})
		const n = 2000
		for i := range n {
			if !w.LogQuestion(question(day0, fmt.Sprint("q", i), OutcomeNone)) {
				t.Fatalf("row %d dropped", i)
			}
			if i%200 == 0 {
				if _, err := raw.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
					AND application_name = current_setting('application_name')`); err != nil {
					t.Fatal(err)
				}
			}
			if i%50 == 0 {
				time.Sleep(time.Millisecond) // let batches go out between kills
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		in, err := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 10)
		if err != nil {
			t.Fatal(err)
		}
		_, failures := m.total()
		t.Logf("%d failed attempts, retried", failures)
		if in.Total() != n || w.Dropped() != 0 {
			t.Errorf("%d of %d rows written, %d dropped", in.Total(), n, w.Dropped())
		}
	})
}

// TestWriterDropsOnlyTheRowsTheDatabaseRefuses puts a row the database
// refuses (an outcome it does not know) among good ones in one batch: the
// good ones are written, the bad one alone is dropped and counted.
func TestWriterDropsOnlyTheRowsTheDatabaseRefuses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		var m drops
		w := NewWriter(ctx, db, WriterOptions{LogQuestions: true, Metrics: &m})
		var batch []item
		for i := range 21 {
			o := OutcomeNone
			if i == 13 {
				o = "maybe"
			}
			q := question(day0, fmt.Sprint("q", i), o)
			batch = append(batch, item{q: &q})
		}
		// As the writer's goroutine would with these 21 queued at once.
		w.write(ctx, ctx, batch)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		in, _ := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 100)
		rows, _ := m.total()
		if in.Total() != 20 || rows != 1 || w.Dropped() != 1 || m.rows["question"] != 1 {
			t.Errorf("%d written, %d dropped (counted %d), want 20 and 1", in.Total(), w.Dropped(), rows)
		}
	})
}
