package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"storybot/knowledge"
)

// segment is one story's share of a snapshot: its sentences and chunks,
// their term IDs and their vectors. It depends only on the story's ID and
// body, the chunking and the models, which its key hashes, so it is built
// once and reused, unchanged and shared, by every later snapshot (a reload,
// a build over the same cache) while that key stays the same. Immutable
// once built.
type segment struct {
	key segmentKey
	// sents and chunks are the story's; chunks' Story is 0. Both are nil
	// in a segment read from disk, which holds vectors only (see
	// withStructure).
	sents  []sentSpan
	chunks []Chunk
	// Sentence i's term IDs are terms[termOff[i]:termOff[i+1]], each a
	// uvarint: the dictionary numbers terms as they first come, so the
	// common ones take a byte or two, not four (appendTerms reads them).
	termOff []uint32
	terms   []byte
	// Vectors, a row per chunk (chunkVec) or sentence: the Embedder's for
	// chunks and sentences, the Encoder's for sentences. Empty without the
	// model.
	chunkVec, sentVec, sentEnc qrows
}

// sentSpan is a Sentence as a segment keeps it, in half the bytes: there
// is one a sentence of the archive.
type sentSpan struct{ start, end, para, num uint32 }

func (s sentSpan) sentence() Sentence {
	return Sentence{Span: Span{int(s.start), int(s.end)}, Paragraph: int(s.para), Number: int(s.num)}
}

// segmentKey identifies a segment's content.
type segmentKey [sha256.Size]byte

// SegmentVectors is a segment's vectors without its structure, for
// persistence: what a restart needs to skip every model, keyed by what the
// vectors depend on.
type SegmentVectors struct {
	Key [sha256.Size]byte
	// Rows, one block a kind: the chunks' vectors and the sentences' from
	// the Embedder, the sentences' from the Encoder.
	Chunk, Sentence, Encoder QuantisedRows
}

// QuantisedRows are int8 vectors with a scale a row: row r is
// Scale[r]·Values[r·Dims:(r+1)·Dims].
type QuantisedRows struct {
	Dims   int
	Values []int8
	Scale  []float32
}

// export is the block as saved: int8 a value. A nibble block's levels
// (within ±7) are unpacked into a new slice, so the file format is the same
// for both and packNibbles reads either back.
func (q qrows) export() QuantisedRows {
	if !q.nib {
		return QuantisedRows{q.dims, q.q, q.scale}
	}
	vals := make([]int8, q.dims*q.len())
	for r := range q.len() {
		q.values(vals[r*q.dims:(r+1)*q.dims], r)
	}
	return QuantisedRows{q.dims, vals, q.scale}
}

// valid reports whether the block's lengths agree.
func (r QuantisedRows) valid() bool {
	return r.Dims >= 0 && len(r.Values) == r.Dims*len(r.Scale)
}

// storyKey names a story under one configuration: the segment the cache
// last built for it is where a changed version finds its unchanged text.
func storyKey(s *knowledge.Story, opts Options) string {
	c := opts.Chunking
	k := fmt.Sprintf("%s\x00%d/%d/%d", s.ID, c.MinWords, c.MaxWords, c.Overlap)
	if opts.Embedder != nil {
		k += "\x00" + opts.Embedder.ID()
		if opts.Encoder != nil {
			k += "\x00" + opts.Encoder.ID()
		}
	}
	return k
}

// keyInputs is what keyFor takes from the options.
func keyInputs(opts Options) string { return storyKey(&knowledge.Story{}, opts) }

// keyFor hashes what a story's segment depends on.
func keyFor(s *knowledge.Story, opts Options) segmentKey {
	h := sha256.New()
	h.Write([]byte("segment 1\x00"))
	writeString := func(v string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		h.Write([]byte(v))
	}
	writeString(s.ID)
	writeString(s.Body)
	c := opts.Chunking
	writeString(fmt.Sprintf("%d/%d/%d", c.MinWords, c.MaxWords, c.Overlap))
	if opts.Embedder != nil {
		writeString(opts.Embedder.ID())
		if opts.Encoder != nil {
			writeString(opts.Encoder.ID())
		}
	}
	var k segmentKey
	h.Sum(k[:0])
	return k
}

