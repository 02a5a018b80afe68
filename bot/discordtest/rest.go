package discordtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Routes the fake serves, as net/http patterns. They name routes in
// Request.Route, OnRoute, FailNext and SetDelay. discordgo v0.29 speaks
// API v9.
const (
	RouteGateway        = "GET /api/v9/gateway"
	RouteGatewayBot     = "GET /api/v9/gateway/bot"
	RouteUsersMe        = "GET /api/v9/users/@me"
	RouteUserGuilds     = "GET /api/v9/users/@me/guilds"
	RouteCallback       = "POST /api/v9/interactions/{id}/{token}/callback"
	RouteOriginal       = "GET /api/v9/webhooks/{app}/{token}/messages/@original"
	RouteEditOriginal   = "PATCH /api/v9/webhooks/{app}/{token}/messages/@original"
	RouteDeleteOriginal = "DELETE /api/v9/webhooks/{app}/{token}/messages/@original"
	RouteFollowup       = "POST /api/v9/webhooks/{app}/{token}"
	RouteEditFollowup   = "PATCH /api/v9/webhooks/{app}/{token}/messages/{message}"
	RouteGlobalCommands = "PUT /api/v9/applications/{app}/commands"
	RouteGuildCommands  = "PUT /api/v9/applications/{app}/guilds/{guild}/commands"
	RouteListGlobal     = "GET /api/v9/applications/{app}/commands"
	RouteListGuild      = "GET /api/v9/applications/{app}/guilds/{guild}/commands"
	// RouteUnknown is any other request: answered 404, still recorded.
	RouteUnknown = "/"
)

// gatewayPath is where the websocket lives, outside /api so it is never
// mistaken for REST.
const gatewayPath = "/gateway-ws"

// Request is one REST request as the fake received it.
type Request struct {
	Method string
	// Route is the matched pattern, one of the Route constants.
	Route string
	Path  string
	Query url.Values
	// Host is the host the client aimed at before Client() rewrote it,
	// normally discord.com.
	Host   string
	Header http.Header
	Body   []byte
	// Params are the route's wildcards, e.g. "id" and "token".
	Params map[string]string
	Time   time.Time
	// Status is what the fake answered (or will answer after a delay).
	Status int
}

