package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"storybot/bot"
	"storybot/bot/discordtest"
	"storybot/knowledge"
	"storybot/retrieval"
)

// faultyEmbedder embeds stories normally but, once broken, fails or stalls
// on questions: a provider that went down or hangs after the index was built.
type faultyEmbedder struct {
	countingEmbedder
	mode atomic.Int32 // 0 fine, 1 error, 2 hang until the context ends, 3 garbage
}

func (e *faultyEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 1 {
		switch e.mode.Load() {
		case 1:
			return nil, errors.New("ollama embed 1 texts: connection refused")
		case 2:
			<-ctx.Done()
			return nil, ctx.Err()
		case 3:
			return [][]float32{{1, 2}}, nil // wrong dimension
		}
	}
	return e.countingEmbedder.Embed(ctx, texts)
}

// TestProviderFaultsFallBackToKeywordSearch: when the configured embedder
// fails, hangs or returns garbage at question time, the answer still comes,
// from the lexical ranking, within the query timeout, with a footnote that
// says so, and the fallback is counted.
func TestProviderFaultsFallBackToKeywordSearch(t *testing.T) {
	emb := &faultyEmbedder{}
	ix, err := retrieval.Build(context.Background(), knowledge.Default(), retrieval.Options{Embedder: emb, QueryTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, bot.Config{Library: retrieval.NewLibrary(ix), DeferAfter: 100 * time.Millisecond, PerUserPerMinute: 100})
	for mode, name := range map[int32]string{1: "down", 2: "hanging", 3: "garbage"} {
		emb.mode.Store(mode)
		before := e.metrics.fallback()
		start := time.Now()
		p := e.ask("Who is the president of Mexico?", discordtest.Caller{GuildID: "1"})
		msg, _ := e.final(p)
		took := time.Since(start)
		if len(msg.Embeds) == 0 || !strings.Contains(msg.Embeds[0].Description, "Sheinbaum") {
			t.Errorf("%s provider: no answer naming Sheinbaum: %+v", name, msg.Embeds)
			continue
		}
		if !strings.Contains(msg.Embeds[0].Description, "keyword search") {
			t.Errorf("%s provider: the answer has no footnote about the fallback: %q", name, msg.Embeds[0].Description)
		}
		if got := e.metrics.fallback(); got != before+1 {
			t.Errorf("%s provider: fallbacks counted %d, want %d", name, got, before+1)
		}
		if took > 10*time.Second {
			t.Errorf("%s provider: answer took %v; the query timeout should bound it", name, took)
		}
	}
}
