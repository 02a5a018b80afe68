package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// embedder matches retrieval.Embedder without importing it.
type embedder interface {
	ID() string
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

var (
	_ embedder = (*Ollama)(nil)
	_ embedder = (*OpenAI)(nil)
)

// kind describes one provider's wire format so tests can run against both.
type kind struct {
	name   string
	path   string
	new    func(Config) (embedder, error)
	client func(embedder) *client
	// encode writes vecs in the provider's response format, in order.
	encode func(w http.ResponseWriter, vecs [][]float32)
}

var kinds = []kind{
	{
		name: "ollama",
		path: "/api/embed",
		new:  func(c Config) (embedder, error) { return NewOllama(c) },
		client: func(e embedder) *client {
			return e.(*Ollama).c
		},
		encode: func(w http.ResponseWriter, vecs [][]float32) {
			writeJSON(w, map[string]any{"model": "m", "embeddings": vecs})
		},
	},
	{
		name: "openai",
		path: "/embeddings",
		new:  func(c Config) (embedder, error) { return NewOpenAI(c) },
		client: func(e embedder) *client {
			return e.(*OpenAI).c
		},
		encode: func(w http.ResponseWriter, vecs [][]float32) {
			writeJSON(w, openAIData(vecs, nil))
		},
	},
}

type datum struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

// openAIData builds an OpenAI response; perm, if set, reorders data.
func openAIData(vecs [][]float32, perm []int) map[string]any {
	data := make([]datum, len(vecs))
	for i, v := range vecs {
		data[i] = datum{Object: "embedding", Index: i, Embedding: v}
	}
	if perm != nil {
		shuffled := make([]datum, len(data))
		for i, p := range perm {
			shuffled[i] = data[p]
		}
		data = shuffled
	}
	return map[string]any{"object": "list", "model": "m", "data": data}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

type request struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

// decodeRequest reads a request body, failing the test on bad input.
func decodeRequest(t *testing.T, r *http.Request) request {
	t.Helper()
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		t.Errorf("server: bad request body: %v", err)
	}
	return req
}

// vecFor derives a deterministic vector from a text like "t17".
func vecFor(text string) []float32 {
	var n int
	fmt.Sscanf(text, "t%d", &n)
	return []float32{float32(n), 1, -0.5}
}

func texts(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("t%d", i)
	}
	return s
}

