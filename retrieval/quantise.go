package retrieval

import (
	"math"
	"slices"
)

// qrows is a block of vectors stored as int8 with one float32 scale a row:
// row r is scale[r]·q[r·dims:(r+1)·dims]. A quarter of float32's memory; the
// cosine of a float32 question with a row is within about 0.003 of the
// float32 cosine (TestQuantisedCosine), far below what the picker's
// weights can tell apart. A zero row (no signal) has scale 0.
//
// A nibble block (nib) packs each row at 4 bits a value, two a byte (low
// nibble first), the largest magnitude at ±7: half int8's memory. The
// sentence encoder's 512-d rows are kept so: they were most of a
// snapshot's heap. On the eval sets one XQuAD question in 1,190 and one of
// the natural set's 150 test-half questions lost their answer sentence
// (README, "Memory, third pass").
type qrows struct {
	dims  int
	nib   bool
	q     []int8
	scale []float32
	bad   bool // while built: a row of other dimensions was put
}

// nibbleMax is a nibble row's largest magnitude.
const nibbleMax = 7

// stride is the bytes a row takes.
func (b *qrows) stride() int {
	if b.nib {
		return (b.dims + 1) / 2
	}
	return b.dims
}

// nibbles are the two values of a packed byte, low nibble first.
func nibbles(x int8) (lo, hi int8) { return int8(uint8(x)<<4) >> 4, x >> 4 }

// set quantises v into row r.
func (b *qrows) set(r int, v []float32) {
	if !b.nib {
		b.scale[r] = quantise(b.row(r), v)
		return
	}
	b.scale[r] = quantiseNibbles(b.row(r), v)
}

// quantiseNibbles packs v/scale rounded into dst (two values a byte) and
// returns the scale: the largest magnitude maps to ±7.
func quantiseNibbles(dst []int8, v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, abs32(x))
	}
	clear(dst)
	if m == 0 || math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
		return 0
	}
	// With 15 levels, mapping the largest value to ±7 leaves most values
	// on a few levels near zero; clipping the tail loses less. The scale
	// is the one of a few that keeps the most of v's direction (the
	// smallest squared error after the best rescaling, i.e. the largest
	// cosine with v).
	s, best := m/nibbleMax, -1.0
	for _, f := range [...]float32{1, 0.9, 0.8, 0.7, 0.6, 0.5} {
		try := m * f / nibbleMax
		var dot, nn float64
		for _, x := range v {
			l := float64(nibbleLevel(x, try))
			dot += float64(x) * l
			nn += l * l
		}
		if nn > 0 && dot/math.Sqrt(nn) > best {
			s, best = try, dot/math.Sqrt(nn)
		}
	}
	for i, x := range v {
		n := uint8(nibbleLevel(x, s)) & 0x0f
		if i%2 == 1 {
			n <<= 4
		}
		dst[i/2] |= int8(n)
	}
	return s
}

// nibbleLevel is x/s rounded and clipped to ±7.
func nibbleLevel(x, s float32) int8 {
	return int8(max(-nibbleMax, min(nibbleMax, math.Round(float64(x/s)))))
}

// values writes row r's levels, one int8 a value, into dst (len dims).
func (b *qrows) values(dst []int8, r int) {
	row := b.row(r)
	if !b.nib {
		copy(dst, row)
		return
	}
	for i := range dst {
		lo, hi := nibbles(row[i/2])
		if i%2 == 0 {
			dst[i] = lo
		} else {
			dst[i] = hi
		}
	}
}

// packNibbles turns int8 rows (as saved) into a nibble block: rows whose
// levels fit ±7 (saved from a nibble block) are packed as they are, others
// (saved as int8) are quantised again.
func packNibbles(dims int, values []int8, scale []float32) qrows {
	b := qrows{dims: dims, nib: true, scale: slices.Clone(scale)}
	b.q = make([]int8, b.stride()*len(scale))
	v := make([]float32, dims)
	for r := range scale {
		src := values[r*dims : (r+1)*dims]
		var m int8
		for _, x := range src {
			m = max(m, x, -x)
		}
		if m <= nibbleMax {
			dst := b.row(r)
			for i, x := range src {
				n := uint8(x) & 0x0f
				if i%2 == 1 {
					n <<= 4
				}
				dst[i/2] |= int8(n)
			}
			continue
		}
		for i, x := range src {
			v[i] = scale[r] * float32(x)
		}
		b.set(r, v)
	}
	return b
}

// len is the number of rows.
func (b *qrows) len() int { return len(b.scale) }