// Decode unmarshals the JSON body (a multipart body's payload_json) into v.
func (r Request) Decode(v any) error {
	body, err := r.JSON()
	if err != nil {
		return fmt.Errorf("discordtest: decode %s %s body: %w", r.Method, r.Path, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("discordtest: decode %s %s body: %w", r.Method, r.Path, err)
	}
	return nil
}

func (r Request) String() string {
	s := r.Method + " " + r.Path
	if len(r.Query) > 0 {
		s += "?" + r.Query.Encode()
	}
	return s + " -> " + strconv.Itoa(r.Status)
}

// OnRoute matches requests on one route, for WaitFor.
func OnRoute(route string) func(Request) bool {
	return func(r Request) bool { return r.Route == route }
}

// Response is a canned answer for FailNext.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrorResponse is Discord's JSON error body: {"message": ..., "code": ...}.
func ErrorResponse(status, code int, message string) Response {
	return jsonResponse(status, map[string]any{"message": message, "code": code})
}

// RateLimited is a 429 as Discord sends it: retry_after (seconds, float) in
// the body and the X-RateLimit-* headers discordgo's ratelimiter reads. With
// global set, discordgo blocks every bucket until retryAfter passes.
func RateLimited(retryAfter time.Duration, global bool) Response {
	secs := retryAfter.Seconds()
	r := jsonResponse(http.StatusTooManyRequests, map[string]any{
		"message":     "You are being rate limited.",
		"retry_after": secs,
		"global":      global,
	})
	after := strconv.FormatFloat(secs, 'f', 3, 64)
	reset := float64(time.Now().Add(retryAfter).UnixMilli()) / 1000
	r.Header.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	r.Header.Set("X-RateLimit-Limit", "5")
	r.Header.Set("X-RateLimit-Remaining", "0")
	r.Header.Set("X-RateLimit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
	r.Header.Set("X-RateLimit-Reset-After", after)
	r.Header.Set("X-RateLimit-Bucket", "fakebucket")
	if global {
		r.Header.Set("X-RateLimit-Global", "true")
		r.Header.Set("X-RateLimit-Scope", "global")
	} else {
		r.Header.Set("X-RateLimit-Scope", "user")
	}
	return r
}

func jsonResponse(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic("discordtest: marshal response: " + err.Error())
	}
	return Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

func noContent() Response { return Response{Status: http.StatusNoContent} }

func notFound() Response { return ErrorResponse(http.StatusNotFound, 0, "404: Not Found") }

func unauthorized() Response { return ErrorResponse(http.StatusUnauthorized, 0, "401: Unauthorized") }

// invalidForm is Discord's 400 for a body it cannot use.
func invalidForm(reason string) Response {
	return jsonResponse(http.StatusBadRequest, map[string]any{
		"message": "Invalid Form Body",
		"code":    50035,
		"errors":  map[string]any{"_errors": []map[string]string{{"code": "BASE_TYPE_INVALID", "message": reason}}},
	})
}

type fault struct {
	resp  Response
	times int
}

type restState struct {
	mu      sync.Mutex
	reqs    []Request
	faults  map[string][]*fault
	delays  map[string]time.Duration
	routes  map[string]bool
	changed signal
}

func (s *restState) init() {
	s.faults = map[string][]*fault{}
	s.delays = map[string]time.Duration{}
	s.routes = map[string]bool{}
}

// Requests returns every REST request so far, oldest first.
func (f *Fake) Requests() []Request {
	f.rest.mu.Lock()
	defer f.rest.mu.Unlock()
	return append([]Request(nil), f.rest.reqs...)
}

// WaitFor returns the first request, past or future, that match accepts.
// It fails when ctx ends first.
func (f *Fake) WaitFor(ctx context.Context, match func(Request) bool) (Request, error) {
	seen := 0
	for {
		ch := f.rest.changed.wait()
		f.rest.mu.Lock()
		reqs := f.rest.reqs[seen:]
		seen = len(f.rest.reqs)
		f.rest.mu.Unlock()
		for _, r := range reqs {
			if match(r) {
				return r, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Request{}, fmt.Errorf("discordtest: waiting for request (%d seen): %w", seen, ctx.Err())
		}
	}
}

// FailNext makes the next times requests on route get resp instead of
// being served; they change no state. Faults queue per route.
func (f *Fake) FailNext(route string, times int, resp Response) {
	if times < 1 {
		times = 1
	}
	f.rest.mu.Lock()
	defer f.rest.mu.Unlock()
	f.mustKnow(route)
	f.rest.faults[route] = append(f.rest.faults[route], &fault{resp: resp, times: times})
}

// SetDelay holds every response on route for d (0 removes the delay),
// to simulate a slow Discord. The request is recorded before the wait.
func (f *Fake) SetDelay(route string, d time.Duration) {
	f.rest.mu.Lock()
	defer f.rest.mu.Unlock()
	f.mustKnow(route)
	f.rest.delays[route] = d
}

func (f *Fake) mustKnow(route string) {
	if !f.rest.routes[route] {
		panic(fmt.Sprintf("discordtest: unknown route %q; use a Route constant", route))
	}
}

// takeFault pops one use of route's first fault, if any.
func (s *restState) takeFault(route string) (Response, bool) {
	q := s.faults[route]
	if len(q) == 0 {
		return Response{}, false
	}
	ft := q[0]
	ft.times--
	if ft.times == 0 {
		s.faults[route] = q[1:]
	}
	return ft.resp, true
}

// handler computes a response; the wrapper records and writes it.
type handler func(req *Request) Response

func (f *Fake) handle(mux *http.ServeMux, route string, h handler) {
	f.rest.routes[route] = true
	names := patternParams(route)
	mux.HandleFunc(route, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		req := Request{
			Method: r.Method,
			Route:  route,
			Path:   r.URL.Path,
			Query:  r.URL.Query(),
			Host:   r.Host,
			Header: r.Header.Clone(),
			Body:   body,
			Params: map[string]string{},
			Time:   time.Now(),
		}
		for _, n := range names {
			req.Params[n] = r.PathValue(n)
		}

		f.rest.mu.Lock()
		resp, faulted := f.rest.takeFault(route)
		delay := f.rest.delays[route]
		f.rest.mu.Unlock()
		if !faulted {
			resp = h(&req)
		}

		req.Status = resp.Status
		f.rest.mu.Lock()
		f.rest.reqs = append(f.rest.reqs, req)
		f.rest.mu.Unlock()
		f.rest.changed.broadcast()

		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			case <-f.done:
				return
			}
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.Status)
		_, _ = io.Copy(w, bytes.NewReader(resp.Body))
	})
}