// structure splits, chunks and tokenises story s: a segment without
// vectors.
func structure(s *knowledge.Story, key segmentKey, opts Options, dict *termDict) (*segment, error) {
	sents := SplitStory(s.Body)
	if len(sents) == 0 {
		return nil, fmt.Errorf("story %s has no sentences", s.ID)
	}
	if len(s.Body) > math.MaxUint32 {
		return nil, fmt.Errorf("story %s: %d bytes, a story holds at most %d", s.ID, len(s.Body), uint32(math.MaxUint32))
	}
	seg := &segment{key: key, sents: make([]sentSpan, len(sents)), termOff: make([]uint32, 1, len(sents)+1)}
	var ids []uint32
	for i, st := range sents {
		seg.sents[i] = sentSpan{uint32(st.Start), uint32(st.End), uint32(st.Paragraph), uint32(st.Number)}
		ids = dict.intern(Terms(s.Body[st.Start:st.End]), ids[:0])
		for _, id := range ids {
			seg.terms = binary.AppendUvarint(seg.terms, uint64(id))
		}
		seg.termOff = append(seg.termOff, uint32(len(seg.terms)))
	}
	seg.chunks = ChunkSentences(s.ID, s.Body, sents, opts.Chunking)
	// Segments live as long as their story: no slack from appending.
	seg.chunks, seg.terms = slices.Clone(seg.chunks), slices.Clone(seg.terms)
	return seg, nil
}

// hasVectors reports whether seg holds every vector opts asks for.
func (seg *segment) hasVectors(opts Options) bool {
	if opts.Embedder == nil {
		return true
	}
	if seg.chunkVec.len() != len(seg.chunks) {
		return false
	}
	if holdsSentenceVectors(opts.Embedder) && seg.sentVec.len() != len(seg.sents) {
		return false
	}
	return opts.Encoder == nil || seg.sentEnc.len() == len(seg.sents)
}

// texts are the story's chunk and sentence texts.
func (seg *segment) texts(body string) (chunks, sents []string) {
	for _, c := range seg.chunks {
		chunks = append(chunks, body[c.Start:c.End])
	}
	for _, s := range seg.sents {
		sents = append(sents, body[s.start:s.end])
	}
	return chunks, sents
}

// vecSource is where one text's vector may come from before a model runs:
// a row of an old segment.
type vecSource struct {
	rows *qrows
	row  int
}

// pending is a story whose segment lacks vectors, and the texts to find
// them for.
type pending struct {
	seg        *segment
	chunkTexts []string
	sentTexts  []string
	old        map[string]vecSource // the Embedder's rows of the story's previous segment, by text
	oldEnc     map[string]vecSource // the Encoder's
}

// oldRows indexes the rows of the story's previous segment (built from
// body), so a changed story embeds only its changed text.
func oldRows(seg *segment, body string) (words, enc map[string]vecSource) {
	words, enc = map[string]vecSource{}, map[string]vecSource{}
	chunks, sents := seg.texts(body)
	if seg.chunkVec.len() == len(chunks) {
		for i, t := range chunks {
			words[t] = vecSource{&seg.chunkVec, i}
		}
	}
	if seg.sentVec.len() == len(sents) {
		for i, t := range sents {
			words[t] = vecSource{&seg.sentVec, i}
		}
	}
	if seg.sentEnc.len() == len(sents) {
		for i, t := range sents {
			enc[t] = vecSource{&seg.sentEnc, i}
		}
	}
	return words, enc
}

