package discordtest

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresence       = 3
	opVoiceState     = 4
	opResume         = 6
	opReconnect      = 7
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
)

// GatewayStats counts what happened on the fake gateway, so tests can
// assert "it resumed" or "it identified again" without sleeping.
type GatewayStats struct {
	Connections int // websocket connections accepted, ever
	Open        int // connections open now
	Ready       int // open connections with a live session (READY or RESUMED sent)
	// Settled counts Ready connections on which the bot has sent a
	// heartbeat. discordgo v0.29 sends its first heartbeat when the
	// connection's heartbeat goroutine starts; dropping a connection
	// before that makes the late goroutine close the *next* connection,
	// and the two chase each other forever. Inject gateway faults only on
	// settled connections.
	Settled         int
	Identifies      int // IDENTIFY (op 2) received
	Resumes         int // RESUME (op 6) received
	Readies         int // READY dispatches sent
	Resumed         int // RESUMED dispatches sent
	InvalidSessions int // INVALID_SESSION (op 9) sent
	Heartbeats      int // op 1 received
	HeartbeatAcks   int // op 11 sent
}

// Identify is one IDENTIFY the bot sent.
type Identify struct {
	Token      string
	Intents    discordgo.Intent
	Compress   bool
	Shard      *[2]int
	Properties map[string]any
	Time       time.Time
}

// Resume is one RESUME the bot sent; Known says whether the fake still
// had that session (else it answered INVALID_SESSION).
type Resume struct {
	Token     string
	SessionID string
	Seq       int64
	Known     bool
	Time      time.Time
}

// Frame is one payload the bot sent on the gateway.
type Frame struct {
	Op   int
	Data json.RawMessage
	Time time.Time
}

type gatewaySession struct {
	id  string
	seq atomic.Int64 // last sequence number sent
	// shard is the IDENTIFY's [shard_id, num_shards]; nil: unsharded.
	shard *[2]int
}

// onShard reports whether guildID's events go to sess: Discord's
// (guild_id >> 22) % num_shards, and shard 0 for direct messages.
func (sess *gatewaySession) onShard(guildID string) bool {
	if sess.shard == nil {
		return true
	}
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil {
		return sess.shard[0] == 0
	}
	return int((id>>22)%uint64(sess.shard[1])) == sess.shard[0]
}

type gatewayConn struct {
	g        *gatewayState
	ws       *websocket.Conn
	query    url.Values
	compress bool

	wmu sync.Mutex // gorilla allows one writer at a time

	// Guarded by gatewayState.mu.
	session *gatewaySession
	beat    bool // the bot's heartbeat loop runs: an op 1 arrived
	noAck   bool
	closed  bool
}

type gatewayState struct {
	mu         sync.Mutex
	conns      map[*gatewayConn]bool
	sessions   map[string]*gatewaySession
	stats      GatewayStats
	identifies []Identify
	resumes    []Resume
	frames     []Frame
	queries    []url.Values
	changed    signal
}

func (g *gatewayState) init() {
	g.conns = map[*gatewayConn]bool{}
	g.sessions = map[string]*gatewaySession{}
}

// update runs fn under the lock and wakes waiters.
func (g *gatewayState) update(fn func()) {
	g.mu.Lock()
	fn()
	g.mu.Unlock()
	g.changed.broadcast()
}

func (g *gatewayState) closeAll(code int) {
	for _, c := range g.openConns(false) {
		c.close(code, "")
	}
}

// openConns lists open connections, only ready ones if ready is set.
func (g *gatewayState) openConns(ready bool) []*gatewayConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*gatewayConn
	for c := range g.conns {
		if !c.closed && (!ready || c.session != nil) {
			out = append(out, c)
		}
	}
	return out
}

// GatewayStats returns the gateway counters now.
func (f *Fake) GatewayStats() GatewayStats {
	f.gw.mu.Lock()
	defer f.gw.mu.Unlock()
	return f.gw.stats
}

