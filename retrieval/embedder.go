package retrieval

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
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

// inProcess is an Embedder that runs in this process at a few microseconds
// a sentence (the built-in word vectors). Its sentence vectors are not held
// in a snapshot but embedded for the few sentences a question reads
// (sentenceCosines): held as int8 they were 0.4 KB a chunk of heap
// (BenchmarkHeapPerChunk). A network provider's are held: a question must
// not wait on a second request.
type inProcess interface{ InProcess() bool }

// holdsSentenceVectors reports whether a snapshot keeps e's sentence
// vectors.
func holdsSentenceVectors(e Embedder) bool {
	p, ok := e.(inProcess)
	return !ok || !p.InProcess()
}

type cacheKey struct {
	embedder string
	text     [sha256.Size]byte
}

// EmbeddingCache remembers vectors by (embedder ID, sha256 of the text), so a
// reload re-embeds only the chunks whose text changed. Safe for concurrent
// use; shared by every snapshot built from it.
//
// It also holds the story segments built with it (segment.go): a story's
// sentences, chunks, term IDs and int8 vectors, keyed by what they depend
// on, and the term dictionary their IDs come from. Snapshots share those
// segments with the cache instead of holding copies; a vector built into a
// segment is not kept per text as well.
type EmbeddingCache struct {
	mu       sync.RWMutex
	vectors  map[cacheKey][]float32
	segments map[segmentKey]*segment
	// latest is, by storyKey, the segment last built or used for a story
	// and the body it came from.
	latest map[string]storyVersion
	dict   *termDict

	hits, misses atomic.Int64
}

// NewEmbeddingCache returns an empty cache.
func NewEmbeddingCache() *EmbeddingCache {
	return &EmbeddingCache{vectors: make(map[cacheKey][]float32), segments: make(map[segmentKey]*segment), latest: make(map[string]storyVersion), dict: newTermDict()}
}

// Len is the number of cached vectors: those kept per text and those in
// segments.
func (c *EmbeddingCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := len(c.vectors)
	for _, s := range c.segments {
		n += s.chunkVec.len() + s.sentVec.len() + s.sentEnc.len()
	}
	return n
}

// Segments are the cache's story segments' vectors, for persistence. The
// order is unspecified.
func (c *EmbeddingCache) Segments() []SegmentVectors {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]SegmentVectors, 0, len(c.segments))
	for _, s := range c.segments {
		out = append(out, s.export())
	}
	return out
}

// PutSegments adds segments' vectors, for loading a saved cache, or for
// saving a snapshot's (Index.Segments). A block whose lengths disagree is
// left out.
func (c *EmbeddingCache) PutSegments(segs ...SegmentVectors) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sv := range segs {
		if !sv.Chunk.valid() || !sv.Sentence.valid() || !sv.Encoder.valid() {
			continue
		}
		if old, ok := c.segments[sv.Key]; ok && old.sents != nil {
			continue // already whole
		}
		c.segments[sv.Key] = &segment{key: sv.Key,
			chunkVec: qrows{dims: sv.Chunk.Dims, q: sv.Chunk.Values, scale: sv.Chunk.Scale},
			sentVec:  qrows{dims: sv.Sentence.Dims, q: sv.Sentence.Values, scale: sv.Sentence.Scale},
			sentEnc:  packNibbles(sv.Encoder.Dims, sv.Encoder.Values, sv.Encoder.Scale)}
	}
}

// terms is the dictionary of the cache's segments.
func (c *EmbeddingCache) terms() *termDict {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.dict
}

