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
	// short questions (README, "Quality"). Without it WordNet's synonyms
	// still rank the candidates (rankParaphrases), outside coverage.
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
	// DefaultAnswerAbove was chosen on the natural set's fit half, story
	// mode: the highest confidence (in steps of 0.02) that keeps the most
	// answerable questions answered from the right sentence (78.8% from
	// 0.32 to 0.36, 77.5% at 0.38), so the one that hedges the most
	// unanswerable ones there (82.3%, against 79.0% at 0.32). 90% of
	// SQuAD 2.0's answerable questions reach 0.375.
	DefaultAnswerAbove  = 0.360
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
	// segs[s] is story s's segment: its sentences' terms and vectors live
	// there (segment.go), shared with other snapshots of the same text.
	segs []*segment
	dict *termDict

	// Sentence g of the whole snapshot is sentence g−storyBase[s] of story
	// s, the last story whose base is at most g (storyOf); nSents counts
	// them.
	nSents    int
	storyBase []int
	// sentDF counts the sentences holding each term, for IDF.
	sentDF *docFreq

	chunks  []Chunk
	lexical *bm25
	vectors *vectorIndex // nil without an embedder
	// hasVecs is set when the sentences have the Embedder's vectors;
	// hasEnc when they have the Encoder's too.
	hasVecs, hasEnc bool
	// holdsSentVec is set when the segments hold the sentences' Embedder
	// vectors; an in-process Embedder's are embedded as a question reads
	// them (holdsSentenceVectors).
	holdsSentVec bool

	version string
	stats   BuildStats
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
//
// A story whose segment (its sentences, chunks, terms and vectors) the
// cache already holds is not split, tokenised or embedded again; a
// changed story takes the vectors of its unchanged sentences from the
// segment the cache last built for it.
func Build(ctx context.Context, stories []*knowledge.Story, opts Options) (*Index, error) {
	return build(ctx, stories, opts, nil)
}

// build is Build on the side of base, the snapshot being replaced (nil:
// none): what base holds unchanged is carried over (see assemble).
func build(ctx context.Context, stories []*knowledge.Story, opts Options, base *Index) (*Index, error) {
	start := time.Now()
	if len(stories) == 0 {
		return nil, errors.New("build index: no stories")
	}
	opts = opts.withDefaults()
	cache := opts.Cache
	ix := &Index{opts: opts, stories: slices.Clone(stories), dict: cache.terms()}

	var wordID, encID string
	if opts.Embedder != nil {
		wordID = opts.Embedder.ID()
		if opts.Encoder != nil {
			encID = opts.Encoder.ID()
		}
	}
	ix.segs = make([]*segment, len(ix.stories))
	latest := make([]storyVersion, len(ix.stories))
	var work []*pending
	var fresh []*segment
	// A story base holds with the very same text has its segment's key:
	// hashing every body again was a third of a reload's build at 10,000
	// stories.
	var known map[string]int
	if base != nil && keyInputs(base.opts) == keyInputs(opts) {
		known = make(map[string]int, len(base.stories))
		for j, s := range base.stories {
			known[s.ID] = j
		}
	}
	for si, s := range ix.stories {
		var key segmentKey
		if j, ok := known[s.ID]; ok && base.stories[j].Body == s.Body {
			key = base.segs[j].key
		} else {
			key = keyFor(s, opts)
		}
		latest[si] = storyVersion{key: storyKey(s, opts), body: s.Body, words: wordID, enc: encID}
		seg := cache.segment(key)
		if seg != nil && seg.sents != nil && seg.hasVectors(opts) {
			ix.segs[si] = seg
			latest[si].seg = seg
			continue
		}
		built, err := structure(s, key, opts, ix.dict)
		if err != nil {
			return nil, fmt.Errorf("build index: %w", err)
		}
		fresh = append(fresh, built)
		ix.segs[si], latest[si].seg = built, built
		if seg != nil {
			// Vectors read from disk: they fit the structure the key
			// promises, unless the file lies.
			built.chunkVec, built.sentVec, built.sentEnc = seg.chunkVec, seg.sentVec, seg.sentEnc
			if opts.Embedder != nil && !holdsSentenceVectors(opts.Embedder) {
				built.sentVec = qrows{} // a file from before they were embedded on demand
			}
			if built.hasVectors(opts) {
				continue
			}
		}
		if opts.Embedder == nil {
			continue
		}
		p := &pending{seg: built}
		p.chunkTexts, p.sentTexts = built.texts(s.Body)
		if old, ok := cache.latestOf(latest[si].key); ok {
			p.old, p.oldEnc = oldRows(old.seg, old.body)
		}
		work = append(work, p)
	}
	if len(work) > 0 {
		n, err := embedPending(ctx, work, opts)
		if err != nil {
			return nil, fmt.Errorf("build index: %w", err)
		}
		ix.stats.Embedded = n
	}
	if err := ix.assemble(ctx, base); err != nil {
		return nil, fmt.Errorf("build index: %w", err)
	}
	cache.putSegments(fresh, latest)

	h := sha256.New()
	if opts.Embedder != nil {
		h.Write([]byte(opts.Embedder.ID()))
	}
	if ix.hasEnc {
		h.Write([]byte(opts.Encoder.ID()))
	}
	for _, c := range ix.chunks {
		h.Write([]byte(c.ID))
	}
	ix.version = hex.EncodeToString(h.Sum(nil))[:12]
	ix.stats.Stories = len(ix.stories)
	ix.stats.Chunks = len(ix.chunks)
	ix.stats.Cached = ix.stats.Chunks - ix.stats.Embedded
	if opts.Embedder == nil {
		ix.stats.Cached = 0
	}
	ix.stats.Built = time.Now()
	ix.stats.Took = time.Since(start)
	return ix, nil
}