// WaitGateway blocks until cond holds for the gateway counters, and
// returns them; it fails when ctx ends first.
func (f *Fake) WaitGateway(ctx context.Context, cond func(GatewayStats) bool) (GatewayStats, error) {
	for {
		ch := f.gw.changed.wait()
		st := f.GatewayStats()
		if cond(st) {
			return st, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return st, fmt.Errorf("discordtest: waiting for gateway (now %+v): %w", st, ctx.Err())
		}
	}
}

// WaitReady blocks until some connection has a live session (READY or
// RESUMED was sent, so dispatches are delivered) and the bot has sent a
// heartbeat on it (so its heartbeat loop runs; see GatewayStats.Settled).
func (f *Fake) WaitReady(ctx context.Context) error {
	_, err := f.WaitGateway(ctx, func(s GatewayStats) bool { return s.Settled > 0 })
	return err
}

// Connected reports whether some connection has a live session.
func (f *Fake) Connected() bool { return f.GatewayStats().Ready > 0 }

// Identifies returns every IDENTIFY received, oldest first.
func (f *Fake) Identifies() []Identify {
	f.gw.mu.Lock()
	defer f.gw.mu.Unlock()
	return append([]Identify(nil), f.gw.identifies...)
}

// Resumes returns every RESUME received, oldest first.
func (f *Fake) Resumes() []Resume {
	f.gw.mu.Lock()
	defer f.gw.mu.Unlock()
	return append([]Resume(nil), f.gw.resumes...)
}

// Frames returns every payload the bot sent on the gateway, oldest first.
func (f *Fake) Frames() []Frame {
	f.gw.mu.Lock()
	defer f.gw.mu.Unlock()
	return append([]Frame(nil), f.gw.frames...)
}

// GatewayQueries returns the query of every websocket dial, e.g.
// v=9&encoding=json from discordgo v0.29.
func (f *Fake) GatewayQueries() []url.Values {
	f.gw.mu.Lock()
	defer f.gw.mu.Unlock()
	return append([]url.Values(nil), f.gw.queries...)
}

// Dispatch sends an op 0 event of type event with data d (marshalled to
// JSON unless it is already []byte or json.RawMessage) to every
// connection with a live session. It reports how many got it and fails if
// none did.
func (f *Fake) Dispatch(event string, d any) (int, error) {
	raw, err := rawJSON(d)
	if err != nil {
		return 0, fmt.Errorf("discordtest: dispatch %s: %w", event, err)
	}
	return f.dispatchTo(event, raw, "")
}