// embedPending fills the vectors of every pending segment: from the story's
// previous segment, else the cache's per-text vectors, else one call per
// model for all the texts left. It returns how many chunks were embedded.
func embedPending(ctx context.Context, work []*pending, opts Options) (int, error) {
	type slot struct {
		p    *pending
		kind int // 0 chunk, 1 sentence (Embedder), 2 sentence (Encoder)
		i    int
	}
	type need struct {
		text  string
		slots []slot
	}
	fill := func(e Embedder, wanted map[string]*need, order []string) error {
		if len(order) == 0 {
			return nil
		}
		got, err := e.Embed(ctx, order)
		if err != nil {
			return fmt.Errorf("embed with %s: %w", e.ID(), err)
		}
		if len(got) != len(order) {
			return fmt.Errorf("embed with %s: got %d vectors for %d texts", e.ID(), len(got), len(order))
		}
		for j, t := range order {
			if !isFinite(got[j]) {
				return fmt.Errorf("embed with %s: vector %d holds NaN or Inf", e.ID(), j)
			}
			for _, s := range wanted[t].slots {
				s.p.put(s.kind, s.i, got[j])
			}
		}
		return nil
	}

	words, enc := map[string]*need{}, map[string]*need{}
	var wordOrder, encOrder []string
	ask := func(m map[string]*need, order *[]string, t string, s slot) {
		n, ok := m[t]
		if !ok {
			n = &need{text: t}
			m[t] = n
			*order = append(*order, t)
		}
		n.slots = append(n.slots, s)
	}
	embedded := 0
	wordID := opts.Embedder.ID()
	encID := ""
	if opts.Encoder != nil {
		encID = opts.Encoder.ID()
	}
	holds := holdsSentenceVectors(opts.Embedder)
	for _, p := range work {
		p.alloc(opts)
		for i, t := range p.chunkTexts {
			if src, ok := p.old[t]; ok {
				p.copyRow(0, i, src)
			} else if v, ok := opts.Cache.get(wordID, t); ok {
				p.put(0, i, v)
			} else {
				ask(words, &wordOrder, t, slot{p, 0, i})
				embedded++
			}
		}
		for i, t := range p.sentTexts {
			if !holds {
				// embedded when a question reads it
			} else if src, ok := p.old[t]; ok {
				p.copyRow(1, i, src)
			} else if v, ok := opts.Cache.get(wordID, t); ok {
				p.put(1, i, v)
			} else {
				ask(words, &wordOrder, t, slot{p, 1, i})
			}
			if opts.Encoder == nil {
				continue
			}
			if src, ok := p.oldEnc[t]; ok {
				p.copyRow(2, i, src)
			} else if v, ok := opts.Cache.get(encID, t); ok {
				p.put(2, i, v)
			} else {
				ask(enc, &encOrder, t, slot{p, 2, i})
			}
		}
	}
	opts.Cache.count(len(wordOrder)+len(encOrder), embedded)
	if err := fill(opts.Embedder, words, wordOrder); err != nil {
		return 0, err
	}
	if opts.Encoder != nil {
		if err := fill(opts.Encoder, enc, encOrder); err != nil {
			return 0, err
		}
	}
	for _, p := range work {
		if err := p.seg.checkDims(); err != nil {
			return 0, err
		}
	}
	return embedded, nil
}

// alloc makes the segment's vector blocks; their dimensions are set by the
// first row put.
func (p *pending) alloc(opts Options) {
	p.seg.chunkVec = qrows{scale: make([]float32, len(p.chunkTexts))}
	if holdsSentenceVectors(opts.Embedder) {
		p.seg.sentVec = qrows{scale: make([]float32, len(p.sentTexts))}
	}
	if opts.Encoder != nil {
		p.seg.sentEnc = qrows{nib: true, scale: make([]float32, len(p.sentTexts))}
	}
}

func (p *pending) block(kind int) *qrows {
	switch kind {
	case 0:
		return &p.seg.chunkVec
	case 1:
		return &p.seg.sentVec
	}
	return &p.seg.sentEnc
}

// put quantises v into row i of the kind's block.
func (p *pending) put(kind, i int, v []float32) {
	b := p.block(kind)
	if !b.setDims(len(v)) {
		b.bad = true
		return
	}
	if len(v) > 0 {
		b.set(i, v)
	}
}

// copyRow copies an old segment's row as it is.
func (p *pending) copyRow(kind, i int, src vecSource) {
	b := p.block(kind)
	if !b.setDims(src.rows.dims) {
		b.bad = true
		return
	}
	switch {
	case b.dims == 0:
	case b.nib != src.rows.nib:
		b.set(i, src.rows.vector(src.row))
		return
	default:
		copy(b.row(i), src.rows.row(src.row))
	}
	b.scale[i] = src.rows.scale[src.row]
}

// setDims sizes the block for d dimensions on its first non-empty row, and
// reports whether d fits the block.
func (b *qrows) setDims(d int) bool {
	switch {
	case d == 0 || d == b.dims:
		return true
	case b.dims == 0 && b.q == nil:
		b.dims = d
		b.q = make([]int8, b.stride()*len(b.scale))
		return true
	}
	return false
}

func (seg *segment) checkDims() error {
	for _, b := range []*qrows{&seg.chunkVec, &seg.sentVec, &seg.sentEnc} {
		if b.bad {
			return fmt.Errorf("vectors of different dimensions from one model")
		}
	}
	return nil
}