// assemble lays the segments out as one snapshot: the global sentence and
// chunk lists, the BM25 statistics combined from the segments' term IDs,
// and the chunk vectors' scan. With a base (the snapshot a reload
// replaces, built from the same cache), the statistics and vectors of the
// stories whose segments base holds are carried over from it rather than
// computed again: a reload pays for what changed, plus passes over base's
// postings and rows. The result is the same either way.
func (ix *Index) assemble(ctx context.Context, base *Index) error {
	nSents, nChunks := 0, 0
	for _, seg := range ix.segs {
		nSents += len(seg.sents)
		nChunks += len(seg.chunks)
	}
	if nChunks >= maxBM25Docs {
		return fmt.Errorf("%d chunks: the index holds at most %d", nChunks, maxBM25Docs-1)
	}
	ix.nSents = nSents
	ix.storyBase = make([]int, 0, len(ix.segs))
	firstSent := 0
	ix.chunks = make([]Chunk, 0, nChunks)
	firstChunk := make([]int, len(ix.segs))
	for si, seg := range ix.segs {
		ix.storyBase = append(ix.storyBase, firstSent)
		firstSent += len(seg.sents)
		firstChunk[si] = len(ix.chunks)
		for _, c := range seg.chunks {
			c.Story = si
			ix.chunks = append(ix.chunks, c)
		}
	}
	// A chunk's terms are its sentences' (chunks are runs of whole
	// sentences, and no term crosses a sentence's end).
	chunkTerms := func(d int, buf []uint32) []uint32 {
		c := ix.chunks[d]
		seg := ix.segs[c.Story]
		return seg.appendTerms(buf, c.First, c.Last+1)
	}
	plan := ix.reusePlan(base)
	if plan == nil {
		ix.lexical = newBM25(ix.dict, nChunks, chunkTerms, ix.opts.K1, ix.opts.B)
		ix.sentDF = &docFreq{dict: ix.dict, df: make([]uint32, len(ix.lexical.df)), docs: nSents}
		for _, seg := range ix.segs {
			ix.sentDF.add(seg, 1)
		}
	} else {
		ix.lexical = rebaseBM25(base.lexical, plan.keepChunk, nChunks, plan.freshChunks, chunkTerms)
		ix.sentDF = base.sentDF.rebase(len(ix.lexical.df), nSents, plan.gone, plan.fresh)
	}

	if ix.opts.Embedder == nil {
		return nil
	}
	ix.hasVecs, ix.hasEnc = true, ix.opts.Encoder != nil
	ix.holdsSentVec = holdsSentenceVectors(ix.opts.Embedder)
	chunkVector := func(d int) []float32 {
		c := ix.chunks[d]
		seg := ix.segs[c.Story]
		i := d - firstChunk[c.Story]
		if seg.chunkVec.scale[i] == 0 {
			return nil
		}
		return seg.chunkVec.vector(i)
	}
	var err error
	if plan == nil {
		vecs := make([][]float32, nChunks)
		for d := range vecs {
			vecs[d] = chunkVector(d)
		}
		ix.vectors, err = newVectorIndex(ctx, vecs)
	} else {
		ix.vectors, err = rebaseVectorIndex(ctx, base.vectors, plan.keepChunk, nChunks, plan.freshChunks, chunkVector)
	}
	return err
}

