package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// maxResponseBytes caps how much of a response body is read, so a broken
	// or hostile server cannot exhaust memory. 64 MiB holds ~64 batches of
	// 3072-dim vectors in JSON with room to spare.
	maxResponseBytes = 64 << 20
	// snippetBytes caps how much of an error body is quoted in errors.
	snippetBytes = 200
)

// StatusError reports a non-2xx response. Body is a short, sanitized snippet
// of the response body with the API key redacted.
type StatusError struct {
	Provider   string // "ollama" or "openai"
	URL        string // endpoint that was called
	StatusCode int
	Body       string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("POST %s: status %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += fmt.Sprintf(": %q", e.Body)
	}
	return msg
}

// client is the shared HTTP plumbing. It is immutable after construction,
// so embedders built on it are safe for concurrent use.
type client struct {
	provider  string
	endpoint  string // full endpoint URL; contains no credentials
	model     string
	apiKey    string
	timeout   time.Duration
	batchSize int
	hc        *http.Client
	maxBody   int64 // tests lower this
}

// post sends body as JSON and decodes a 2xx JSON response into out. The
// request is bounded by c.timeout on top of ctx.
func (c *client) post(ctx context.Context, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel() // after the body is read: the deadline covers the read too

	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.endpoint, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return c.requestErr(ctx, reqCtx, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{
			Provider:   c.provider,
			URL:        c.endpoint,
			StatusCode: resp.StatusCode,
			Body:       snippet(resp.Body, c.apiKey),
		}
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return c.requestErr(ctx, reqCtx, fmt.Errorf("read response: %w", err))
	}
	if int64(len(data)) > c.maxBody {
		return fmt.Errorf("POST %s: response body exceeds %d bytes", c.endpoint, c.maxBody)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("POST %s: invalid JSON response: %w", c.endpoint, err)
	}
	return nil
}

// requestErr explains a transport failure, telling apart the caller's
// cancellation from our own per-request timeout.
func (c *client) requestErr(parent, reqCtx context.Context, err error) error {
	// *url.Error repeats the URL; we add our own.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("POST %s: %w", c.endpoint, parent.Err())
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("POST %s: %s request timed out after %v: %w",
			c.endpoint, c.provider, c.timeout, context.DeadlineExceeded)
	default:
		return fmt.Errorf("POST %s: %w", c.endpoint, err)
	}
}

// snippet returns up to snippetBytes of r as valid UTF-8 with every
// occurrence of secret replaced. It reads len(secret) extra bytes so that a
// secret straddling the cut is still recognised and never half-quoted.
func snippet(r io.Reader, secret string) string {
	buf, _ := io.ReadAll(io.LimitReader(r, int64(snippetBytes+len(secret))))
	s := string(buf)
	var b strings.Builder
	for i := 0; i < len(s) && i < snippetBytes; {
		if secret != "" && strings.HasPrefix(s[i:], secret) {
			b.WriteString("[REDACTED]")
			i += len(secret)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return strings.TrimSpace(strings.ToValidUTF8(b.String(), "\uFFFD"))
}

// embedAll splits texts into batches, calls batch for each and checks and
// concatenates the results in order.
func (c *client) embedAll(ctx context.Context, texts []string,
	batch func(context.Context, []string) ([][]float32, error)) ([][]float32, error) {
	n := len(texts)
	if n == 0 {
		return [][]float32{}, nil
	}
	out := make([][]float32, 0, n)
	dim := 0
	for start := 0; start < n; start += c.batchSize {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s embed %d texts: %w", c.provider, n, err)
		}
		end := min(start+c.batchSize, n)
		vecs, err := batch(ctx, texts[start:end])
		if err == nil {
			err = checkVectors(vecs, start, end-start, &dim)
		}
		if err != nil {
			if n > c.batchSize {
				return nil, fmt.Errorf("%s embed %d texts: batch [%d:%d]: %w", c.provider, n, start, end, err)
			}
			return nil, fmt.Errorf("%s embed %d texts: %w", c.provider, n, err)
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// checkVectors verifies one batch: the right count, non-empty, a dimension
// consistent with *dim (set from the first vector seen), and finite values.
// offset makes indexes in errors refer to the caller's texts.
func checkVectors(vecs [][]float32, offset, want int, dim *int) error {
	if len(vecs) != want {
		return fmt.Errorf("got %d vectors for %d texts", len(vecs), want)
	}
	for i, v := range vecs {
		if len(v) == 0 {
			return fmt.Errorf("vector %d is empty", offset+i)
		}
		if *dim == 0 {
			*dim = len(v)
		}
		if len(v) != *dim {
			return fmt.Errorf("vector %d has dimension %d, want %d", offset+i, len(v), *dim)
		}
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("vector %d has non-finite value %v at position %d", offset+i, x, j)
			}
		}
	}
	return nil
}