func (seg *segment) export() SegmentVectors {
	return SegmentVectors{Key: seg.key, Chunk: seg.chunkVec.export(), Sentence: seg.sentVec.export(), Encoder: seg.sentEnc.export()}
}

// The snapshot's sentences through their segments. The answerer reads
// sentences' terms and vectors only through these, so the layout can change
// without touching it.

// locate is the segment holding sentence g and g's row in it.
func (ix *Index) locate(g int) (*segment, int) {
	s := ix.storyOf(g)
	return ix.segs[s], g - ix.storyBase[s]
}

// appendTerms appends the term IDs of the segment's sentences [i, j), in
// text order, to buf.
func (seg *segment) appendTerms(buf []uint32, i, j int) []uint32 {
	b := seg.terms[seg.termOff[i]:seg.termOff[j]]
	for k := 0; k < len(b); {
		var v uint32
		v, k = termAt(b, k)
		buf = append(buf, v)
	}
	return buf
}

// termAt decodes the uvarint term ID at b[k:] and returns it with the
// offset after it; binary.Uvarint's 64-bit general case costs more here.
func termAt(b []byte, k int) (uint32, int) {
	var v uint32
	for shift := uint(0); ; shift += 7 {
		c := b[k]
		k++
		v |= uint32(c&0x7f) << shift
		if c < 0x80 {
			return v, k
		}
	}
}

// sentenceTermIDs appends sentence g's terms as IDs, in text order, to buf.
func (ix *Index) sentenceTermIDs(buf []uint32, g int) []uint32 {
	seg, i := ix.locate(g)
	return seg.appendTerms(buf, i, i+1)
}

// sentenceTerms are sentence g's terms (stems, stop words dropped), in text
// order.
func (ix *Index) sentenceTerms(g int) []string {
	var buf [64]uint32
	ids := ix.sentenceTermIDs(buf[:0], g)
	return ix.dict.strings(ids, make([]string, 0, len(ids)))
}

// sentenceIDF is a term's IDF over the snapshot's sentences; a term no
// sentence holds has the largest.
func (ix *Index) sentenceIDF(term string) float64 { return ix.sentDF.idf(term) }

// sentencesWith counts the sentences holding term.
func (ix *Index) sentencesWith(term string) int { return ix.sentDF.count(term) }

// firstSentenceWith is the first sentence in [lo, hi) holding term, or -1.
func (ix *Index) firstSentenceWith(term string, lo, hi int) int {
	id, ok := ix.dict.lookup(term)
	if !ok || ix.sentDF.count(term) == 0 {
		return -1
	}
	if lo >= hi {
		return -1
	}
	for st := ix.storyOf(lo); st < len(ix.segs) && ix.storyBase[st] < hi; st++ {
		seg, base := ix.segs[st], ix.storyBase[st]
		if i := seg.firstWith(id, max(lo-base, 0), min(hi-base, len(seg.sents))); i >= 0 {
			return base + i
		}
	}
	return -1
}

// firstWith is the first of the segment's sentences [i, j) holding term
// id, or -1: one pass over their varints, story by story rather than a
// look-up a sentence.
func (seg *segment) firstWith(id uint32, i, j int) int {
	b := seg.terms[:seg.termOff[j]]
	for k := int(seg.termOff[i]); k < len(b); {
		at := k
		var v uint32
		v, k = termAt(b, k)
		if v == id {
			// The sentence whose terms hold byte at.
			n, _ := slices.BinarySearch(seg.termOff[i:j+1], uint32(at)+1)
			return i + n - 1
		}
	}
	return -1
}

// sentencesWithIn counts the sentences in [lo, hi) holding term.
func (ix *Index) sentencesWithIn(term string, lo, hi int) int {
	id, ok := ix.dict.lookup(term)
	if !ok || ix.sentDF.count(term) == 0 {
		return 0
	}
	n := 0
	var buf [64]uint32
	for g := lo; g < hi; g++ {
		if slices.Contains(ix.sentenceTermIDs(buf[:0], g), id) {
			n++
		}
	}
	return n
}

// hasEncoder reports whether the sentences have the Encoder's vectors.
func (ix *Index) hasEncoder() bool { return ix.hasEnc }