// quantiseRows stores vecs (nil or zero vectors stay zero rows). Vectors of
// another length than the first non-empty one are an error.
func quantiseRows(vecs [][]float32) (qrows, bool) {
	var b qrows
	for _, v := range vecs {
		if len(v) > 0 {
			b.dims = len(v)
			break
		}
	}
	b.q = make([]int8, len(vecs)*b.dims)
	b.scale = make([]float32, len(vecs))
	for r, v := range vecs {
		if len(v) == 0 {
			continue
		}
		if len(v) != b.dims {
			return qrows{}, false
		}
		b.scale[r] = quantise(b.q[r*b.dims:(r+1)*b.dims], v)
	}
	return b, true
}

// quantise writes v/scale rounded into dst and returns the scale: the
// largest magnitude maps to ±127.
func quantise(dst []int8, v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, abs32(x))
	}
	if m == 0 || math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
		clear(dst)
		return 0
	}
	s := m / 127
	for i, x := range v {
		dst[i] = int8(math.Round(float64(x / s)))
	}
	return s
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// row is row r's int8 values.
// For a nibble block they are packed.
func (b *qrows) row(r int) []int8 {
	n := b.stride()
	return b.q[r*n : (r+1)*n : (r+1)*n]
}

// vector is row r in float32, for the few places that need the values
// themselves (saving, the chunk scan).
func (b *qrows) vector(r int) []float32 {
	out := make([]float32, b.dims)
	s := b.scale[r]
	if b.nib {
		for i, x := range b.row(r) {
			lo, hi := nibbles(x)
			out[2*i] = s * float32(lo)
			if 2*i+1 < len(out) {
				out[2*i+1] = s * float32(hi)
			}
		}
		return out
	}
	for i, x := range b.row(r) {
		out[i] = s * float32(x)
	}
	return out
}

// addTo adds row r (scaled) to acc.
func (b *qrows) addTo(acc []float32, r int) {
	s := b.scale[r]
	if b.nib {
		for i, x := range b.row(r) {
			lo, hi := nibbles(x)
			acc[2*i] += s * float32(lo)
			if 2*i+1 < len(acc) {
				acc[2*i+1] += s * float32(hi)
			}
		}
		return
	}
	for i, x := range b.row(r)[:len(acc)] {
		acc[i] += s * float32(x)
	}
}

// cosine is the cosine of q and row r, 0 when either is zero. The scale
// cancels, so the dot product runs on the int8 values directly.
func (b *qrows) cosine(r int, q []float32) float64 {
	if len(q) != b.dims || b.scale[r] == 0 {
		return 0
	}
	if b.nib {
		return b.nibbleCosine(r, q)
	}
	row := b.row(r)
	var d0, d1, d2, d3, qq float32
	var nn int32
	i := 0
	for ; i+4 <= len(row); i += 4 {
		q4, r4 := q[i:i+4:i+4], row[i:i+4:i+4]
		x0, x1, x2, x3 := float32(r4[0]), float32(r4[1]), float32(r4[2]), float32(r4[3])
		d0 += q4[0] * x0
		d1 += q4[1] * x1
		d2 += q4[2] * x2
		d3 += q4[3] * x3
		qq += q4[0]*q4[0] + q4[1]*q4[1] + q4[2]*q4[2] + q4[3]*q4[3]
		nn += int32(r4[0])*int32(r4[0]) + int32(r4[1])*int32(r4[1]) + int32(r4[2])*int32(r4[2]) + int32(r4[3])*int32(r4[3])
	}
	for ; i < len(row); i++ {
		d0 += q[i] * float32(row[i])
		qq += q[i] * q[i]
		nn += int32(row[i]) * int32(row[i])
	}
	if qq == 0 || nn == 0 {
		return 0
	}
	return float64((d0+d1)+(d2+d3)) / math.Sqrt(float64(qq)*float64(nn))
}

// nibbleCosine is cosine for a nibble block.
func (b *qrows) nibbleCosine(r int, q []float32) float64 {
	var d0, d1, qq0, qq1 float32
	var nn int32
	for i, x := range b.row(r) {
		lo, hi := nibbles(x)
		a := q[2*i]
		d0 += a * float32(lo)
		qq0 += a * a
		nn += int32(lo)*int32(lo) + int32(hi)*int32(hi)
		if 2*i+1 < len(q) {
			c := q[2*i+1]
			d1 += c * float32(hi)
			qq1 += c * c
		}
	}
	qq := qq0 + qq1
	if qq == 0 || nn == 0 {
		return 0
	}
	return float64(d0+d1) / math.Sqrt(float64(qq)*float64(nn))
}
