// Package provider holds optional network embedders (Ollama, OpenAI-compatible).
// Storybot runs offline by default; these are plug-ins for when a real model
// server is available. Unlike chromem-go's helpers they batch requests, bound
// every request with a timeout, and validate what the server sends back.
package provider

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by NewOllama and NewOpenAI when the Config field is zero.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultBatchSize = 64
)

// Config configures a network embedder. URL and Model are required.
type Config struct {
	// URL is the server's base URL, e.g. "http://localhost:11434" for Ollama
	// or "https://api.openai.com/v1" for OpenAI. The endpoint path is appended.
	URL string
	// Model names the embedding model; it is part of the embedder's ID, so
	// changing it invalidates cached embeddings.
	Model string
	// APIKey, if set, is sent as "Authorization: Bearer KEY". It is never
	// logged or included in errors.
	APIKey string
	// Timeout bounds each HTTP request (default DefaultTimeout). It applies
	// on top of the caller's context.
	Timeout time.Duration
	// BatchSize is the maximum number of texts per request (default
	// DefaultBatchSize).
	BatchSize int
	// HTTPClient sends the requests (default: a new client with the default
	// transport). Useful for proxies or custom TLS.
	HTTPClient *http.Client
}

// Validate reports whether c is usable. Zero Timeout and BatchSize are fine:
// they take defaults.
func (c Config) Validate() error {
	_, err := c.parseURL()
	if err != nil {
		return err
	}
	if strings.TrimSpace(c.Model) == "" {
		return errors.New("provider config: Model is required")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("provider config: Timeout must not be negative, got %v", c.Timeout)
	}
	if c.BatchSize < 0 {
		return fmt.Errorf("provider config: BatchSize must not be negative, got %d", c.BatchSize)
	}
	// A key with whitespace or control characters is almost certainly a
	// copy-paste accident and would be rejected as a header value anyway.
	// The message must not echo the key.
	if strings.IndexFunc(c.APIKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return errors.New("provider config: APIKey contains whitespace or control characters")
	}
	return nil
}

// parseURL checks the base URL. Error messages avoid echoing the raw string,
// which could hold credentials.
func (c Config) parseURL() (*url.URL, error) {
	if c.URL == "" {
		return nil, errors.New("provider config: URL is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("provider config: invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("provider config: URL scheme must be http or https, got %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("provider config: URL has no host")
	}
	// Credentials in the URL would end up in error messages; use APIKey.
	if u.User != nil {
		return nil, errors.New("provider config: URL must not contain credentials; use APIKey")
	}
	// The endpoint path is appended, so a query or fragment would be mangled.
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, errors.New("provider config: URL must not have a query or fragment")
	}
	return u, nil
}

// newClient validates cfg, applies defaults and returns a client for the
// endpoint path under cfg.URL.
func newClient(provider string, cfg Config, path string) (*client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", provider, err)
	}
	u, _ := cfg.parseURL() // validated above
	u = u.JoinPath(path)
	c := &client{
		provider:  provider,
		endpoint:  u.String(),
		model:     cfg.Model,
		apiKey:    cfg.APIKey,
		timeout:   cfg.Timeout,
		batchSize: cfg.BatchSize,
		hc:        cfg.HTTPClient,
		maxBody:   maxResponseBytes,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.batchSize == 0 {
		c.batchSize = DefaultBatchSize
	}
	if c.hc == nil {
		// Not http.DefaultClient: other code may mutate that. No client-wide
		// Timeout either; each request gets its own context deadline.
		c.hc = &http.Client{}
	}
	return c, nil
}