// dispatchTo sends to the sessions of guildID's shard; "" means every
// session.
func (f *Fake) dispatchTo(event string, raw json.RawMessage, guildID string) (int, error) {
	n := 0
	var errs []error
	for _, c := range f.gw.openConns(true) {
		f.gw.mu.Lock()
		sess := c.session
		f.gw.mu.Unlock()
		if sess == nil || (guildID != "" && !sess.onShard(guildID)) {
			continue
		}
		if err := f.sendDispatch(c, sess, event, raw); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if n == 0 {
		errs = append(errs, errors.New("no gateway connection with a live session"))
		return 0, fmt.Errorf("discordtest: dispatch %s: %w", event, errors.Join(errs...))
	}
	return n, nil
}

// DispatchInteraction sends INTERACTION_CREATE, to the session of the
// interaction's shard when the bot is sharded. i may be a Payload from
// the builders, a *discordgo.Interaction, or raw JSON. The fake remembers
// its id and token, so the bot's callback and webhook calls are accepted;
// the AckTimeout clock starts now.
func (f *Fake) DispatchInteraction(i any) error {
	raw, err := rawJSON(i)
	if err != nil {
		return fmt.Errorf("discordtest: dispatch interaction: %w", err)
	}
	if err := f.ix.register(raw, f.Now()); err != nil {
		return err
	}
	// Only the shard of the interaction's guild gets it (shard 0 for a
	// direct message).
	var where struct {
		GuildID string `json:"guild_id"`
	}
	_ = json.Unmarshal(raw, &where)
	guild := where.GuildID
	if guild == "" {
		guild = "dm"
	}
	_, err = f.dispatchTo("INTERACTION_CREATE", raw, guild)
	return err
}

// RegisterInteraction remembers an interaction the test delivers some
// other way (over HTTP, say), so the bot's replies to it are accepted as
// for DispatchInteraction; its token's clock starts now.
func (f *Fake) RegisterInteraction(i any) error {
	raw, err := rawJSON(i)
	if err != nil {
		return fmt.Errorf("discordtest: register interaction: %w", err)
	}
	return f.ix.register(raw, f.Now())
}

func rawJSON(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	return b, nil
}

// CloseGateway closes every open connection with a close frame carrying
// code (e.g. 4000 unknown error, 1001 going away) and reports how many.
// Codes after which Discord forgets the session (4004, 4007, 4009,
// 4010-4014) make the fake forget it too, so a RESUME gets INVALID_SESSION.
func (f *Fake) CloseGateway(code int) int {
	conns := f.gw.openConns(false)
	for _, c := range conns {
		switch code {
		case 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014:
			f.gw.update(func() { f.gw.forget(c) })
		}
		c.close(code, "")
	}
	return len(conns)
}

// SendReconnect sends op 7 RECONNECT to every open connection, as
// Discord does before a server restart, and reports how many.
func (f *Fake) SendReconnect() int {
	conns := f.gw.openConns(false)
	for _, c := range conns {
		_ = c.send(opReconnect, nil)
	}
	return len(conns)
}

// SendInvalidSession sends op 9 INVALID_SESSION with d = resumable to every
// open connection. Unless resumable, their sessions are forgotten and the
// connections are no longer ready until the bot identifies again.
func (f *Fake) SendInvalidSession(resumable bool) int {
	conns := f.gw.openConns(false)
	for _, c := range conns {
		if !resumable {
			f.gw.update(func() { f.gw.forget(c) })
		}
		f.gw.update(func() { f.gw.stats.InvalidSessions++ })
		_ = c.send(opInvalidSession, resumable)
	}
	return len(conns)
}

// StopHeartbeatAcks makes the connections open now ignore heartbeats, a
// zombied connection; connections made later ack normally. discordgo gives
// up after 5 heartbeat intervals without an ACK.
func (f *Fake) StopHeartbeatAcks() int {
	conns := f.gw.openConns(false)
	f.gw.update(func() {
		for _, c := range conns {
			c.noAck = true
		}
	})
	return len(conns)
}

// forget drops c's session: it cannot be resumed any more. Call with mu held.
func (g *gatewayState) forget(c *gatewayConn) {
	if c.session == nil {
		return
	}
	delete(g.sessions, c.session.id)
	g.setSession(c, nil)
}

// setSession attaches sess (or nil) to c, keeping Ready and Settled
// right. Call with mu held.
func (g *gatewayState) setSession(c *gatewayConn, sess *gatewaySession) {
	if c.session != nil {
		g.stats.Ready--
		if c.beat {
			g.stats.Settled--
		}
	}
	c.session = sess
	if sess != nil {
		g.stats.Ready++
		if c.beat {
			g.stats.Settled++
		}
	}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (f *Fake) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered with an HTTP error.
	}
	c := &gatewayConn{g: &f.gw, ws: ws, query: r.URL.Query(), compress: f.cfg.Compress}
	f.gw.update(func() {
		f.gw.conns[c] = true
		f.gw.queries = append(f.gw.queries, c.query)
		f.gw.stats.Connections++
		f.gw.stats.Open++
	})
	defer f.gw.update(func() {
		f.gw.setSession(c, nil)
		delete(f.gw.conns, c)
		f.gw.stats.Open--
	})
	defer ws.Close()

	select {
	case <-f.done:
		return
	default:
	}
	hello := map[string]any{
		"heartbeat_interval": f.cfg.HeartbeatInterval.Milliseconds(),
		"_trace":             []string{`["discordtest-gateway",{"micros":0}]`},
	}
	if err := c.send(opHello, hello); err != nil {
		return
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			// A client closing with 1000 or 1001 ends its session on
			// Discord: a later RESUME gets INVALID_SESSION. Not when the
			// fake closed first: discordgo answers any close with 1000.
			var ce *websocket.CloseError
			if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
				f.gw.update(func() {
					if !c.closed {
						f.gw.forget(c)
					}
				})
			}
			return
		}
		if !f.gatewayFrame(c, msg) {
			return
		}
	}
}