// echoServer answers every request with vecFor of each input, checking the
// method, path and model.
func echoServer(t *testing.T, k kind, onReq func(r *http.Request, req request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != k.path {
			t.Errorf("server: got %s %s, want POST %s", r.Method, r.URL.Path, k.path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("server: Content-Type = %q", ct)
		}
		req := decodeRequest(t, r)
		if req.Model != "m" {
			t.Errorf("server: model = %q, want m", req.Model)
		}
		if onReq != nil {
			onReq(r, req)
		}
		vecs := make([][]float32, len(req.Input))
		for i, s := range req.Input {
			vecs[i] = vecFor(s)
		}
		k.encode(w, vecs)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// stall holds a request open for d or until the client hangs up. It reads
// the body first: the server only notices a closed connection after that.
func stall(r *http.Request, d time.Duration) {
	io.Copy(io.Discard, r.Body)
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

func mustNew(t *testing.T, k kind, cfg Config) embedder {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "m"
	}
	e, err := k.new(cfg)
	if err != nil {
		t.Fatalf("new %s: %v", k.name, err)
	}
	return e
}

func checkEcho(t *testing.T, in []string, got [][]float32) {
	t.Helper()
	if len(got) != len(in) {
		t.Errorf("got %d vectors, want %d", len(got), len(in))
		return
	}
	for i, s := range in {
		want := vecFor(s)
		if fmt.Sprint(got[i]) != fmt.Sprint(want) {
			t.Errorf("vector %d = %v, want %v", i, got[i], want)
			return
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" means valid
	}{
		{"ok http", Config{URL: "http://localhost:11434", Model: "m"}, ""},
		{"ok https with path", Config{URL: "https://api.openai.com/v1/", Model: "m", APIKey: "sk-x"}, ""},
		{"ok explicit values", Config{URL: "http://h", Model: "m", Timeout: time.Second, BatchSize: 8}, ""},
		{"missing URL", Config{Model: "m"}, "URL is required"},
		{"unparsable URL", Config{URL: "http://h:bad port", Model: "m"}, "invalid URL"},
		{"no scheme", Config{URL: "localhost:11434", Model: "m"}, "scheme must be http or https"},
		{"ftp scheme", Config{URL: "ftp://h", Model: "m"}, "scheme must be http or https"},
		{"no host", Config{URL: "http:///api", Model: "m"}, "no host"},
		{"credentials in URL", Config{URL: "http://u:secretpw@h", Model: "m"}, "must not contain credentials"},
		{"query", Config{URL: "http://h?x=1", Model: "m"}, "query or fragment"},
		{"fragment", Config{URL: "http://h#f", Model: "m"}, "query or fragment"},
		{"missing model", Config{URL: "http://h"}, "Model is required"},
		{"blank model", Config{URL: "http://h", Model: "  "}, "Model is required"},
		{"negative timeout", Config{URL: "http://h", Model: "m", Timeout: -1}, "Timeout must not be negative"},
		{"negative batch", Config{URL: "http://h", Model: "m", BatchSize: -1}, "BatchSize must not be negative"},
		{"key with newline", Config{URL: "http://h", Model: "m", APIKey: "sk-secret\n"}, "APIKey contains"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "secret")) {
				t.Errorf("error leaks a secret: %v", err)
			}
			for _, k := range kinds {
				_, nerr := k.new(tt.cfg)
				if (nerr == nil) != (err == nil) {
					t.Errorf("%s: constructor error %v disagrees with Validate %v", k.name, nerr, err)
				}
				if nerr != nil && !strings.HasPrefix(nerr.Error(), k.name+": ") {
					t.Errorf("%s: constructor error %q does not name the provider", k.name, nerr)
				}
			}
		})
	}
}

func TestDefaultsAndID(t *testing.T) {
	o, err := NewOllama(Config{URL: "http://localhost:11434/", Model: "nomic-embed-text"})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.ID(); got != "ollama:nomic-embed-text" {
		t.Errorf("ID = %q", got)
	}
	if o.c.timeout != DefaultTimeout || o.c.batchSize != DefaultBatchSize || o.c.hc == nil {
		t.Errorf("defaults not applied: timeout %v batch %d client %v", o.c.timeout, o.c.batchSize, o.c.hc)
	}
	if o.c.endpoint != "http://localhost:11434/api/embed" {
		t.Errorf("endpoint = %q", o.c.endpoint)
	}

	hc := &http.Client{}
	a, err := NewOpenAI(Config{URL: "https://api.openai.com/v1", Model: "text-embedding-3-small",
		Timeout: 3 * time.Second, BatchSize: 5, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.ID(); got != "openai:text-embedding-3-small" {
		t.Errorf("ID = %q", got)
	}
	if a.c.timeout != 3*time.Second || a.c.batchSize != 5 || a.c.hc != hc {
		t.Errorf("explicit config not kept: timeout %v batch %d", a.c.timeout, a.c.batchSize)
	}
	if a.c.endpoint != "https://api.openai.com/v1/embeddings" {
		t.Errorf("endpoint = %q", a.c.endpoint)
	}
}

func TestBatching(t *testing.T) {
	tests := []struct {
		n, batch  int
		wantSizes []int
	}{
		{1, 64, []int{1}},
		{64, 64, []int{64}},
		{65, 64, []int{64, 1}},
		{150, 64, []int{64, 64, 22}},
		{5, 2, []int{2, 2, 1}},
	}
	for _, k := range kinds {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d_by_%d", k.name, tt.n, tt.batch), func(t *testing.T) {
				var mu sync.Mutex
				var sizes []int
				srv := echoServer(t, k, func(_ *http.Request, req request) {
					mu.Lock()
					sizes = append(sizes, len(req.Input))
					mu.Unlock()
				})
				e := mustNew(t, k, Config{URL: srv.URL, BatchSize: tt.batch})
				in := texts(tt.n)
				got, err := e.Embed(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				checkEcho(t, in, got)
				if fmt.Sprint(sizes) != fmt.Sprint(tt.wantSizes) {
					t.Errorf("batch sizes = %v, want %v", sizes, tt.wantSizes)
				}
			})
		}
	}
}

func TestOpenAIReordersByIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := decodeRequest(t, r)
		vecs := make([][]float32, len(req.Input))
		for i, s := range req.Input {
			vecs[i] = vecFor(s)
		}
		perm := rng.Perm(len(vecs))
		writeJSON(w, openAIData(vecs, perm))
	}))
	defer srv.Close()
	e, err := NewOpenAI(Config{URL: srv.URL, Model: "m", BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	in := texts(40)
	got, err := e.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, in, got)
}

