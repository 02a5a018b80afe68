package retrieval

import (
	"encoding/binary"
	"slices"
	"sync"
)

// termDict gives every index term one uint32 ID, so the sentences' term
// lists, the chunk BM25 and the sentence IDF share one copy of each term.
// It is shared by every snapshot built from one EmbeddingCache (story
// segments are reused across snapshots, and their term IDs with them), and
// only grows: an ID, once given, names the same term for the dict's life.
// The terms of changed and removed stories stay in it, so once they
// outnumber the live ones a reload replaces the dict (compactTerms).
type termDict struct {
	mu    sync.RWMutex
	ids   map[string]uint32
	terms []string
}

func newTermDict() *termDict { return &termDict{ids: make(map[string]uint32)} }

// intern returns the IDs of terms, adding the new ones.
func (d *termDict) intern(terms []string, dst []uint32) []uint32 {
	start := len(dst)
	d.mu.RLock()
	missing := false
	for _, t := range terms {
		id, ok := d.ids[t]
		if !ok {
			missing = true
			break
		}
		dst = append(dst, id)
	}
	d.mu.RUnlock()
	if !missing {
		return dst
	}
	dst = dst[:start]
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range terms {
		id, ok := d.ids[t]
		if !ok {
			id = uint32(len(d.terms))
			// The dict keeps its own copy: t may point into a long text.
			t = string([]byte(t))
			d.terms = append(d.terms, t)
			d.ids[t] = id
		}
		dst = append(dst, id)
	}
	return dst
}

// lookup is the term's ID; ok is false for a term no story had.
func (d *termDict) lookup(t string) (uint32, bool) {
	d.mu.RLock()
	id, ok := d.ids[t]
	d.mu.RUnlock()
	return id, ok
}

// strings turns IDs back into terms, appended to dst.
func (d *termDict) strings(ids []uint32, dst []string) []string {
	d.mu.RLock()
	for _, id := range ids {
		dst = append(dst, d.terms[id])
	}
	d.mu.RUnlock()
	return dst
}

// size is the number of terms.
func (d *termDict) size() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.terms)
}

// each calls f for the first n terms, under the read lock: f must not call
// back into the dict.
func (d *termDict) each(n int, f func(id uint32, t string)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for id, t := range d.terms[:min(n, len(d.terms))] {
		f(uint32(id), t)
	}
}

// liveTerms counts the terms ix's chunks hold: the rest of the dict is the
// vocabulary of stories changed or removed since it was made.
func (ix *Index) liveTerms() int {
	n := 0
	for t := 0; t+1 < len(ix.lexical.start); t++ {
		if ix.lexical.start[t+1] > ix.lexical.start[t] {
			n++
		}
	}
	return n
}

// minDeadTerms keeps a small archive from compacting over a few words.
const minDeadTerms = 4096

// termsMostlyDead reports whether the dict ix was built with is mostly
// terms no story of ix holds.
func (ix *Index) termsMostlyDead() bool {
	dead := ix.dict.size() - ix.liveTerms()
	return dead >= minDeadTerms && dead > ix.liveTerms()
}

// remapTerms gives seg's terms IDs in to, from: a copy of seg sharing
// everything else.
func remapTerms(seg *segment, from, to *termDict, ids []uint32) *segment {
	out := *seg
	out.terms = make([]byte, 0, len(seg.terms))
	out.termOff = make([]uint32, 1, len(seg.termOff))
	from.mu.RLock()
	defer from.mu.RUnlock()
	var buf []uint32
	for i := range len(seg.termOff) - 1 {
		buf = seg.appendTerms(buf[:0], i, i+1)
		for _, id := range buf {
			if ids[id] == ^uint32(0) {
				ids[id] = to.intern([]string{from.terms[id]}, nil)[0]
			}
			out.terms = binary.AppendUvarint(out.terms, uint64(ids[id]))
		}
		out.termOff = append(out.termOff, uint32(len(out.terms)))
	}
	out.terms = slices.Clone(out.terms)
	return &out
}
