package provider

import (
	"context"
	"fmt"
)

// OpenAI embeds texts with an OpenAI-compatible /embeddings endpoint.
// It is safe for concurrent use.
type OpenAI struct {
	c *client
}

// NewOpenAI returns an OpenAI embedder. cfg.URL is the API base, e.g.
// "https://api.openai.com/v1"; "/embeddings" is appended. cfg.APIKey is
// optional so that local OpenAI-compatible servers work without one.
func NewOpenAI(cfg Config) (*OpenAI, error) {
	c, err := newClient("openai", cfg, "embeddings")
	if err != nil {
		return nil, err
	}
	return &OpenAI{c: c}, nil
}

// ID names the provider and model, e.g. "openai:text-embedding-3-small".
func (o *OpenAI) ID() string { return "openai:" + o.c.model }

// Embed returns one vector per text, in order. Empty input makes no request.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return o.c.embedAll(ctx, texts, o.embedBatch)
}

type openAIRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type openAIResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// embedBatch returns vectors ordered by the response's index field: the API
// does not promise that data comes back in input order.
func (o *OpenAI) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	var resp openAIResponse
	if err := o.c.post(ctx, openAIRequest{Model: o.c.model, Input: texts}, &resp); err != nil {
		return nil, err
	}
	if len(resp.Data) != len(texts) {
		return nil, fmt.Errorf("got %d vectors for %d texts", len(resp.Data), len(texts))
	}
	out := make([][]float32, len(texts))
	seen := make([]bool, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(texts) {
			return nil, fmt.Errorf("response index %d out of range [0,%d)", d.Index, len(texts))
		}
		if seen[d.Index] {
			return nil, fmt.Errorf("response index %d repeated", d.Index)
		}
		seen[d.Index] = true
		out[d.Index] = d.Embedding
	}
	return out, nil
}
