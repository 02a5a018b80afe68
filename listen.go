package main

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Bounds of the servers storybot runs (metrics, HTTP interactions). The
// interactions endpoint is on the internet: a client that opens
// connections and sends nothing, or sends slowly, must not starve it.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 15 * time.Second // an answer's budget is ~3s
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
	// maxConns caps the open connections. Past it, a new connection
	// closes the oldest one that has not sent a whole request (the
	// slow, the idle); one that has is being answered and is kept.
	maxConns = 1024
	// maxBody bounds a request body, checked before it is read.
	maxBody = 1 << 20
)

// listen serves h on addr until ctx ends or the returned stop is called;
// stop waits for the server to finish. An empty addr serves nothing.
func listen(ctx context.Context, addr string, h http.Handler, log *slog.Logger, what string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s address %s: %w", what, addr, err)
	}
	srv, capped := newServer(ln, h, maxConns)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(capped); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "server", what, "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		shutdown, cancelShutdown := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancelShutdown()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("listening", "server", what, "addr", ln.Addr().String())
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }, nil
}

// newServer is the hardened server for h on ln: timeouts on headers, body,
// writes and idle connections, a cap on header and body size, and on open
// connections (the listener it returns).
func newServer(ln net.Listener, h http.Handler, conns int) (*http.Server, *connCap) {
	capped := &connCap{Listener: ln, max: conns, order: list.New()}
	srv := &http.Server{
		Handler:           capped.wrap(h),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*trackedConn); ok {
				return context.WithValue(ctx, connKey{}, tc)
			}
			return ctx
		},
	}
	return srv, capped
}

type connKey struct{}

// connCap is a listener that keeps at most max connections open. Unlike
// netutil.LimitListener it never makes a new connection wait (a signed
// request behind 20,000 silent ones would wait for their timeouts): it
// closes the oldest connection that is not being answered instead.
type connCap struct {
	net.Listener
	max   int
	mu    sync.Mutex
	order *list.List // of *trackedConn, oldest first
}

func (l *connCap) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := l.admit(c); tc != nil {
			return tc, nil
		}
		// Every connection is being answered: this one is refused,
		// which its client sees at once.
		_ = c.Close()
	}
}

// admit counts c in, closing the oldest idle connection if the cap is
// reached; nil if every connection is busy.
func (l *connCap) admit(c net.Conn) *trackedConn {
	tc := &trackedConn{Conn: c, cap: l}
	var evict *trackedConn
	l.mu.Lock()
	if l.order.Len() >= l.max {
		for e := l.order.Front(); e != nil; e = e.Next() {
			if old := e.Value.(*trackedConn); !old.busy {
				evict = old
				break
			}
		}
		if evict == nil {
			l.mu.Unlock()
			return nil
		}
		// Out of the count now, so the new one fits.
		l.order.Remove(evict.elem)
		evict.elem = nil
	}
	tc.elem = l.order.PushBack(tc)
	l.mu.Unlock()
	if evict != nil {
		_ = evict.Close()
	}
	return tc
}

// open is how many connections are open, for tests.
func (l *connCap) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// wrap reads the whole request body (bounded, and refused at once when
// its declared length is over maxBody) before marking the connection busy
// and calling h: a connection sending slowly stays evictable.
func (l *connCap) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				http.Error(w, "read body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		tc, _ := r.Context().Value(connKey{}).(*trackedConn)
		if tc != nil {
			l.setBusy(tc, true)
			defer l.setBusy(tc, false)
		}
		h.ServeHTTP(w, r)
	})
}

func (l *connCap) setBusy(tc *trackedConn, busy bool) {
	l.mu.Lock()
	tc.busy = busy
	l.mu.Unlock()
}

// trackedConn is a connection connCap counts; busy (under connCap.mu)
// while a handler answers it.
type trackedConn struct {
	net.Conn
	cap  *connCap
	elem *list.Element
	busy bool
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.cap.mu.Lock()
		if c.elem != nil {
			c.cap.order.Remove(c.elem)
		}
		c.cap.mu.Unlock()
	})
	return c.Conn.Close()
}
