package config

import (
	"fmt"

	"storybot/retrieval"
)

// RetrievalOptions turns the chunking and retrieval settings into
// retrieval.Options, without the models: building the embedder and the
// sentence encoder is the app package's job (app.RetrievalOptions), so
// config stays plain data and validation. It validates c first, so a
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
		// The threshold set applies to the answerability in use; the
		// word-vector one stays for questions the encoder cannot read.
		opts.DeclineBelowEncoder = c.Retrieval.DeclineBelow
	} else {
		opts.DeclineBelow = c.Retrieval.DeclineBelow
	}
	return opts, nil
}

// EmbedderAPIKey reads the embedder's API key from the environment
// variable embedder.api_key_env names; "" when none is configured.
func (c *Config) EmbedderAPIKey() (string, error) {
	name := c.Embedder.APIKeyEnv
	if name == "" {
		return "", nil
	}
	if c.getenv == nil {
		return "", fmt.Errorf("%s: no environment to read %s from", c.where("embedder.api_key_env"), name)
	}
	key := c.getenv(name)
	if key == "" {
		return "", fmt.Errorf("%s: the environment variable %s is not set", c.where("embedder.api_key_env"), name)
	}
	return key, nil
}