func TestAuthHeader(t *testing.T) {
	for _, k := range kinds {
		for _, key := range []string{"", "sk-test-123"} {
			t.Run(fmt.Sprintf("%s/key=%q", k.name, key), func(t *testing.T) {
				var got []string
				var present bool
				srv := echoServer(t, k, func(r *http.Request, _ request) {
					got, present = r.Header["Authorization"]
				})
				e := mustNew(t, k, Config{URL: srv.URL, APIKey: key})
				if _, err := e.Embed(context.Background(), []string{"t1"}); err != nil {
					t.Fatal(err)
				}
				if key == "" {
					if present {
						t.Errorf("Authorization sent without a key: %q", got)
					}
				} else if len(got) != 1 || got[0] != "Bearer "+key {
					t.Errorf("Authorization = %q, want %q", got, "Bearer "+key)
				}
			})
		}
	}
}

func TestTimeout(t *testing.T) {
	const (
		timeout = 100 * time.Millisecond
		sleep   = 5 * time.Second
	)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				stall(r, sleep)
			}))
			defer srv.Close()
			e := mustNew(t, k, Config{URL: srv.URL, Timeout: timeout, APIKey: "sk-secret"})
			start := time.Now()
			_, err := e.Embed(context.Background(), []string{"t1"})
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Embed succeeded against a stalled server")
			}
			if elapsed > 2*time.Second {
				t.Errorf("Embed took %v, want about %v (server sleeps %v)", elapsed, timeout, sleep)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
			}
			msg := err.Error()
			for _, want := range []string{"timed out", k.name, srv.URL + k.path} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, "sk-secret") {
				t.Errorf("error leaks API key: %q", msg)
			}
		})
	}
}

