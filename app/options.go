package app

import (
	"fmt"
	"time"

	"storybot/config"
	"storybot/retrieval"
	"storybot/retrieval/encoder"
	"storybot/retrieval/provider"
	"storybot/retrieval/wordvec"
)

// RetrievalOptions is cfg's retrieval.Options with the models built: the
// sentence encoder, and the embedder (offline word vectors, Ollama or an
// OpenAI-compatible server, or none).
func RetrievalOptions(cfg *config.Config) (retrieval.Options, error) {
	opts, err := cfg.RetrievalOptions()
	if err != nil {
		return retrieval.Options{}, err
	}
	if cfg.Retrieval.SentenceEncoder == config.SentenceEncoderBuiltin {
		enc, err := encoder.New()
		if err != nil {
			return retrieval.Options{}, fmt.Errorf("sentence encoder: %w", err)
		}
		opts.Encoder = enc
	}
	e := cfg.Embedder
	switch e.Kind {
	case config.EmbedderOffline:
		w, err := wordvec.New()
		if err != nil {
			return retrieval.Options{}, fmt.Errorf("offline embedder: %w", err)
		}
		opts.Embedder = w
	case config.EmbedderOllama, config.EmbedderOpenAI:
		pc := provider.Config{URL: e.URL, Model: e.Model, Timeout: time.Duration(e.Timeout), BatchSize: e.BatchSize}
		if pc.APIKey, err = cfg.EmbedderAPIKey(); err != nil {
			return retrieval.Options{}, err
		}
		var emb retrieval.Embedder
		if e.Kind == config.EmbedderOllama {
			emb, err = provider.NewOllama(pc)
		} else {
			emb, err = provider.NewOpenAI(pc)
		}
		if err != nil {
			return retrieval.Options{}, fmt.Errorf("embedder: %w", err)
		}
		opts.Embedder = emb
	case config.EmbedderNone:
	}
	return opts, nil
}
