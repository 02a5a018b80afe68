package retrieval

import "math"

// qrows is a block of vectors stored as int8 with one float32 scale a row:
// row r is scale[r]·q[r·dims:(r+1)·dims]. A quarter of float32's memory; the
// cosine of a float32 question with a row is within about 0.003 of the
// float32 cosine (TestQuantisedCosine), far below what the picker's
// weights can tell apart. A zero row (no signal) has scale 0.
type qrows struct {
	dims  int
	q     []int8
	scale []float32
	bad   bool // while built: a row of other dimensions was put
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
func (b *qrows) row(r int) []int8 { return b.q[r*b.dims : (r+1)*b.dims : (r+1)*b.dims] }

// vector is row r in float32, for the few places that need the values
// themselves (saving, the chunk scan).
func (b *qrows) vector(r int) []float32 {
	out := make([]float32, b.dims)
	s := b.scale[r]
	for i, x := range b.row(r) {
		out[i] = s * float32(x)
	}
	return out
}

// addTo adds row r (scaled) to acc.
func (b *qrows) addTo(acc []float32, r int) {
	s := b.scale[r]
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
