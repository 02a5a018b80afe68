package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Writer defaults.
const (
	DefaultQueueSize    = 10000
	DefaultBatchSize    = 500
	DefaultWriteTimeout = 5 * time.Second
	// writeAttempts is how often a batch is tried before it is dropped:
	// with the backoff below, about 3 s of a database that does not
	// answer.
	writeAttempts = 5
	firstBackoff  = 100 * time.Millisecond
	// closeTimeout bounds the final flush, so a dead database cannot hold
	// up a shutdown.
	closeTimeout = 5 * time.Second
)

// WriterMetrics counts what a Writer could not write. metrics.Metrics
// implements it.
type WriterMetrics interface {
	// StorageDropped counts n rows of kind ("question", "answer", "vote",
	// "follow_up") that were never written.
	StorageDropped(kind string, n int)
	// StorageWriteFailed counts one failed attempt to write a batch.
	StorageWriteFailed()
}

// WriterOptions configures a Writer. Zero values mean the defaults.
type WriterOptions struct {
	// LogQuestions keeps the question text. False (storage.log_questions:
	// false) blanks it in every question row and answer before it is
	// queued, so it never reaches the database.
	LogQuestions bool
	QueueSize    int
	BatchSize    int
	WriteTimeout time.Duration
	Metrics      WriterMetrics
	Log          *slog.Logger
}

// Writer puts rows in the database from its own goroutine, so the bot never
// waits for the database. Rows queue in a bounded buffer; the goroutine
// writes whatever has queued as one transaction (a busy bot gets large
// batches, a quiet one gets its rows written at once). When the database is
// slow or down, a batch is retried for a few seconds and then dropped, and
// once the buffer is full new rows are dropped: both are counted, and
// Healthy reports it.
type Writer struct {
	store Store
	opt   WriterOptions
	queue chan item

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	done   chan struct{}
	cancel context.CancelFunc

	health   atomic.Pointer[error] // last write's error, nil when it worked
	dropped  atomic.Int64
	failedAt atomic.Int64 // unix ms of the first failure of the current run
}

type item struct {
	q *Question
	a *Answer
	v *Vote
	f *FollowUp
}

func (it item) kind() string {
	switch {
	case it.q != nil:
		return "question"
	case it.a != nil:
		return "answer"
	case it.f != nil:
		return "follow_up"
	}
	return "vote"
}

// NewWriter starts a Writer on s. It runs until ctx ends or Close is
// called; either way the rows already queued are written (within a few
// seconds) before it stops. Close waits for it.
func NewWriter(ctx context.Context, s Store, opt WriterOptions) *Writer {
	if opt.QueueSize < 1 {
		opt.QueueSize = DefaultQueueSize
	}
	if opt.BatchSize < 1 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = DefaultWriteTimeout
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Writer{store: s, opt: opt, queue: make(chan item, opt.QueueSize), done: make(chan struct{}), cancel: cancel}
	go w.run(ctx)
	return w
}

// LogQuestion queues a question-log row. It never blocks; false means the
// row was dropped (and counted).
func (w *Writer) LogQuestion(q Question) bool {
	if !w.opt.LogQuestions {
		q.Text = ""
	}
	return w.enqueue(item{q: &q})
}

// SaveAnswer queues an answer. It never blocks; false means it was dropped.
func (w *Writer) SaveAnswer(a Answer) bool {
	if !w.opt.LogQuestions {
		a.Question = ""
	}
	return w.enqueue(item{a: &a})
}

// Vote queues a vote, for when Store.Vote could not be reached in time. It
// never blocks; false means it was dropped.
func (w *Writer) Vote(v Vote) bool { return w.enqueue(item{v: &v}) }

// SaveFollowUp queues a conversation's last quoted story. It never blocks;
// false means it was dropped.
func (w *Writer) SaveFollowUp(f FollowUp) bool { return w.enqueue(item{f: &f}) }

func (w *Writer) enqueue(it item) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		select {
		case w.queue <- it:
			return true
		default:
		}
	}
	w.drop(it.kind(), 1)
	return false
}

func (w *Writer) drop(kind string, n int) {
	w.dropped.Add(int64(n))
	if w.opt.Metrics != nil {
		w.opt.Metrics.StorageDropped(kind, n)
	}
}

// Dropped is how many rows were never written.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Healthy is nil while rows reach the database, and says why not when the
// last write failed or the queue is nearly full: /readyz reports it as a
// degraded state. Answers go on either way.
func (w *Writer) Healthy() error {
	if p := w.health.Load(); p != nil && *p != nil {
		since := time.UnixMilli(w.failedAt.Load()).UTC().Format(time.RFC3339)
		return fmt.Errorf("storage degraded: writes failing since %s (%d rows dropped so far): %w", since, w.Dropped(), *p)
	}
	if n, c := len(w.queue), cap(w.queue); n >= c*9/10 {
		return fmt.Errorf("storage degraded: %d of %d queued rows waiting for the database", n, c)
	}
	return nil
}

