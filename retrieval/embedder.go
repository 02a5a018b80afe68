package retrieval

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
)

// Embedder turns texts into vectors. The offline default and the optional
// network providers (Ollama, OpenAI-compatible) all satisfy it.
// Implementations must be safe for concurrent use.
type Embedder interface {
	// ID names the model and its settings. It keys the embedding cache, so
	// it must change whenever the vectors would.
	ID() string
	// Embed returns one vector per text, in order. An all-zero vector means
	// "no signal" (say, only unknown words) and is not indexed.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

type cacheKey struct {
	embedder string
	text     [sha256.Size]byte
}

// EmbeddingCache remembers vectors by (embedder ID, sha256 of the text), so a
// reload re-embeds only the chunks whose text changed. Safe for concurrent
// use; shared by every snapshot built from it.
type EmbeddingCache struct {
	mu      sync.RWMutex
	vectors map[cacheKey][]float32

	hits, misses atomic.Int64
}

// NewEmbeddingCache returns an empty cache.
func NewEmbeddingCache() *EmbeddingCache {
	return &EmbeddingCache{vectors: make(map[cacheKey][]float32)}
}

// Len is the number of cached vectors.
func (c *EmbeddingCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.vectors)
}

// Embed returns vectors for texts, asking e only for the texts not cached (in
// one batch) and reporting how many it asked for.
func (c *EmbeddingCache) Embed(ctx context.Context, e Embedder, texts []string) (vecs [][]float32, embedded int, err error) {
	id := e.ID()
	vecs = make([][]float32, len(texts))
	var missing []int
	c.mu.RLock()
	for i, t := range texts {
		if v, ok := c.vectors[cacheKey{id, sha256.Sum256([]byte(t))}]; ok {
			vecs[i] = v
		} else {
			missing = append(missing, i)
		}
	}
	c.mu.RUnlock()
	c.hits.Add(int64(len(texts) - len(missing)))
	c.misses.Add(int64(len(missing)))
	if len(missing) == 0 {
		return vecs, 0, nil
	}
	batch := make([]string, len(missing))
	for j, i := range missing {
		batch[j] = texts[i]
	}
	got, err := e.Embed(ctx, batch)
	if err != nil {
		return nil, 0, fmt.Errorf("embed with %s: %w", id, err)
	}
	if len(got) != len(batch) {
		return nil, 0, fmt.Errorf("embed with %s: got %d vectors for %d texts", id, len(got), len(batch))
	}
	c.mu.Lock()
	for j, i := range missing {
		vecs[i] = got[j]
		c.vectors[cacheKey{id, sha256.Sum256([]byte(batch[j]))}] = got[j]
	}
	c.mu.Unlock()
	return vecs, len(missing), nil
}

// CachedVector is one cache entry, for saving the cache to disk.
type CachedVector struct {
	Embedder string
	TextHash [sha256.Size]byte
	Vector   []float32
}

// Entries lists the cache's vectors, for persistence. The order is
// unspecified.
func (c *EmbeddingCache) Entries() []CachedVector {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]CachedVector, 0, len(c.vectors))
	for k, v := range c.vectors {
		out = append(out, CachedVector{Embedder: k.embedder, TextHash: k.text, Vector: v})
	}
	return out
}

// Put adds entries, for loading a saved cache.
func (c *EmbeddingCache) Put(entries ...CachedVector) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		c.vectors[cacheKey{e.Embedder, e.TextHash}] = e.Vector
	}
}

// Stats are the cache's hits and misses since it was made.
func (c *EmbeddingCache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// lookup returns the entries cached for texts, skipping any that are not.
func (c *EmbeddingCache) lookup(embedder string, texts []string) []CachedVector {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := make(map[[sha256.Size]byte]bool, len(texts))
	out := make([]CachedVector, 0, len(texts))
	for _, t := range texts {
		h := sha256.Sum256([]byte(t))
		if seen[h] {
			continue
		}
		seen[h] = true
		if v, ok := c.vectors[cacheKey{embedder, h}]; ok {
			out = append(out, CachedVector{Embedder: embedder, TextHash: h, Vector: v})
		}
	}
	return out
}
