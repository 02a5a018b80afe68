package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"storybot/retrieval"
	"storybot/storage"
)

// ReplyChannel is where replicas answer a reload asked for on
// storage.ReloadChannel.
const ReplyChannel = "storybot_reload_reply"

// DefaultCollect is how long ReloadOthers waits for the replicas' answers:
// there is no list of replicas, so whoever answers within it is reported.
const DefaultCollect = 2 * time.Second

// ReplicaResult is what one replica's reload did.
type ReplicaResult struct {
	Replica string `json:"replica"`
	Version string `json:"version,omitempty"`
	Err     string `json:"error,omitempty"`
	// ID is the request answered.
	ID string `json:"id"`
}

type reloadRequest struct {
	ID   string `json:"id"`
	From string `json:"from"`
}

// Notifier is the part of storage.DB that replicas talk through
// (PostgreSQL LISTEN/NOTIFY).
type Notifier interface {
	Notify(ctx context.Context, channel, payload string) error
	Listen(ctx context.Context, channel string, ready chan<- struct{}, handle func(storage.Event)) error
}

// Replicas makes a /reload on one replica reload every replica sharing the
// database: each re-reads the shared knowledge folder through its own one
// reloader and reports its result and index version.
type Replicas struct {
	// ID names this replica in reports (host name and a random suffix).
	ID      string
	db      Notifier
	reload  func(ctx context.Context, reason string) (retrieval.ReloadReport, error)
	version func() string
	log     *slog.Logger

	mu      sync.Mutex
	waiting map[string]chan ReplicaResult
}

// NewReplicas ties reload (the one Reloader's Reload) to the database's
// notifications; version tells the index version now served.
func NewReplicas(db Notifier, reload func(ctx context.Context, reason string) (retrieval.ReloadReport, error), version func() string, log *slog.Logger) *Replicas {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b)
	return &Replicas{ID: host + "-" + hex.EncodeToString(b), db: db, reload: reload, version: version, log: log,
		waiting: map[string]chan ReplicaResult{}}
}

// Run listens until ctx ends, on two connections of its own (requests
// and replies); ready is closed once both listen. Reloads it runs for
// other replicas end with ctx, and Run waits for them.
func (r *Replicas) Run(ctx context.Context, ready chan<- struct{}) {
	var wg sync.WaitGroup
	reqReady, repReady := make(chan struct{}), make(chan struct{})
	listen := func(channel string, ready chan struct{}, handle func(storage.Event)) {
		defer wg.Done()
		if err := r.db.Listen(ctx, channel, ready, handle); err != nil {
			r.log.Error("replicas: not listening; /reload reaches this replica only", "channel", channel, "err", err)
		}
	}
	wg.Add(2)
	go listen(storage.ReloadChannel, reqReady, func(e storage.Event) { r.onRequest(ctx, &wg, e) })
	go listen(ReplyChannel, repReady, r.onReply)
	go func() {
		for _, c := range []chan struct{}{reqReady, repReady} {
			select {
			case <-c:
			case <-ctx.Done():
				return
			}
		}
		close(ready)
	}()
	<-ctx.Done()
	wg.Wait()
}

// onRequest reloads for another replica's /reload and answers it. A
// missed notification (the connection was lost) reloads too, unasked.
func (r *Replicas) onRequest(ctx context.Context, wg *sync.WaitGroup, e storage.Event) {
	var req reloadRequest
	if !e.Missed {
		if err := json.Unmarshal([]byte(e.Payload), &req); err != nil || req.From == r.ID {
			return
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		reason := "/reload on replica " + req.From
		if e.Missed {
			reason = "reload notifications may have been missed"
		}
		_, err := r.reload(ctx, reason)
		if req.ID == "" {
			return
		}
		res := ReplicaResult{ID: req.ID, Replica: r.ID, Version: r.version()}
		if err != nil {
			res.Err = err.Error()
		}
		b, _ := json.Marshal(res)
		nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := r.db.Notify(nctx, ReplyChannel, string(b)); err != nil {
			r.log.Warn("replicas: reload result not sent", "err", err)
		}
	}()
}

func (r *Replicas) onReply(e storage.Event) {
	var res ReplicaResult
	if e.Missed || json.Unmarshal([]byte(e.Payload), &res) != nil {
		return
	}
	r.mu.Lock()
	c := r.waiting[res.ID]
	r.mu.Unlock()
	if c != nil {
		select {
		case c <- res:
		default: // more replicas than room: the report says fewer
		}
	}
}

// maxReplies bounds the replies one request collects.
const maxReplies = 64

// ReloadOthers asks every other replica to reload and returns the results
// that arrive within collect, in order of arrival.
func (r *Replicas) ReloadOthers(ctx context.Context, collect time.Duration) ([]ReplicaResult, error) {
	b := make([]byte, 8)
	rand.Read(b)
	id := hex.EncodeToString(b)
	c := make(chan ReplicaResult, maxReplies)
	r.mu.Lock()
	r.waiting[id] = c
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiting, id)
		r.mu.Unlock()
	}()
	payload, _ := json.Marshal(reloadRequest{ID: id, From: r.ID})
	if err := r.db.Notify(ctx, storage.ReloadChannel, string(payload)); err != nil {
		return nil, err
	}
	t := time.NewTimer(collect)
	defer t.Stop()
	var out []ReplicaResult
	for {
		select {
		case res := <-c:
			out = append(out, res)
		case <-t.C:
			return out, nil
		case <-ctx.Done():
			return out, errors.Join(errors.New("stopped collecting the replicas' results"), ctx.Err())
		}
	}
}
