package config

import (
	"fmt"
	"time"

	"storybot/retrieval"
	"storybot/retrieval/encoder"
	"storybot/retrieval/provider"
	"storybot/retrieval/wordvec"
)

// RetrievalOptions turns the chunking, retrieval and embedder settings into
// retrieval.Options, building the embedder. It validates c first, so a
// hand-built Config cannot slip a bad value through.
func (c *Config) RetrievalOptions() (retrieval.Options, error) {
	if err := c.Validate(); err != nil {
		return retrieval.Options{}, fmt.Errorf("config: %w", err)
	}
	overlap := c.Chunking.Overlap
	if overlap == 0 {
		overlap = -1 // retrieval reads 0 as "default"; the config's 0 means none
	}
	opts := retrieval.Options{
		Chunking: retrieval.ChunkOptions{MinWords: c.Chunking.MinWords, MaxWords: c.Chunking.MaxWords, Overlap: overlap},
		TopK:     c.Retrieval.TopK,
	}
	if c.Retrieval.SentenceEncoder == SentenceEncoderBuiltin {
		enc, err := encoder.New()
		if err != nil {
			return retrieval.Options{}, fmt.Errorf("sentence encoder: %w", err)
		}
		opts.Encoder = enc
		// The threshold set applies to the answerability in use; the
		// word-vector one stays for questions the encoder cannot read.
		opts.DeclineBelowEncoder = c.Retrieval.DeclineBelow
	} else {
		opts.DeclineBelow = c.Retrieval.DeclineBelow
	}
	e := c.Embedder
	switch e.Kind {
	case EmbedderOffline:
		w, err := wordvec.New()
		if err != nil {
			return retrieval.Options{}, fmt.Errorf("offline embedder: %w", err)
		}
		opts.Embedder = w
	case EmbedderOllama, EmbedderOpenAI:
		pc := provider.Config{URL: e.URL, Model: e.Model, Timeout: time.Duration(e.Timeout), BatchSize: e.BatchSize}
		if e.APIKeyEnv != "" {
			getenv := c.getenv
			if getenv == nil {
				return retrieval.Options{}, fmt.Errorf("%s: no environment to read %s from", c.where("embedder.api_key_env"), e.APIKeyEnv)
			}
			if pc.APIKey = getenv(e.APIKeyEnv); pc.APIKey == "" {
				return retrieval.Options{}, fmt.Errorf("%s: the environment variable %s is not set", c.where("embedder.api_key_env"), e.APIKeyEnv)
			}
		}
		var (
			emb retrieval.Embedder
			err error
		)
		if e.Kind == EmbedderOllama {
			emb, err = provider.NewOllama(pc)
		} else {
			emb, err = provider.NewOpenAI(pc)
		}
		if err != nil {
			return retrieval.Options{}, fmt.Errorf("embedder: %w", err)
		}
		opts.Embedder = emb
	case EmbedderNone:
	}
	return opts, nil
}