// TestTimeoutDuringBody covers a server that sends headers promptly and then
// stalls: the deadline must cover reading the body too.
func TestTimeoutDuringBody(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"embeddings":[[1,`)
				w.(http.Flusher).Flush()
				stall(r, 5*time.Second)
			}))
			defer srv.Close()
			e := mustNew(t, k, Config{URL: srv.URL, Timeout: 100 * time.Millisecond})
			start := time.Now()
			_, err := e.Embed(context.Background(), []string{"t1"})
			if err == nil || !strings.Contains(err.Error(), "timed out") {
				t.Fatalf("err = %v, want a timeout", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Embed took %v", d)
			}
		})
	}
}

func TestGarbageResponses(t *testing.T) {
	long := strings.Repeat("x", 1000)
	type tc struct {
		name    string
		only    string // run for this provider only; "" for both
		n       int    // texts to embed (default 2)
		status  int
		body    func(k kind) string // raw body, per provider
		maxBody int64
		wantErr []string
	}
	// raw builds a provider-specific body from a JSON array of vectors.
	raw := func(vecs string) func(kind) string {
		return func(k kind) string {
			if k.name == "ollama" {
				return `{"embeddings":` + vecs + `}`
			}
			var vs []json.RawMessage
			if err := json.Unmarshal([]byte(vecs), &vs); err != nil {
				// Not valid JSON on purpose: splice it in verbatim.
				return `{"data":[{"index":0,"embedding":` + strings.Trim(vecs, "[]") + `]}]}`
			}
			parts := make([]string, len(vs))
			for i, v := range vs {
				parts[i] = fmt.Sprintf(`{"index":%d,"embedding":%s}`, i, v)
			}
			return `{"data":[` + strings.Join(parts, ",") + `]}`
		}
	}
	same := func(s string) func(kind) string { return func(kind) string { return s } }
	tests := []tc{
		{name: "500 with body snippet", status: 500, body: same(`{"error":"model exploded"}` + long),
			wantErr: []string{"status 500", "model exploded", "POST http://"}},
		{name: "404", status: 404, body: same("404 page not found"), wantErr: []string{"status 404", "404 page not found"}},
		{name: "429 empty body", status: 429, body: same(""), wantErr: []string{"status 429"}},
		{name: "empty body", body: same(""), wantErr: []string{"invalid JSON"}},
		{name: "HTML", body: same("<html>oops</html>"), wantErr: []string{"invalid JSON"}},
		{name: "truncated JSON", body: same(`{"embeddings":[[1,2`), wantErr: []string{"invalid JSON"}},
		{name: "wrong type", body: same(`{"embeddings":"nope","data":"nope"}`), wantErr: []string{"invalid JSON"}},
		{name: "missing field", body: same(`{}`), wantErr: []string{"got 0 vectors for 2 texts"}},
		{name: "too few vectors", body: raw(`[[1,2]]`), wantErr: []string{"got 1 vectors for 2 texts"}},
		{name: "too many vectors", body: raw(`[[1,2],[3,4],[5,6]]`), wantErr: []string{"got 3 vectors for 2 texts"}},
		{name: "empty vector", body: raw(`[[1,2],[]]`), wantErr: []string{"vector 1 is empty"}},
		{name: "null vector", body: raw(`[null,[1,2]]`), wantErr: []string{"vector 0 is empty"}},
		{name: "dimension mismatch", body: raw(`[[1,2,3],[1,2]]`), wantErr: []string{"vector 1 has dimension 2, want 3"}},
		{name: "NaN literal", body: raw(`[[1,NaN],[1,2]]`), wantErr: []string{"invalid JSON"}},
		{name: "overflows float32", body: raw(`[[1,1e39],[1,2]]`), wantErr: []string{"invalid JSON"}},
		{name: "string value", body: raw(`[[1,"2"],[1,2]]`), wantErr: []string{"invalid JSON"}},
		{name: "body over limit", maxBody: 16, body: raw(`[[1,2,3,4,5,6,7,8],[1,2,3,4,5,6,7,8]]`),
			wantErr: []string{"exceeds 16 bytes"}},
		{name: "index out of range", only: "openai",
			body:    same(`{"data":[{"index":0,"embedding":[1]},{"index":2,"embedding":[1]}]}`),
			wantErr: []string{"index 2 out of range"}},
		{name: "negative index", only: "openai",
			body:    same(`{"data":[{"index":-1,"embedding":[1]},{"index":0,"embedding":[1]}]}`),
			wantErr: []string{"index -1 out of range"}},
		{name: "repeated index", only: "openai",
			body:    same(`{"data":[{"embedding":[1]},{"embedding":[1]}]}`),
			wantErr: []string{"index 0 repeated"}},
	}
	for _, k := range kinds {
		for _, tt := range tests {
			if tt.only != "" && tt.only != k.name {
				continue
			}
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				body := tt.body(k)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.status != 0 {
						w.WriteHeader(tt.status)
					}
					io.WriteString(w, body)
				}))
				defer srv.Close()
				e := mustNew(t, k, Config{URL: srv.URL, APIKey: "sk-secret-key"})
				if tt.maxBody != 0 {
					k.client(e).maxBody = tt.maxBody
				}
				n := tt.n
				if n == 0 {
					n = 2
				}
				got, err := e.Embed(context.Background(), texts(n))
				if err == nil {
					t.Fatalf("Embed = %v, want error", got)
				}
				msg := err.Error()
				prefix := fmt.Sprintf("%s embed %d texts: ", k.name, n)
				if !strings.HasPrefix(msg, prefix) {
					t.Errorf("error %q lacks prefix %q", msg, prefix)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not contain %q", msg, want)
					}
				}
				if strings.Contains(msg, "sk-secret-key") {
					t.Errorf("error leaks API key: %q", msg)
				}
				if tt.status != 0 {
					var se *StatusError
					if !errors.As(err, &se) || se.StatusCode != tt.status || se.Provider != k.name {
						t.Errorf("error %v is not a StatusError with code %d", err, tt.status)
					} else if len(se.Body) > snippetBytes {
						t.Errorf("body snippet is %d bytes, want <= %d", len(se.Body), snippetBytes)
					}
				}
			})
		}
	}
}

// TestDimensionAcrossBatches checks that the dimension is fixed by the first
// vector of the call, not of each batch.
func TestDimensionAcrossBatches(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				req := decodeRequest(t, r)
				dim := 3
				if calls.Add(1) == 2 {
					dim = 4
				}
				vecs := make([][]float32, len(req.Input))
				for i := range vecs {
					vecs[i] = make([]float32, dim)
					vecs[i][0] = 1
				}
				k.encode(w, vecs)
			}))
			defer srv.Close()
			e := mustNew(t, k, Config{URL: srv.URL, BatchSize: 2})
			_, err := e.Embed(context.Background(), texts(5))
			if err == nil {
				t.Fatal("want dimension error")
			}
			want := "batch [2:4]: vector 2 has dimension 4, want 3"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}

// TestAPIKeyNotInErrors uses a server that echoes the Authorization header
// back in its error body, including across the snippet cut-off.
func TestAPIKeyNotInErrors(t *testing.T) {
	const key = "sk-very-secret-0123456789abcdef"
	pads := []int{0, 150, snippetBytes - 10, snippetBytes - len("Bearer ") - 1, snippetBytes + 5}
	for _, k := range kinds {
		for _, pad := range pads {
			t.Run(fmt.Sprintf("%s/pad=%d", k.name, pad), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprintf(w, "%sinvalid auth: %s; again %s",
						strings.Repeat(".", pad), r.Header.Get("Authorization"), r.Header.Get("Authorization"))
				}))
				defer srv.Close()
				e := mustNew(t, k, Config{URL: srv.URL, APIKey: key})
				_, err := e.Embed(context.Background(), []string{"t1"})
				if err == nil {
					t.Fatal("want error")
				}
				msg := err.Error()
				// No prefix of the key long enough to matter may appear.
				if strings.Contains(msg, key[:8]) {
					t.Errorf("error leaks (part of) the API key: %q", msg)
				}
				if !strings.Contains(msg, "status 401") {
					t.Errorf("error %q lacks status", msg)
				}
				if pad == 0 && !strings.Contains(msg, "Bearer [REDACTED]") {
					t.Errorf("error %q lacks redaction marker", msg)
				}
			})
		}
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		name, body, secret, want string
	}{
		{"short", "  boom\n", "", "boom"},
		{"truncated", strings.Repeat("a", 300), "", strings.Repeat("a", snippetBytes)},
		{"invalid utf8", "bad \xff byte", "", "bad \uFFFD byte"},
		{"redacted", "key=KEY!", "KEY", "key=[REDACTED]!"},
		{"secret straddles cut", strings.Repeat("a", snippetBytes-2) + "KEYZ", "KEY",
			strings.Repeat("a", snippetBytes-2) + "[REDACTED]"},
		{"secret after cut", strings.Repeat("a", snippetBytes) + "KEY", "KEY", strings.Repeat("a", snippetBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := snippet(strings.NewReader(tt.body), tt.secret); got != tt.want {
				t.Errorf("snippet = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCheckVectorsNonFinite covers NaN/Inf, which JSON cannot carry but a
// future decoder or provider might.
func TestCheckVectorsNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name    string
		vecs    [][]float32
		wantErr string
	}{
		{"ok", [][]float32{{1, 2}, {3, 4}}, ""},
		{"NaN", [][]float32{{1, 2}, {nan, 4}}, "vector 11 has non-finite value NaN at position 0"},
		{"+Inf", [][]float32{{1, inf}, {3, 4}}, "vector 10 has non-finite value +Inf at position 1"},
		{"-Inf", [][]float32{{1, 2}, {3, -inf}}, "vector 11 has non-finite value -Inf at position 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dim := 0
			err := checkVectors(tt.vecs, 10, 2, &dim)
			if tt.wantErr == "" {
				if err != nil || dim != 2 {
					t.Fatalf("err = %v dim = %d", err, dim)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestEmptyInputMakesNoRequest(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Error("unexpected request")
			}))
			defer srv.Close()
			e := mustNew(t, k, Config{URL: srv.URL})
			for _, in := range [][]string{nil, {}} {
				got, err := e.Embed(context.Background(), in)
				if err != nil || len(got) != 0 {
					t.Errorf("Embed(%#v) = %v, %v; want empty, nil", in, got, err)
				}
			}
		})
	}
}

func TestContextCanceled(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name+"/between batches", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var calls atomic.Int32
			srv := echoServer(t, k, func(*http.Request, request) {
				calls.Add(1)
				cancel() // the response still arrives; the next batch must not start
			})
			e := mustNew(t, k, Config{URL: srv.URL, BatchSize: 2})
			_, err := e.Embed(ctx, texts(6))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("server saw %d requests, want 1", n)
			}
		})
		t.Run(k.name+"/before start", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Error("unexpected request")
			}))
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			e := mustNew(t, k, Config{URL: srv.URL})
			if _, err := e.Embed(ctx, []string{"t1"}); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		})
		t.Run(k.name+"/during request", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cancel()
				stall(r, 5*time.Second)
			}))
			defer srv.Close()
			e := mustNew(t, k, Config{URL: srv.URL})
			_, err := e.Embed(ctx, []string{"t1"})
			if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "timed out") {
				t.Fatalf("err = %v, want context.Canceled and no timeout claim", err)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := echoServer(t, k, func(*http.Request, request) { calls.Add(1) })
			e := mustNew(t, k, Config{URL: srv.URL, BatchSize: 7})
			const workers = 8
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					in := texts(20 + w)
					got, err := e.Embed(context.Background(), in)
					if err != nil {
						t.Error(err)
						return
					}
					checkEcho(t, in, got)
				})
			}
			wg.Wait()
			want := 0
			for w := range workers {
				want += (20 + w + 6) / 7
			}
			if n := int(calls.Load()); n != want {
				t.Errorf("server saw %d requests, want %d", n, want)
			}
		})
	}
}
