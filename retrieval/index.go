// Package retrieval turns stories into an index and questions into cited
// answers: sentence-aware chunks, a BM25 index beside a chromem-go vector
// collection, fused rankings, and extractive answers that quote the story.
//
// An Index is an immutable snapshot. A new one is built on the side and
// swapped into a Library, so questions in flight finish on the snapshot they
// started with.
package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"storybot/knowledge"
)

// Options configure how a snapshot is built and how it answers. Zero values
// take the defaults.
type Options struct {
	Chunking ChunkOptions
	// K1 and B are the BM25 parameters.
	K1, B float64
	// Embedder is the vector leg. Nil means lexical ranking only.
	Embedder Embedder
	// Encoder reads whole sentences (a small transformer) to pick the
	// answer sentence and to decide whether the stories answer at all. It
	// embeds sentences, not passages: it is too slow for passage-length
	// text. It works beside the Embedder, whose cosine its weights and
	// threshold were fitted with: without an Embedder it is not used, and a
	// question whose vector leg failed is read without it too. Nil leaves
	// picking and declining to the Embedder's vectors.
	Encoder Embedder
	// Cache is shared across snapshots so a reload embeds only new text.
	// Nil gives the snapshot a private cache.
	Cache *EmbeddingCache
	// Fusion combines the two legs; VectorWeight is the vector leg's share
	// in weighted fusion.
	Fusion       Fusion
	VectorWeight float64
	// TopK is how many passages the answerer reads.
	TopK int
	// DeclineBelow is the answerability the best sentence must reach
	// (coverage of the question's weighted terms + 0.5·cosine); below it the
	// answer is "the story does not say". DeclineBelowEncoder applies
	// instead when the Encoder read the question, whose answerability adds
	// 0.5·the Encoder's cosine; DeclineBelowLexical when the question has
	// no vector (no embedder, or the provider failed), so answerability is
	// coverage alone.
	DeclineBelow        float64
	DeclineBelowLexical float64
	DeclineBelowEncoder float64
	// WordNet gives partial credit in coverage to words WordNet links to
	// the question's (synonyms, derivations, classes), and lets the
	// confidence notice antonyms. Off by default: measured, it helps the
	// answerability score a little on SQuAD 2.0 and misleads the picker on
	// short questions (README, "Quality").
	WordNet bool
	// OverviewSentences is how many sentences answer "what is this story
	// about": the lead and the most central others.
	OverviewSentences int
	// AnswerAbove is the confidence (answer.go) the best sentence of an
	// on-topic question must reach to be quoted as the answer; below it the
	// reply is hedged: the closest the story comes. Negative: never hedge.
	AnswerAbove float64
	// QueryTimeout bounds the question's embedding by each of Embedder and
	// Encoder; past it the question is answered without that model.
	QueryTimeout time.Duration
}

// Defaults, chosen by measurement on the eval sets (see README).
const (
	DefaultTopK         = 4
	DefaultDeclineBelow = 0.545
	// DefaultDeclineBelowLexical is TestFitDecline's threshold for coverage
	// alone at the same 96% off-article decline rate.
	DefaultDeclineBelowLexical = 0.36
	// DefaultDeclineBelowEncoder is TestFitDecline's threshold with the
	// sentence encoder's cosine added, at the same decline rate.
	DefaultDeclineBelowEncoder = 0.715
	DefaultVectorWeight        = 0.3
	// DefaultAnswerAbove is TestFitConfidence's threshold: 90% of SQuAD
	// 2.0's answerable questions reach it (confidence.go) at 0.378; 0.340 keeps
	// "who favors strikes?" (confidence 0.346) answered on the built-in story.
	DefaultAnswerAbove  = 0.340
	DefaultQueryTimeout = 2 * time.Second
)