// sentenceCosines are the cosines of q (from the Embedder) and sentences
// gs's vectors; 0 where either is missing or zero. An in-process Embedder's
// sentence vectors are not held (see inProcess): they are embedded here,
// the few a question reads, in one call.
func (ix *Index) sentenceCosines(ctx context.Context, gs []int, q []float32) []float64 {
	out := make([]float64, len(gs))
	if q == nil || !ix.hasVecs {
		return out
	}
	if !ix.holdsSentVec {
		vecs, err := ix.embedSentences(ctx, gs)
		if err != nil {
			return out // as without vectors: the question is read on its terms
		}
		for j, v := range vecs {
			out[j] = cosine(q, v)
		}
		return out
	}
	for j, g := range gs {
		seg, i := ix.locate(g)
		out[j] = seg.sentVec.cosine(i, q)
	}
	return out
}

// embedSentences are the Embedder's vectors of sentences gs, embedded now.
func (ix *Index) embedSentences(ctx context.Context, gs []int) ([][]float32, error) {
	texts := make([]string, len(gs))
	for j, g := range gs {
		texts[j] = ix.sentenceText(g)
	}
	vecs, err := ix.opts.Embedder.Embed(ctx, texts)
	if err == nil && len(vecs) != len(texts) {
		err = fmt.Errorf("embed with %s: got %d vectors for %d texts", ix.opts.Embedder.ID(), len(vecs), len(texts))
	}
	return vecs, err
}

// encoderCosine is the cosine of q (from the Encoder) and sentence g's
// encoder vector; 0 when either is missing or zero.
func (ix *Index) encoderCosine(g int, q []float32) float64 {
	if q == nil || !ix.hasEnc {
		return 0
	}
	seg, i := ix.locate(g)
	return seg.sentEnc.cosine(i, q)
}

// centralVectors are the vectors of sentences [lo, hi) (one story's) an
// overview measures centrality with: the Encoder's when there are some,
// else the Embedder's; nil without either. rows(g) is sentence g's block
// and row.
func (ix *Index) centralVectors(ctx context.Context, lo, hi int) func(g int) (*qrows, int) {
	if !ix.hasVecs {
		return nil
	}
	if !ix.hasEnc && !ix.holdsSentVec {
		gs := make([]int, 0, hi-lo)
		for g := lo; g < hi; g++ {
			gs = append(gs, g)
		}
		vecs, err := ix.embedSentences(ctx, gs)
		if err != nil {
			return nil
		}
		rows, ok := quantiseRows(vecs)
		if !ok {
			return nil
		}
		return func(g int) (*qrows, int) { return &rows, g - lo }
	}
	return func(g int) (*qrows, int) {
		seg, i := ix.locate(g)
		if ix.hasEnc {
			return &seg.sentEnc, i
		}
		return &seg.sentVec, i
	}
}

// entries appends seg's vectors as per-text entries (float32), skipping
// (model, text) pairs already seen: words is the Embedder's ID, enc the
// Encoder's ("" without).
func (seg *segment) entries(body, words, enc string, seen map[cacheKey]bool, out []CachedVector) []CachedVector {
	add := func(id, text string, rows *qrows, r int) {
		if rows.len() <= r {
			return
		}
		k := cacheKey{id, sha256.Sum256([]byte(text))}
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, CachedVector{Embedder: id, TextHash: k.text, Vector: rows.vector(r)})
	}
	chunks, sents := seg.texts(body)
	for i, t := range chunks {
		add(words, t, &seg.chunkVec, i)
	}
	for i, t := range sents {
		add(words, t, &seg.sentVec, i)
		if enc != "" {
			add(enc, t, &seg.sentEnc, i)
		}
	}
	return out
}

// storyOf is the story of global sentence g: a search of the stories'
// bases, not a table, which would be a number a sentence of the archive.
func (ix *Index) storyOf(g int) int {
	s, found := slices.BinarySearch(ix.storyBase, g)
	if !found {
		s--
	}
	// Every story has a sentence, so bases are distinct.
	return s
}

// paragraphOf is global sentence g's 1-based paragraph in its story.
func (ix *Index) paragraphOf(g int) int {
	seg, i := ix.locate(g)
	return int(seg.sents[i].para)
}

// sentence is global sentence g as its segment holds it.
func (ix *Index) sentence(g int) Sentence {
	seg, i := ix.locate(g)
	return seg.sents[i].sentence()
}
