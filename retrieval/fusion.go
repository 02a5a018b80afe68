package retrieval

import "sort"

// Fusion says how the lexical and vector rankings are combined.
type Fusion string

const (
	// FusionRRF is reciprocal rank fusion: each list adds 1/(k + rank). It
	// needs no score calibration, but treats a weak leg's ranks as equal
	// evidence.
	FusionRRF Fusion = "rrf"
	// FusionWeighted min-max-normalises each list's scores and adds them
	// with weights, so a confident leg counts for more than a flat one.
	FusionWeighted Fusion = "weighted"
	// FusionLexical and FusionVector rank by one leg alone. They exist to
	// measure each leg; the vector leg alone misses names and numbers.
	FusionLexical Fusion = "lexical"
	FusionVector  Fusion = "vector"
)

// rrfK is the constant of reciprocal rank fusion (Cormack et al., 2009).
const rrfK = 60

// fuseRRF combines rankings by reciprocal rank. A document absent from a list
// gets nothing from it.
func fuseRRF(lists ...[]scored) []scored {
	sum := map[int]float64{}
	for _, l := range lists {
		for rank, s := range l {
			sum[s.doc] += 1 / float64(rrfK+rank+1)
		}
	}
	return sortScores(sum)
}

// fuseWeighted combines rankings by weighted, min-max-normalised score. A
// document absent from a list gets that list's floor (0).
func fuseWeighted(weights []float64, lists ...[]scored) []scored {
	sum := map[int]float64{}
	for i, l := range lists {
		if len(l) == 0 {
			continue
		}
		lo, hi := l[len(l)-1].score, l[0].score
		for _, s := range l {
			norm := 1.0
			if hi > lo {
				norm = (s.score - lo) / (hi - lo)
			}
			sum[s.doc] += weights[i] * norm
		}
	}
	return sortScores(sum)
}

func sortScores(m map[int]float64) []scored {
	out := make([]scored, 0, len(m))
	for d, s := range m {
		out = append(out, scored{d, s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].doc < out[j].doc
	})
	return out
}
