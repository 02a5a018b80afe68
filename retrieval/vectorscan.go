package retrieval

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
)

// vectorScan answers the vector leg's queries from one contiguous block of
// the collection's vectors. chromem-go keeps each document behind a map,
// sends every one through its own top-k heap under a lock, and sums each dot
// product in one dependent chain; at 100k chunks that is ~40 ms a query.
// The scan reads the same vectors end to end, with a fast kernel that may
// round differently, then rescores the few rows that can still be in the
// top k with chromem's own arithmetic, so the ranking is chromem's exactly.
//
// rows holds the vectors normalised as chromem normalises them, and the
// collection's documents point into it: the vectors are held once (but see
// normalizeLikeChromem).
type vectorScan struct {
	dims int
	rows []float32 // len(docs)*dims
	docs []int32   // docs[r] is the document number of row r
}

// rowsPerShard keeps small indexes on the calling goroutine: below it a
// goroutine costs more than it saves. rowsPerCheck is how often a scan looks
// at its context (about 50 µs of work at 100 dimensions).
const (
	rowsPerShard = 16 << 10
	rowsPerCheck = 4 << 10
)

// chromemNormalize is chromem-go's normalizeVector (v0.7.0), operation for
// operation: the scan must hold the very floats chromem would.
func chromemNormalize(dst, v []float32) {
	var norm float32
	for _, x := range v {
		norm += x * x
	}
	norm = float32(math.Sqrt(float64(norm)))
	for i, x := range v {
		dst[i] = x / norm
	}
}

// chromemIsNormalized is chromem-go's isNormalized: vectors it accepts are
// stored as given, the others are copied and normalised.
func chromemIsNormalized(v []float32) bool {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	return math.Abs(math.Sqrt(sq)-1) < 1e-6
}

// chromemDot is chromem-go's dotProduct: one float32 sum, in order. It gives
// the scores the leg reports.
func chromemDot(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// normalizeLikeChromem writes into dst the vector chromem stores for v.
// Handed dst, chromem keeps it as it is, unless dst is a result chromem
// itself would not take as normalised (in float32 at high dimensions: 4 in
// 5,000 random vectors at 1,536 dimensions, none at 768): then chromem
// normalises it again into a copy of its own, which only chromem's own query
// reads. The scan keeps chromem's first result, the vector chromem-go stored
// before the scan.
func normalizeLikeChromem(dst, v []float32) {
	if chromemIsNormalized(v) {
		copy(dst, v)
		return
	}
	chromemNormalize(dst, v)
}

// dotFast is a dot product in four independent sums, which the CPU runs
// side by side (four, not eight: eight sums and their products spill out of
// amd64's 16 float registers). It differs from chromemDot by rounding only
// (see scanMargin).
func dotFast(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		a8, b8 := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += a8[0] * b8[0]
		s1 += a8[1] * b8[1]
		s2 += a8[2] * b8[2]
		s3 += a8[3] * b8[3]
		s0 += a8[4] * b8[4]
		s1 += a8[5] * b8[5]
		s2 += a8[6] * b8[6]
		s3 += a8[7] * b8[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// scanMargin bounds |dotFast − chromemDot| for unit vectors of d dimensions.
// Each differs from the exact dot by at most γ(d+2)·Σ|aᵢbᵢ| (Higham, Accuracy
// and Stability of Numerical Algorithms, §3.1), with γ(n) = nu/(1−nu), u the
// float32 unit roundoff, and Σ|aᵢbᵢ| ≤ |a||b| ≤ 1.001 for vectors normalised
// in float32 (their norms are within d·u of 1).
func scanMargin(d int) float64 {
	u := math.Ldexp(1, -24)
	n := float64(d + 2)
	return 2 * (n * u / (1 - n*u)) * 1.001
}

// bound is one row's score bracket from the fast kernel: chromemDot's score
// lies in [lo, hi].
type bound struct {
	lo, hi float64
	row    int32
}

// shardResult is one goroutine's share: the k best lower bounds it saw and
// every row whose upper bound reached its k-th lower bound at the time.
type shardResult struct {
	best  []float64 // min-heap of lower bounds, at most k
	cands []bound
}

// search returns the k rows most similar to q (normalised as chromem would),
// best first, with chromem's scores; ties go to the lower document number.
func (s *vectorScan) search(ctx context.Context, q []float32, k int) ([]scored, error) {
	n := len(s.docs)
	k = min(k, n)
	if k <= 0 {
		return nil, nil
	}
	shards := min(runtime.GOMAXPROCS(0), (n+rowsPerShard-1)/rowsPerShard)
	results := make([]shardResult, shards)
	errs := make([]error, shards)
	margin := scanMargin(s.dims)
	if shards == 1 {
		results[0], errs[0] = s.scanRows(ctx, q, 0, n, k, margin)
	} else {
		var wg sync.WaitGroup
		per := (n + shards - 1) / shards
		for i := range shards {
			wg.Go(func() {
				results[i], errs[i] = s.scanRows(ctx, q, i*per, min(n, (i+1)*per), k, margin)
			})
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	// The k-th best lower bound over all rows: no row whose upper bound
	// falls short of it can be in the top k.
	var lows []float64
	for _, r := range results {
		lows = append(lows, r.best...)
	}
	slices.SortFunc(lows, func(a, b float64) int { return cmp.Compare(b, a) })
	floor := lows[k-1]

	var out []scored
	for _, r := range results {
		for _, c := range r.cands {
			if c.hi < floor {
				continue
			}
			row := s.rows[int(c.row)*s.dims : (int(c.row)+1)*s.dims]
			out = append(out, scored{int(s.docs[c.row]), float64(chromemDot(q, row))})
		}
	}
	slices.SortFunc(out, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.doc, b.doc)
	})
	return out[:k], nil
}

// scanRows scans rows [from, to) with the fast kernel.
func (s *vectorScan) scanRows(ctx context.Context, q []float32, from, to, k int, margin float64) (shardResult, error) {
	d := s.dims
	res := shardResult{best: make([]float64, 0, k)}
	threshold := math.Inf(-1) // the k-th best lower bound so far, once there are k
	for start := from; start < to; start += rowsPerCheck {
		if err := ctx.Err(); err != nil {
			return shardResult{}, err
		}
		end := min(to, start+rowsPerCheck)
		rows := s.rows[start*d : end*d]
		for r := start; r < end; r++ {
			f := float64(dotFast(q, rows[:d:d]))
			rows = rows[d:]
			if f+margin < threshold {
				continue
			}
			res.cands = append(res.cands, bound{f - margin, f + margin, int32(r)})
			if len(res.best) < k {
				heapPush(&res.best, f-margin)
				if len(res.best) == k {
					threshold = res.best[0]
				}
			} else if f-margin > threshold {
				res.best[0] = f - margin
				heapFix(res.best)
				threshold = res.best[0]
			}
		}
		// Rows admitted while the threshold was lower may have fallen out.
		if len(res.cands) > 4*k+1024 {
			res.cands = slices.DeleteFunc(res.cands, func(b bound) bool { return b.hi < threshold })
		}
	}
	return res, nil
}

// heapPush adds x to the min-heap h.
func heapPush(h *[]float64, x float64) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

// heapFix restores the min-heap h after h[0] grew.
func heapFix(h []float64) {
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r] < h[l] {
			m = r
		}
		if h[i] <= h[m] {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