// Close stops taking rows, writes those queued and waits for the writer's
// goroutine. A database that does not take them gets closeTimeout to
// finish the batch under way, and closeTimeout more for the rest; what is
// left is dropped and counted, as are rows queued after Close.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
		w.cancel()
		<-w.done
	}
	w.cancel()
	if p := w.health.Load(); p != nil && *p != nil {
		return fmt.Errorf("storage writer: %w", *p)
	}
	return nil
}

func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	for ctx.Err() == nil {
		select {
		case it, ok := <-w.queue:
			if !ok {
				return // closed and drained
			}
			w.write(context.WithoutCancel(ctx), ctx, w.collect(it))
		case <-ctx.Done():
		}
	}
	w.flushOnStop()
}

// collect makes a batch of first and whatever else is queued, without
// waiting for more.
func (w *Writer) collect(first item) []item {
	items := []item{first}
	for len(items) < w.opt.BatchSize {
		select {
		case it, ok := <-w.queue:
			if !ok {
				return items
			}
			items = append(items, it)
		default:
			return items
		}
	}
	return items
}

// flushOnStop writes what is queued once the writer's context has ended,
// within closeTimeout; the rest is dropped and counted.
func (w *Writer) flushOnStop() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	for {
		select {
		case it, ok := <-w.queue:
			if !ok {
				return
			}
			items := w.collect(it)
			if ctx.Err() != nil {
				w.dropItems(items)
				continue
			}
			w.write(ctx, ctx, items)
		default:
			return
		}
	}
}

// write tries a batch with backoff, then drops it. Each attempt runs under
// attempts (and the write timeout); retrying stops when retries ends.
func (w *Writer) write(attempts, retries context.Context, items []item) {
	backoff := firstBackoff
	var (
		err  error
		took time.Duration
	)
	for attempt := 1; attempt <= writeAttempts; attempt++ {
		if took, err = w.attempt(attempts, items); err == nil {
			return
		}
		w.opt.Log.Warn("storage write failed", "rows", len(items), "attempt", attempt, "err", err)
		if attempt == writeAttempts || retries.Err() != nil {
			break
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-retries.Done():
			t.Stop()
		}
		backoff *= 2
	}
	if len(items) > 1 && refused(took, err) && w.reachable(attempts) {
		// The database answers, and at once, but refuses the batch: some
		// row in it is bad. Halving finds it, and the rest are written. (A
		// slow or locked database is not halved: that would only wait
		// longer.)
		w.isolate(attempts, items)
		return
	}
	w.opt.Log.Error("storage rows dropped: the database did not take them", "rows", len(items), "err", err)
	w.dropItems(items)
}

// isolate writes items in halves, once each, down to single rows, so only
// the rows the database refuses are dropped. It stops halving, and drops
// the rest, if the database stops answering meanwhile.
func (w *Writer) isolate(ctx context.Context, items []item) {
	took, err := w.attempt(ctx, items)
	switch {
	case err == nil:
		return
	case len(items) == 1 || !refused(took, err) || !w.reachable(ctx):
		w.opt.Log.Error("storage rows dropped: the database refused them", "rows", len(items), "kind", items[0].kind(), "err", err)
		w.dropItems(items)
		return
	}
	h := len(items) / 2
	w.isolate(ctx, items[:h])
	w.isolate(ctx, items[h:])
}

// refusedWithin tells a refused batch from a slow database: a database
// that refuses rows says so at once.
const refusedWithin = time.Second

// refused reports whether a failed attempt looks like rows the database
// will not take, rather than a database too slow to answer.
func refused(took time.Duration, err error) bool {
	return took < refusedWithin && !errors.Is(err, context.DeadlineExceeded)
}

// attempt writes items once, as one batch, records the outcome for Healthy
// and the metrics, and says how long it took.
func (w *Writer) attempt(ctx context.Context, items []item) (time.Duration, error) {
	var b Batch
	for _, it := range items {
		switch {
		case it.q != nil:
			b.Questions = append(b.Questions, *it.q)
		case it.a != nil:
			b.Answers = append(b.Answers, *it.a)
		case it.f != nil:
			b.FollowUps = append(b.FollowUps, *it.f)
		default:
			b.Votes = append(b.Votes, *it.v)
		}
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, w.opt.WriteTimeout)
	err := w.store.Write(wctx, b)
	cancel()
	took := time.Since(start)
	if err == nil {
		w.health.Store(nil)
		return took, nil
	}
	if w.opt.Metrics != nil {
		w.opt.Metrics.StorageWriteFailed()
	}
	if p := w.health.Load(); p == nil || *p == nil {
		w.failedAt.Store(time.Now().UnixMilli())
	}
	w.health.Store(&err)
	return took, err
}

// reachable reports whether the store answers a ping within a second (a
// store that cannot be pinged counts as reachable).
func (w *Writer) reachable(ctx context.Context) bool {
	p, ok := w.store.(interface{ Ping(context.Context) error })
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return p.Ping(ctx) == nil
}

func (w *Writer) dropItems(items []item) {
	n := map[string]int{}
	for _, it := range items {
		n[it.kind()]++
	}
	for kind, c := range n {
		w.drop(kind, c)
	}
}
