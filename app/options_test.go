package app

import (
	"strings"
	"testing"

	"storybot/config"
	"storybot/retrieval"
)

func TestRetrievalOptions(t *testing.T) {
	c := config.Default()
	opts, err := RetrievalOptions(c)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Embedder == nil || !strings.HasPrefix(opts.Embedder.ID(), "glove100-sif") {
		t.Errorf("offline embedder: %v", opts.Embedder)
	}
	if opts.Encoder == nil || !strings.HasPrefix(opts.Encoder.ID(), "use-lite") {
		t.Errorf("sentence encoder: %v", opts.Encoder)
	}
	// 0 leaves the thresholds to retrieval's measured defaults.
	if opts.TopK != retrieval.DefaultTopK || opts.DeclineBelow != 0 || opts.DeclineBelowEncoder != 0 || opts.Chunking != retrieval.DefaultChunkOptions {
		t.Errorf("options %+v", opts)
	}
	// A threshold set applies to the answerability in use.
	c.Retrieval.DeclineBelow = 0.6
	if opts, err = RetrievalOptions(c); err != nil || opts.DeclineBelowEncoder != 0.6 || opts.DeclineBelow != 0 {
		t.Errorf("threshold with the encoder: %+v, %v", opts, err)
	}
	c.Retrieval.SentenceEncoder = config.SentenceEncoderNone
	if opts, err = RetrievalOptions(c); err != nil || opts.Encoder != nil || opts.DeclineBelow != 0.6 {
		t.Errorf("threshold without the encoder: %+v, %v", opts, err)
	}

	c.Chunking.Overlap = 0
	c.Embedder = config.Embedder{Kind: config.EmbedderNone}
	if opts, err = RetrievalOptions(c); err != nil || opts.Embedder != nil || opts.Chunking.Overlap >= 0 {
		t.Errorf("none/no overlap: %+v, %v", opts, err)
	}

	vars := map[string]string{"STORYBOT_EMBEDDER_KIND": "openai", "STORYBOT_EMBEDDER_URL": "https://api.example.com/v1",
		"STORYBOT_EMBEDDER_MODEL": "text-embedding-3-small", "STORYBOT_EMBEDDER_API_KEY_ENV": "MY_KEY", "MY_KEY": "sk-1"}
	c, err = config.Load("", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if opts, err = RetrievalOptions(c); err != nil || opts.Embedder.ID() != "openai:text-embedding-3-small" {
		t.Errorf("openai: %v, %v", opts.Embedder, err)
	}
	delete(vars, "MY_KEY") // the key's variable is unset
	if _, err = RetrievalOptions(c); err == nil || !strings.Contains(err.Error(), "MY_KEY is not set") {
		t.Errorf("without the key: %v", err)
	}

	c = config.Default()
	c.Embedder = config.Embedder{Kind: config.EmbedderOllama, URL: "http://localhost:11434", Model: "nomic-embed-text"}
	if opts, err = RetrievalOptions(c); err != nil || opts.Embedder.ID() != "ollama:nomic-embed-text" {
		t.Errorf("ollama: %v, %v", opts.Embedder, err)
	}
	c.Limits.Concurrency = 0
	if _, err = RetrievalOptions(c); err == nil || !strings.Contains(err.Error(), "limits.concurrency") {
		t.Errorf("bad config: %v", err)
	}
}