// patternParams lists the {wildcards} of a ServeMux pattern.
func patternParams(pattern string) []string {
	var names []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return names
}

func (f *Fake) routes(mux *http.ServeMux) {
	f.handle(mux, RouteGateway, func(*Request) Response {
		return jsonResponse(http.StatusOK, map[string]any{"url": f.GatewayURL()})
	})
	f.handle(mux, RouteGatewayBot, f.authed(func(*Request) Response {
		return jsonResponse(http.StatusOK, map[string]any{
			"url":    f.GatewayURL(),
			"shards": max(f.cfg.Shards, 1),
			"session_start_limit": map[string]any{
				"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1,
			},
		})
	}))
	f.handle(mux, RouteUsersMe, f.authed(func(*Request) Response {
		return jsonResponse(http.StatusOK, f.botUser())
	}))
	f.handle(mux, RouteUserGuilds, f.authed(func(*Request) Response {
		gs := []any{}
		for _, id := range f.cfg.Guilds {
			gs = append(gs, map[string]any{"id": id, "name": "guild " + id, "icon": nil, "owner": false,
				"permissions": "0", "features": []any{}})
		}
		return jsonResponse(http.StatusOK, gs)
	}))
	f.handle(mux, RouteCallback, f.serveCallback)
	f.handle(mux, RouteOriginal, f.serveGetOriginal)
	f.handle(mux, RouteEditOriginal, f.serveEditOriginal)
	f.handle(mux, RouteDeleteOriginal, f.serveDeleteOriginal)
	f.handle(mux, RouteFollowup, f.serveFollowup)
	f.handle(mux, RouteEditFollowup, f.serveEditFollowup)
	f.handle(mux, RouteGlobalCommands, f.authed(f.servePutCommands))
	f.handle(mux, RouteGuildCommands, f.authed(f.servePutCommands))
	f.handle(mux, RouteListGlobal, f.authed(f.serveListCommands))
	f.handle(mux, RouteListGuild, f.authed(f.serveListCommands))
	f.handle(mux, RouteUnknown, func(*Request) Response { return notFound() })
}

// authed answers 401 when Config.Token is set and the request lacks it.
func (f *Fake) authed(h handler) handler {
	return func(req *Request) Response {
		if f.cfg.Token != "" && !tokenMatches(f.cfg.Token, req.Header.Get("Authorization")) {
			return unauthorized()
		}
		return h(req)
	}
}

// botUser is the bot's user object as Discord returns it.
func (f *Fake) botUser() map[string]any {
	return map[string]any{
		"id":            f.cfg.BotUserID,
		"username":      f.cfg.BotUsername,
		"discriminator": "0",
		"global_name":   nil,
		"avatar":        nil,
		"bot":           true,
		"flags":         0,
		"public_flags":  0,
		"verified":      true,
		"mfa_enabled":   false,
	}
}
