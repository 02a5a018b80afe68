package wordvec

import "math"

// SIF: "A Simple but Tough-to-Beat Baseline for Sentence Embeddings"
// (Arora, Liang, Ma, ICLR 2017). A sentence is the weighted sum of its
// words' vectors, weight a/(a+p(w)), so frequent words ("the", "said")
// barely count, minus its projection on the common components, which carry
// what every sentence shares (frequency, syntax) rather than its topic.

// sifWeight is a/(a+p(w)) with p estimated by Zipf's law from the word's
// 1-based frequency rank: p(rank) = 1/(rank·H), H the harmonic number of the
// source vocabulary's size. GloVe ships ranks, not counts.
func sifWeight(a, zipfH float64, rank int32) float64 {
	p := 1 / (float64(rank) * zipfH)
	return a / (a + p)
}

// embed writes the SIF vector of the words ids into dst (len t.dims),
// L2-normalised, or all zeros when ids is empty or the vector vanishes.
func (t *table) embed(dst []float32, ids []int32) {
	clear(dst)
	for _, id := range ids {
		w := t.weight[id]
		row := t.row(id)
		row = row[:len(dst)]
		for j, q := range row {
			dst[j] += w * float32(int8(q))
		}
	}
	var before float64
	for _, x := range dst {
		before += float64(x) * float64(x)
	}
	if before == 0 {
		return
	}
	for c := 0; c < t.ncomp; c++ {
		u := t.comps[c*t.dims : (c+1)*t.dims]
		u = u[:len(dst)]
		var dot float32
		for j, x := range dst {
			dot += x * u[j]
		}
		for j := range dst {
			dst[j] -= dot * u[j]
		}
	}
	var ss float64
	for _, x := range dst {
		ss += float64(x) * float64(x)
	}
	// What survives removing the components is rounding noise when it is
	// this small (say, one word lying on them): report no signal.
	if ss < 1e-8*before {
		clear(dst)
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for j := range dst {
		dst[j] *= inv
	}
}