func (o Options) withDefaults() Options {
	o.Chunking = o.Chunking.withDefaults()
	if o.K1 == 0 {
		o.K1 = DefaultK1
	}
	if o.B == 0 {
		o.B = DefaultB
	}
	if o.Fusion == "" {
		o.Fusion = FusionWeighted
	}
	if o.VectorWeight == 0 {
		o.VectorWeight = DefaultVectorWeight
	}
	if o.TopK <= 0 {
		o.TopK = DefaultTopK
	}
	if o.DeclineBelow == 0 {
		o.DeclineBelow = DefaultDeclineBelow
	}
	if o.DeclineBelowLexical == 0 {
		o.DeclineBelowLexical = DefaultDeclineBelowLexical
	}
	if o.DeclineBelowEncoder == 0 {
		o.DeclineBelowEncoder = DefaultDeclineBelowEncoder
	}
	if o.OverviewSentences <= 0 {
		o.OverviewSentences = DefaultOverviewSentences
	}
	if o.AnswerAbove == 0 {
		o.AnswerAbove = DefaultAnswerAbove
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.Cache == nil {
		o.Cache = NewEmbeddingCache()
	}
	return o
}

// Index is one immutable snapshot: stories, their sentences and chunks, the
// lexical index and the vector collection. It is safe for concurrent use.
type Index struct {
	opts    Options
	stories []*knowledge.Story

	// sentences[g] is sentence g of the whole snapshot; storyBase[s] is the
	// global index of story s's first sentence.
	sentences []globalSentence
	storyBase []int
	sentTerms [][]string
	sentIDF   *bm25

	chunks  []Chunk
	lexical *bm25
	vectors *vectorIndex // nil without an embedder
	// sentVecs[g] is sentence g's vector, for scoring sentences by meaning;
	// nil without an embedder.
	sentVecs [][]float32
	// sentEnc[g] is sentence g's vector from the Encoder; nil without one.
	sentEnc [][]float32

	version string
	stats   BuildStats
}

type globalSentence struct {
	Sentence
	story int
}

// BuildStats say what building a snapshot took.
type BuildStats struct {
	Stories  int           `json:"stories"`
	Chunks   int           `json:"chunks"`
	Embedded int           `json:"embedded"` // chunks sent to the embedder
	Cached   int           `json:"cached"`   // chunks whose vectors came from the cache
	Took     time.Duration `json:"took_ns"`
	Built    time.Time     `json:"built"`
}

// Build makes a snapshot of stories. It fails without side effects: the
// caller's current snapshot is untouched whatever happens here.
func Build(ctx context.Context, stories []*knowledge.Story, opts Options) (*Index, error) {
	start := time.Now()
	if len(stories) == 0 {
		return nil, errors.New("build index: no stories")
	}
	opts = opts.withDefaults()
	ix := &Index{opts: opts, stories: slices.Clone(stories)}

	var chunkTerms [][]string
	for si, s := range ix.stories {
		sents := SplitStory(s.Body)
		if len(sents) == 0 {
			return nil, fmt.Errorf("build index: story %s has no sentences", s.ID)
		}
		ix.storyBase = append(ix.storyBase, len(ix.sentences))
		for _, st := range sents {
			ix.sentences = append(ix.sentences, globalSentence{st, si})
			ix.sentTerms = append(ix.sentTerms, Terms(s.Body[st.Start:st.End]))
		}
		for _, c := range ChunkSentences(s.ID, s.Body, sents, opts.Chunking) {
			c.Story = si
			ix.chunks = append(ix.chunks, c)
			chunkTerms = append(chunkTerms, Terms(s.Body[c.Start:c.End]))
		}
	}
	ix.lexical = newBM25(chunkTerms, opts.K1, opts.B)
	ix.sentIDF = newBM25(ix.sentTerms, opts.K1, opts.B)

	if opts.Embedder != nil {
		texts := make([]string, len(ix.chunks))
		for i := range ix.chunks {
			texts[i] = ix.ChunkText(i)
		}
		vecs, embedded, err := opts.Cache.Embed(ctx, opts.Embedder, texts)
		if err != nil {
			return nil, fmt.Errorf("build index: %w", err)
		}
		if ix.vectors, err = newVectorIndex(ctx, vecs); err != nil {
			return nil, fmt.Errorf("build index: %w", err)
		}
		ix.stats.Embedded = embedded
		ix.stats.Cached = len(texts) - embedded
		sentTexts := ix.sentenceTexts()
		if ix.sentVecs, _, err = opts.Cache.Embed(ctx, opts.Embedder, sentTexts); err != nil {
			return nil, fmt.Errorf("build index: %w", err)
		}
		// The encoder works only beside the word vectors (see Options).
		if opts.Encoder != nil {
			if ix.sentEnc, _, err = opts.Cache.Embed(ctx, opts.Encoder, sentTexts); err != nil {
				return nil, fmt.Errorf("build index: %w", err)
			}
		}
	}

	h := sha256.New()
	if opts.Embedder != nil {
		h.Write([]byte(opts.Embedder.ID()))
	}
	if ix.sentEnc != nil {
		h.Write([]byte(opts.Encoder.ID()))
	}
	for _, c := range ix.chunks {
		h.Write([]byte(c.ID))
	}
	ix.version = hex.EncodeToString(h.Sum(nil))[:12]
	ix.stats.Stories = len(ix.stories)
	ix.stats.Chunks = len(ix.chunks)
	ix.stats.Built = time.Now()
	ix.stats.Took = time.Since(start)
	return ix, nil
}

// Version identifies the snapshot's content: the same stories, chunking and
// embedder give the same version.
func (ix *Index) Version() string { return ix.version }

// Stats describe how the snapshot was built.
func (ix *Index) Stats() BuildStats { return ix.stats }

// Stories are the snapshot's stories, sorted by ID.
func (ix *Index) Stories() []*knowledge.Story { return ix.stories }

// StoryChunks counts the chunks of each story, by story ID.
func (ix *Index) StoryChunks() map[string]int {
	m := make(map[string]int, len(ix.stories))
	for _, c := range ix.chunks {
		m[ix.stories[c.Story].ID]++
	}
	return m
}

// Chunks are the snapshot's chunks, in story order.
func (ix *Index) Chunks() []Chunk { return ix.chunks }

// ChunkText is the exact source text of chunk i.
func (ix *Index) ChunkText(i int) string {
	c := ix.chunks[i]
	return ix.stories[c.Story].Body[c.Start:c.End]
}

// ChunkByID finds a chunk, for "show passages".
func (ix *Index) ChunkByID(id string) (Chunk, bool) {
	for _, c := range ix.chunks {
		if c.ID == id {
			return c, true
		}
	}
	return Chunk{}, false
}

// Hit is one retrieved chunk.
type Hit struct {
	Chunk int     // index into Chunks()
	Score float64 // fused score; higher is better
}

// SearchResult is a ranking and how it was made.
type SearchResult struct {
	Hits []Hit
	// Degraded is set when the vector leg failed (a provider timed out or
	// returned garbage) and the ranking is lexical only.
	Degraded error
}

// Search ranks chunks for a query, best first, at most k of them.
func (ix *Index) Search(ctx context.Context, query string, k int) (SearchResult, error) {
	res, _, err := ix.search(ctx, query, k)
	return res, err
}

// search also returns the query's vector (nil without one), which the
// answerer reuses to score sentences.
func (ix *Index) search(ctx context.Context, query string, k int) (SearchResult, []float32, error) {
	if err := ctx.Err(); err != nil {
		return SearchResult{}, nil, err
	}
	pool := max(k*5, 50)
	lexical := ix.lexical.search(Terms(query), pool)
	var res SearchResult
	var semantic []scored
	var qvec []float32
	if ix.opts.Fusion == FusionVector {
		lexical = nil
	}
	if ix.vectors != nil && ix.opts.Fusion != FusionLexical {
		var err error
		qvec, semantic, err = ix.searchVectors(ctx, query, pool)
		if err != nil {
			if ctx.Err() != nil {
				return SearchResult{}, nil, ctx.Err()
			}
			res.Degraded = err
			semantic, qvec = nil, nil
		}
	}
	var fused []scored
	switch {
	case len(semantic) == 0:
		fused = lexical
	case len(lexical) == 0:
		fused = semantic
	case ix.opts.Fusion == FusionRRF:
		fused = fuseRRF(lexical, semantic)
	default:
		fused = fuseWeighted([]float64{1 - ix.opts.VectorWeight, ix.opts.VectorWeight}, lexical, semantic)
	}
	if len(fused) > k {
		fused = fused[:k]
	}
	res.Hits = make([]Hit, len(fused))
	for i, s := range fused {
		res.Hits[i] = Hit{Chunk: s.doc, Score: s.score}
	}
	return res, qvec, nil
}

func (ix *Index) searchVectors(ctx context.Context, query string, k int) ([]float32, []scored, error) {
	ctx, cancel := context.WithTimeout(ctx, ix.opts.QueryTimeout)
	defer cancel()
	// Questions are not cached: they rarely repeat, and a long-running bot
	// would grow the cache without bound.
	vecs, err := ix.opts.Embedder.Embed(ctx, []string{query})
	if err != nil {
		return nil, nil, fmt.Errorf("embed question with %s: %w", ix.opts.Embedder.ID(), err)
	}
	if len(vecs) != 1 {
		return nil, nil, fmt.Errorf("embed question with %s: got %d vectors for 1 text", ix.opts.Embedder.ID(), len(vecs))
	}
	hits, err := ix.vectors.search(ctx, vecs[0], k)
	return vecs[0], hits, err
}

// Cache is the embedding cache the snapshot was built with; reloads share it.
func (ix *Index) Cache() *EmbeddingCache { return ix.opts.Cache }

// Vectors lists the cached vectors this snapshot uses (its chunks' and
// sentences'), so that a saved cache holds what the next start needs and
// not every text ever embedded.
func (ix *Index) Vectors() []CachedVector {
	if ix.opts.Embedder == nil {
		return nil
	}
	sentTexts := ix.sentenceTexts()
	texts := make([]string, 0, len(ix.chunks)+len(sentTexts))
	for i := range ix.chunks {
		texts = append(texts, ix.ChunkText(i))
	}
	out := ix.opts.Cache.lookup(ix.opts.Embedder.ID(), append(texts, sentTexts...))
	if ix.sentEnc != nil {
		out = append(out, ix.opts.Cache.lookup(ix.opts.Encoder.ID(), sentTexts)...)
	}
	return out
}

func (ix *Index) sentenceTexts() []string {
	texts := make([]string, len(ix.sentences))
	for g := range ix.sentences {
		texts[g] = ix.sentenceText(g)
	}
	return texts
}
