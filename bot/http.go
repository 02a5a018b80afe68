package bot

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Bounds of the HTTP endpoint.
const (
	// maxRequestBody bounds an interaction; real ones are a few kB, a
	// message command with a long resolved message a few tens.
	maxRequestBody = 1 << 20
	// maxAge and maxSkew bound the signed timestamp: older requests are
	// replays, newer ones come from a clock that cannot be trusted.
	maxAge  = 5 * time.Minute
	maxSkew = time.Minute
	// ackBudget is how long the endpoint waits for a handler's first
	// response. Handlers defer within DeferAfter, so this is a backstop.
	ackBudget = 2800 * time.Millisecond
	// replayWindow is how long an interaction id is remembered, to refuse
	// the same signed request twice: longer than maxAge+maxSkew, so a
	// replay is either remembered or too old. maxRemembered bounds the
	// memory (about 100 bytes an id); past it the oldest are forgotten.
	replayWindow  = 10 * time.Minute
	maxRemembered = 200_000
)

// HTTPHandler serves the interactions endpoint, the way to run storybot
// behind a load balancer: it checks the Ed25519 signature Discord sends
// (discordgo.VerifyInteraction) and the signed timestamp's age, answers
// PING, and runs the same handlers as the gateway. The first response is
// the HTTP response; edits after a deferral go through REST via s, a
// session used for REST only (never opened). If Discord rejects the token
// on one of those, Fatal is closed and the server should stop.
func (b *Bot) HTTPHandler(publicKey ed25519.PublicKey, s *discordgo.Session) http.Handler {
	b.setToken(s.Token)
	return &endpoint{b: b, key: publicKey, rest: s, now: time.Now, seen: newReplayGuard(replayWindow, maxRemembered)}
}

type endpoint struct {
	b    *Bot
	key  ed25519.PublicKey
	rest rest
	now  func() time.Time
	seen *replayGuard
}

// httpReply hands a handler's first response to ServeHTTP, which reports
// back once it is written.
type httpReply struct {
	resp    *discordgo.InteractionResponse
	written chan error
}

func (h *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Checked before anything is read: a declared size over the bound is
	// refused at once; an undeclared one is cut at the bound.
	if r.ContentLength > maxRequestBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if !discordgo.VerifyInteraction(r, h.key) {
		// Info, not warn: Discord itself sends bad signatures to check
		// that the endpoint refuses them.
		h.b.log.Info("interaction refused: bad signature", "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	// The timestamp is signed, so it is checked after the signature.
	if err := h.fresh(r.Header.Get("X-Signature-Timestamp")); err != nil {
		h.b.log.Warn("interaction refused: "+err.Error(), "remote", r.RemoteAddr)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	// The type and id first: discordgo cannot decode every type's data.
	var head struct {
		ID   string                    `json:"id"`
		Type discordgo.InteractionType `json:"type"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		http.Error(w, "body is not an interaction", http.StatusBadRequest)
		return
	}
	switch head.Type {
	case discordgo.InteractionPing:
		writeJSON(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	case discordgo.InteractionApplicationCommand, discordgo.InteractionMessageComponent:
	default:
		// Autocomplete and modals are never asked for; anything else is
		// new to us. Said at once, not after the acknowledgement budget.
		h.b.log.Info("interaction refused: unknown type", "type", int(head.Type), "remote", r.RemoteAddr)
		http.Error(w, "unknown interaction type", http.StatusBadRequest)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "body is not an interaction", http.StatusBadRequest)
		return
	}
	// A signed request is valid for maxAge; the same one sent again is a
	// replay, and would run again (a /reload included).
	if i.ID == "" || !h.seen.add(i.ID, h.now()) {
		h.b.log.Warn("interaction refused: replayed", "interaction", i.ID, "remote", r.RemoteAddr)
		http.Error(w, "interaction already received", http.StatusConflict)
		return
	}

	replies := make(chan httpReply)
	served := make(chan struct{}) // closed when ServeHTTP returns
	defer close(served)
	respond := func(ctx context.Context, resp *discordgo.InteractionResponse) error {
		rep := httpReply{resp: resp, written: make(chan error, 1)}
		select {
		case replies <- rep:
		case <-served:
			return errors.New("the HTTP request was answered already or timed out")
		case <-ctx.Done():
			return ctx.Err()
		}
		return <-rep.written
	}
	// The handler outlives the request: after a deferral it edits the
	// answer in over REST.
	c := h.b.newCall(context.WithoutCancel(r.Context()), h.rest, &i, respond)
	h.b.inflight.Go(c.handle)

	timer := time.NewTimer(ackBudget)
	defer timer.Stop()
	select {
	case rep := <-replies:
		err := writeJSON(w, rep.resp)
		if f, ok := w.(http.Flusher); ok && err == nil {
			// On the wire before the handler's edits can follow it.
			f.Flush()
		}
		rep.written <- err
	case <-timer.C:
		c.log.Error("no response within the acknowledgement budget", "budget", ackBudget.String())
		http.Error(w, "no response in time", http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}

// fresh checks the signed timestamp (Unix seconds).
func (h *endpoint) fresh(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad signature timestamp")
	}
	t := time.Unix(sec, 0)
	now := h.now()
	switch {
	case now.Sub(t) > maxAge:
		return errors.New("stale signature timestamp")
	case t.Sub(now) > maxSkew:
		return errors.New("signature timestamp in the future")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(b)
	return err
}

// replayGuard remembers the interaction ids seen in the last window, at
// most max of them, oldest forgotten first.
type replayGuard struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	at     map[string]time.Time
	order  []string // ids, oldest first, from head
	head   int
}

func newReplayGuard(window time.Duration, max int) *replayGuard {
	return &replayGuard{window: window, max: max, at: map[string]time.Time{}}
}

// add records id at now; false if it was seen within the window.
func (g *replayGuard) add(id string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.head < len(g.order) {
		oldest := g.order[g.head]
		if now.Sub(g.at[oldest]) < g.window && len(g.at) < g.max {
			break
		}
		delete(g.at, oldest)
		g.head++
	}
	if g.head > len(g.order)/2 {
		g.order = append(g.order[:0], g.order[g.head:]...)
		g.head = 0
	}
	if _, ok := g.at[id]; ok {
		return false
	}
	g.at[id] = now
	g.order = append(g.order, id)
	return true
}

// size is how many ids are remembered, for tests.
func (g *replayGuard) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.at)
}