// compactTerms gives the cache a new term dictionary holding only the
// terms of ix's segments, which it replaces with copies in the new IDs;
// every other segment built with the old dictionary is dropped. Snapshots
// built before keep the old dictionary and segments, whole. The next build
// from the cache is one from its segments (assemble cannot carry over a
// snapshot of another dictionary).
func (c *EmbeddingCache) compactTerms(ix *Index) {
	from, to := ix.dict, newTermDict()
	ids := make([]uint32, from.size())
	for i := range ids {
		ids[i] = ^uint32(0)
	}
	moved := make(map[*segment]*segment, len(ix.segs))
	for _, seg := range ix.segs {
		moved[seg] = remapTerms(seg, from, to, ids)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dict != from {
		return // compacted meanwhile
	}
	c.dict = to
	maps.DeleteFunc(c.segments, func(k segmentKey, s *segment) bool { return s.sents != nil && moved[s] == nil })
	for _, s := range moved {
		c.segments[s.key] = s
	}
	maps.DeleteFunc(c.latest, func(_ string, v storyVersion) bool { return moved[v.seg] == nil })
	for k, v := range c.latest {
		v.seg = moved[v.seg]
		c.latest[k] = v
	}
}

// segment is the segment stored under key, or nil.
func (c *EmbeddingCache) segment(key segmentKey) *segment {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.segments[key]
}

// storyVersion is a story's segment and the body it was built from.
type storyVersion struct {
	key  string // storyKey
	body string
	seg  *segment
	// words and enc are the IDs of the models the segment's vectors are
	// from ("" without).
	words, enc string
}

// latestOf is the segment last built or used for a story.
func (c *EmbeddingCache) latestOf(key string) (storyVersion, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.latest[key]
	return v, ok && v.seg.sents != nil
}

// putSegments keeps segments built from whole stories, and records what
// each story of a build now is (holding the build's own body strings, so
// the story's text is not kept twice).
func (c *EmbeddingCache) putSegments(segs []*segment, latest []storyVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range segs {
		c.segments[s.key] = s
	}
	for _, v := range latest {
		c.latest[v.key] = v
	}
}

// retain drops what neither ix nor prev (the snapshot ix replaces; may be
// nil) uses: the segments of stories changed or removed before that, and
// the per-text vectors (a snapshot's vectors are in its segments). The
// served library calls it after each reload, so the cache holds the
// archive as it is and as it just was (an edit undone embeds nothing), not
// every text it ever saw.
func (c *EmbeddingCache) retain(ix, prev *Index) {
	keep := make(map[segmentKey]bool, len(ix.segs))
	for _, x := range []*Index{ix, prev} {
		if x == nil {
			continue
		}
		for _, s := range x.segs {
			keep[s.key] = true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.segments, func(k segmentKey, _ *segment) bool { return !keep[k] })
	maps.DeleteFunc(c.latest, func(_ string, v storyVersion) bool { return !keep[v.seg.key] })
	clear(c.vectors)
}

// get is the vector cached per text for (embedder, text).
func (c *EmbeddingCache) get(embedder, text string) ([]float32, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.vectors) == 0 {
		return nil, false
	}
	v, ok := c.vectors[cacheKey{embedder, sha256.Sum256([]byte(text))}]
	return v, ok
}

// count records a build's look-ups: texts sent to a model, and found.
func (c *EmbeddingCache) count(missed, found int) {
	c.misses.Add(int64(missed))
	c.hits.Add(int64(found))
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

// Entries lists every vector the cache can give by text: those kept per
// text, and those of the segments of the stories it last built (as
// float32). For tools that keep vectors by text; the store saves
// TextEntries and Segments instead. The order is unspecified.
func (c *EmbeddingCache) Entries() []CachedVector {
	out := c.TextEntries()
	seen := make(map[cacheKey]bool, len(out))
	for _, e := range out {
		seen[cacheKey{e.Embedder, e.TextHash}] = true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, v := range c.latest {
		if v.words != "" && v.seg.sents != nil {
			out = v.seg.entries(v.body, v.words, v.enc, seen, out)
		}
	}
	return out
}

// TextEntries lists the vectors kept per text (Put, Embed), not those in
// segments. The order is unspecified.
func (c *EmbeddingCache) TextEntries() []CachedVector {
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
