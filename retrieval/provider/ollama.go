package provider

import "context"

// Ollama embeds texts with an Ollama server's batched /api/embed endpoint.
// It is safe for concurrent use.
type Ollama struct {
	c *client
}

// NewOllama returns an Ollama embedder for cfg.URL (e.g.
// "http://localhost:11434"). cfg.APIKey is optional; if set it is sent as a
// bearer token, e.g. for a server behind an authenticating proxy.
func NewOllama(cfg Config) (*Ollama, error) {
	c, err := newClient("ollama", cfg, "api/embed")
	if err != nil {
		return nil, err
	}
	return &Ollama{c: c}, nil
}

// ID names the provider and model, e.g. "ollama:nomic-embed-text".
func (o *Ollama) ID() string { return "ollama:" + o.c.model }

// Embed returns one vector per text, in order. Empty input makes no request.
func (o *Ollama) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return o.c.embedAll(ctx, texts, o.embedBatch)
}

type ollamaRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type ollamaResponse struct {
	Embeddings [][]float32 `json:"embeddings"`
}

func (o *Ollama) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	var resp ollamaResponse
	if err := o.c.post(ctx, ollamaRequest{Model: o.c.model, Input: texts}, &resp); err != nil {
		return nil, err
	}
	return resp.Embeddings, nil
}