// gatewayFrame handles one payload from the bot; false ends the connection.
func (f *Fake) gatewayFrame(c *gatewayConn, msg []byte) bool {
	var p struct {
		Op   *int            `json:"op"`
		Data json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(msg, &p); err != nil || p.Op == nil {
		c.close(4002, "Error while decoding payload.")
		return false
	}
	f.gw.update(func() {
		f.gw.frames = append(f.gw.frames, Frame{Op: *p.Op, Data: p.Data, Time: time.Now()})
	})
	f.gw.mu.Lock()
	authed := c.session != nil
	f.gw.mu.Unlock()

	switch *p.Op {
	case opHeartbeat:
		var ack bool
		f.gw.update(func() {
			f.gw.stats.Heartbeats++
			if !c.beat {
				c.beat = true
				if c.session != nil {
					f.gw.stats.Settled++
				}
			}
			ack = !c.noAck
			if ack {
				f.gw.stats.HeartbeatAcks++
			}
		})
		if ack {
			return c.send(opHeartbeatAck, nil) == nil
		}
		return true
	case opIdentify:
		return f.identify(c, p.Data, authed)
	case opResume:
		return f.resume(c, p.Data)
	case opPresence, opVoiceState, opRequestMembers:
		if !authed {
			c.close(4003, "Not authenticated.")
			return false
		}
		return true
	default:
		c.close(4001, "Unknown opcode.")
		return false
	}
}

func (f *Fake) identify(c *gatewayConn, data json.RawMessage, authed bool) bool {
	var d struct {
		Token      string           `json:"token"`
		Intents    discordgo.Intent `json:"intents"`
		Compress   bool             `json:"compress"`
		Shard      *[2]int          `json:"shard"`
		Properties map[string]any   `json:"properties"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		c.close(4002, "Error while decoding payload.")
		return false
	}
	f.gw.update(func() {
		f.gw.stats.Identifies++
		f.gw.identifies = append(f.gw.identifies, Identify{
			Token: d.Token, Intents: d.Intents, Compress: d.Compress, Shard: d.Shard,
			Properties: d.Properties, Time: time.Now(),
		})
	})
	if authed {
		c.close(4005, "Already authenticated.")
		return false
	}
	if f.cfg.Token != "" && !tokenMatches(f.cfg.Token, d.Token) {
		c.close(4004, "Authentication failed.")
		return false
	}
	if sh := d.Shard; sh != nil && (sh[1] < 1 || sh[0] < 0 || sh[0] >= sh[1]) {
		c.close(4010, "Invalid shard.")
		return false
	}
	if f.cfg.Shards > 1 && (d.Shard == nil || d.Shard[1] < f.cfg.Shards) {
		c.close(4011, "Sharding required.")
		return false
	}

	sess := &gatewaySession{id: newSessionID(), shard: d.Shard}
	version := 10
	if v, err := strconv.Atoi(c.query.Get("v")); err == nil {
		version = v
	}
	ready := map[string]any{
		"v":                  version,
		"user":               f.botUser(),
		"session_id":         sess.id,
		"session_type":       "normal",
		"resume_gateway_url": f.GatewayURL(),
		"application":        map[string]any{"id": f.cfg.AppID, "flags": f.cfg.AppFlags},
		"guilds":             f.unavailableGuilds(sess),
		"private_channels":   []any{},
		"relationships":      []any{},
		"presences":          []any{},
		"user_settings":      map[string]any{},
		"_trace":             []string{`["discordtest-gateway",{"micros":0}]`},
	}
	if d.Shard != nil {
		ready["shard"] = d.Shard
	}
	raw, _ := json.Marshal(ready)
	return f.sendDispatchThen(c, sess, "READY", raw, func() {
		f.gw.sessions[sess.id] = sess
		f.gw.setSession(c, sess)
		f.gw.stats.Readies++
	}) == nil
}

func (f *Fake) resume(c *gatewayConn, data json.RawMessage) bool {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		c.close(4002, "Error while decoding payload.")
		return false
	}
	var sess *gatewaySession
	f.gw.update(func() {
		sess = f.gw.sessions[d.SessionID]
		f.gw.stats.Resumes++
		f.gw.resumes = append(f.gw.resumes, Resume{
			Token: d.Token, SessionID: d.SessionID, Seq: d.Seq, Known: sess != nil, Time: time.Now(),
		})
	})
	if f.cfg.Token != "" && !tokenMatches(f.cfg.Token, d.Token) {
		c.close(4004, "Authentication failed.")
		return false
	}
	if sess == nil {
		f.gw.update(func() { f.gw.stats.InvalidSessions++ })
		return c.send(opInvalidSession, false) == nil
	}
	resumed := json.RawMessage(`{"_trace":["[\"discordtest-gateway\",{\"micros\":0}]"]}`)
	return f.sendDispatchThen(c, sess, "RESUMED", resumed, func() {
		// The session moves to this connection; an older one holding it
		// is stale.
		for o := range f.gw.conns {
			if o != c && o.session == sess {
				f.gw.setSession(o, nil)
			}
		}
		f.gw.setSession(c, sess)
		f.gw.stats.Resumed++
	}) == nil
}

// sendDispatch writes an op 0 event with the session's next sequence
// number; taking the number under the write lock keeps s increasing on
// the wire.
func (f *Fake) sendDispatch(c *gatewayConn, sess *gatewaySession, event string, d json.RawMessage) error {
	return f.sendDispatchThen(c, sess, event, d, nil)
}

// sendDispatchThen is sendDispatch that first runs update (under the
// gateway lock) while holding c's write lock. READY and RESUMED use it to
// mark c live: dispatches that see it live queue behind READY on the
// wire, and by the time discordgo's Open() has read READY, Dispatch works.
func (f *Fake) sendDispatchThen(c *gatewayConn, sess *gatewaySession, event string, d json.RawMessage, update func()) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if update != nil {
		f.gw.update(update)
	}
	seq := sess.seq.Add(1)
	b, err := json.Marshal(struct {
		Op   int             `json:"op"`
		Seq  int64           `json:"s"`
		Type string          `json:"t"`
		Data json.RawMessage `json:"d"`
	}{opDispatch, seq, event, d})
	if err != nil {
		return fmt.Errorf("discordtest: marshal %s: %w", event, err)
	}
	return c.writeLocked(b)
}

// send writes a non-dispatch payload (s and t are null).
func (c *gatewayConn) send(op int, d any) error {
	b, err := json.Marshal(map[string]any{"op": op, "d": d, "s": nil, "t": nil})
	if err != nil {
		return fmt.Errorf("discordtest: marshal op %d: %w", op, err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *gatewayConn) writeLocked(b []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if !c.compress {
		return c.ws.WriteMessage(websocket.TextMessage, b)
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		return fmt.Errorf("discordtest: zlib: %w", err)
	}
	return c.ws.WriteMessage(websocket.BinaryMessage, buf.Bytes())
}

// close sends a close frame with code and drops the connection.
func (c *gatewayConn) close(code int, text string) {
	c.g.update(func() { c.closed = true })
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}

// unavailableGuilds is READY's guild list: each of Config.Guilds, not yet
// loaded, as Discord sends it.
func (f *Fake) unavailableGuilds(sess *gatewaySession) []any {
	out := []any{}
	for _, id := range f.cfg.Guilds {
		if !sess.onShard(id) {
			continue
		}
		out = append(out, map[string]any{"id": id, "unavailable": true})
	}
	return out
}