// reuse says which of a base snapshot's stories a new snapshot holds
// unchanged (the very same segment), for assemble.
type reuse struct {
	// keepChunk[d] is base chunk d's number in the new snapshot, -1 if
	// its story is gone or changed; freshChunks are, ascending, the new
	// snapshot's chunks of stories base does not hold.
	keepChunk   []int32
	freshChunks []int
	// gone are base's segments the new snapshot lacks; fresh the new
	// snapshot's that base lacks.
	gone, fresh []*segment
}

// reusePlan matches ix's segments with base's; nil when base cannot be
// built on (none, another term dictionary or BM25 parameters, other
// models) or shares too little to be worth it.
func (ix *Index) reusePlan(base *Index) *reuse {
	if base == nil || base.dict != ix.dict || base.lexical == nil ||
		base.opts.K1 != ix.opts.K1 || base.opts.B != ix.opts.B ||
		(base.vectors == nil) != (ix.opts.Embedder == nil) || base.opts.Cache != ix.opts.Cache {
		return nil
	}
	at := make(map[*segment]int, len(base.segs))
	for j, seg := range base.segs {
		at[seg] = j
	}
	baseFirst := make([]int, len(base.segs)+1)
	for j, seg := range base.segs {
		baseFirst[j+1] = baseFirst[j] + len(seg.chunks)
	}
	r := &reuse{keepChunk: make([]int32, len(base.chunks))}
	for d := range r.keepChunk {
		r.keepChunk[d] = -1
	}
	used := make([]bool, len(base.segs))
	last, kept := -1, 0
	d := 0
	for _, seg := range ix.segs {
		j, ok := at[seg]
		if !ok || j <= last {
			// Stories are sorted by ID in both, so the shared ones keep
			// their order; a segment out of order is treated as new.
			r.fresh = append(r.fresh, seg)
			for i := range seg.chunks {
				r.freshChunks = append(r.freshChunks, d+i)
			}
			d += len(seg.chunks)
			continue
		}
		last, used[j] = j, true
		for i := range seg.chunks {
			r.keepChunk[baseFirst[j]+i] = int32(d + i)
		}
		d += len(seg.chunks)
		kept += len(seg.chunks)
	}
	for j, seg := range base.segs {
		if !used[j] {
			r.gone = append(r.gone, seg)
		}
	}
	// Carrying over costs passes over all of base; below half of it
	// shared, building from the segments costs no more.
	if 2*kept < len(base.chunks) {
		return nil
	}
	return r
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
	// pool is the fused ranking before it was cut to k: with several
	// stories, the answer is read from the best of them in the story the
	// question points to.
	pool []scored
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
	res.pool = fused
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

// Vectors lists the vectors this snapshot uses (its chunks' and
// sentences'), one per model and text, so that a saved cache holds what the
// next start needs and not every text ever embedded.
func (ix *Index) Vectors() []CachedVector {
	if ix.opts.Embedder == nil {
		return nil
	}
	wordID := ix.opts.Embedder.ID()
	encID := ""
	if ix.hasEnc {
		encID = ix.opts.Encoder.ID()
	}
	seen := map[cacheKey]bool{}
	var out []CachedVector
	for si, seg := range ix.segs {
		out = seg.entries(ix.stories[si].Body, wordID, encID, seen, out)
	}
	return out
}

// Segments lists the snapshot's story segments' vectors, for a cache file
// a restart reads without running any model or hashing any sentence.
func (ix *Index) Segments() []SegmentVectors {
	if ix.opts.Embedder == nil {
		return nil
	}
	out := make([]SegmentVectors, len(ix.segs))
	for i, seg := range ix.segs {
		out[i] = seg.export()
	}
	return out
}

func (ix *Index) sentenceTexts() []string {
	texts := make([]string, ix.nSents)
	for g := range ix.nSents {
		texts[g] = ix.sentenceText(g)
	}
	return texts
}
