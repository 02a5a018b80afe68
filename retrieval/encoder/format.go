package encoder

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// The compact weights file is a gzip stream of:
//
//	magic "USEGO\x00\x01"
//	uvarint nVocab, then per entry: uvarint len, piece bytes, float64 score
//	uvarint nTensors, then per tensor:
//	    uvarint len, name, byte kind, uvarint rows, uvarint cols, payload
//
// Payloads are little-endian. Matrices are stored as [out][in] (already
// transposed from TF's [in][out]) so that inference runs dot products over
// contiguous rows, and so per-row int8 scales are per output unit.
const fileMagic = "USEGO\x00\x01"

// Quant selects how large matrices are stored in the weights file. Vectors
// (biases, layer-norm parameters, constants) are always float32.
type Quant uint8

const (
	QuantF32  Quant = iota // float32, lossless
	QuantF16               // IEEE half precision
	QuantInt8              // symmetric int8 with one float32 scale per row
)

func (q Quant) String() string {
	switch q {
	case QuantF32:
		return "f32"
	case QuantF16:
		return "f16"
	case QuantInt8:
		return "int8"
	}
	return fmt.Sprintf("Quant(%d)", uint8(q))
}

// tensor is a row-major matrix (vectors have rows == 1): float32 in data,
// or, as stored in int8 files, int8 values in q with one scale per row.
type tensor struct {
	name       string
	rows, cols int
	data       []float32
	q          []int8
	scales     []float32
}

// floats returns the tensor as float32, dequantising int8 rows as
// float32(q)·scale.
func (t *tensor) floats() []float32 {
	if t.q == nil {
		return t.data
	}
	out := make([]float32, len(t.q))
	for r := 0; r < t.rows; r++ {
		s := t.scales[r]
		for c, v := range t.q[r*t.cols : (r+1)*t.cols] {
			out[r*t.cols+c] = float32(v) * s
		}
	}
	return out
}

// int8Rows returns the tensor as int8 rows and their scales. A float
// tensor is quantised as writeModel would store it.
func (t *tensor) int8Rows() ([]int8, []float32) {
	if t.q != nil {
		return t.q, t.scales
	}
	q := make([]int8, len(t.data))
	scales := make([]float32, t.rows)
	for r := 0; r < t.rows; r++ {
		row := t.data[r*t.cols : (r+1)*t.cols]
		scales[r] = quantizeRow(q[r*t.cols:(r+1)*t.cols], row)
	}
	return q, scales
}

// quantizeRow stores row as symmetric int8 in dst and returns its scale.
func quantizeRow(dst []int8, row []float32) float32 {
	var mx float32
	for _, v := range row {
		mx = max(mx, abs32(v))
	}
	scale := mx / 127
	for i, v := range row {
		var qv float64
		if scale > 0 {
			qv = math.Round(float64(v / scale))
		}
		dst[i] = int8(max(-127, min(127, qv)))
	}
	return scale
}

// model is the decoded content of a weights file.
type model struct {
	pieces  []string
	scores  []float64
	tensors map[string]*tensor
}

// writeModel encodes m to w, storing matrices in the given quantisation.
func writeModel(w io.Writer, m *model, order []string, q Quant) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	var tmp [binary.MaxVarintLen64]byte
	uv := func(v uint64) { bw.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	str := func(s string) { uv(uint64(len(s))); bw.WriteString(s) }
	le := binary.LittleEndian

	bw.WriteString(fileMagic)
	uv(uint64(len(m.pieces)))
	for i, p := range m.pieces {
		str(p)
		bw.Write(le.AppendUint64(nil, math.Float64bits(m.scores[i])))
	}
	uv(uint64(len(order)))
	for _, name := range order {
		t := m.tensors[name]
		kind := QuantF32
		if t.rows > 1 {
			kind = q
		}
		str(name)
		bw.WriteByte(byte(kind))
		uv(uint64(t.rows))
		uv(uint64(t.cols))
		buf := make([]byte, 0, 4*len(t.data))
		switch kind {
		case QuantF32:
			for _, v := range t.data {
				buf = le.AppendUint32(buf, math.Float32bits(v))
			}
		case QuantF16:
			for _, v := range t.data {
				buf = le.AppendUint16(buf, f32ToF16(v))
			}
		case QuantInt8:
			// Scales first, then all int8 values, so similar bytes sit
			// together for gzip.
			q, scales := t.int8Rows()
			for _, s := range scales {
				buf = le.AppendUint32(buf, math.Float32bits(s))
			}
			for _, v := range q {
				buf = append(buf, byte(v))
			}
		default:
			return fmt.Errorf("encoder: unknown quantisation %v", q)
		}
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// readModel decodes a weights file. Int8 tensors stay int8 (the network
// computes on them); float16 ones are widened to float32.
func readModel(r io.Reader) (*model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("encoder: weights: %w", err)
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, len(fileMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != fileMagic {
		return nil, errors.New("encoder: weights: bad magic")
	}
	var rerr error
	uv := func() int {
		v, err := binary.ReadUvarint(br)
		if err != nil && rerr == nil {
			rerr = err
		}
		if v > 1<<30 {
			rerr = errors.New("size out of range")
			return 0
		}
		return int(v)
	}
	bytesN := func(n int) []byte {
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil && rerr == nil {
			rerr = err
		}
		return b
	}
	le := binary.LittleEndian

	m := &model{tensors: make(map[string]*tensor)}
	nv := uv()
	for i := 0; i < nv && rerr == nil; i++ {
		m.pieces = append(m.pieces, string(bytesN(uv())))
		m.scores = append(m.scores, math.Float64frombits(le.Uint64(bytesN(8))))
	}
	nt := uv()
	for i := 0; i < nt && rerr == nil; i++ {
		t := &tensor{name: string(bytesN(uv()))}
		kind := Quant(bytesN(1)[0])
		t.rows, t.cols = uv(), uv()
		if rerr != nil {
			break
		}
		n := t.rows * t.cols
		switch kind {
		case QuantF32:
			t.data = make([]float32, n)
			b := bytesN(4 * n)
			for j := range t.data {
				t.data[j] = math.Float32frombits(le.Uint32(b[4*j:]))
			}
		case QuantF16:
			t.data = make([]float32, n)
			b := bytesN(2 * n)
			for j := range t.data {
				t.data[j] = f16ToF32(le.Uint16(b[2*j:]))
			}
		case QuantInt8:
			sb := bytesN(4 * t.rows)
			qb := bytesN(n)
			t.scales = make([]float32, t.rows)
			for r := range t.scales {
				t.scales[r] = math.Float32frombits(le.Uint32(sb[4*r:]))
			}
			if n > 0 { // the bytes as they are, read as int8
				t.q = unsafe.Slice((*int8)(unsafe.Pointer(&qb[0])), n)
			} else {
				t.q = []int8{}
			}
		default:
			return nil, fmt.Errorf("encoder: weights: tensor %q has unknown kind %d", t.name, kind)
		}
		m.tensors[t.name] = t
	}
	if rerr != nil {
		return nil, fmt.Errorf("encoder: weights: %w", rerr)
	}
	return m, nil
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// f32ToF16 converts to IEEE 754 half precision, rounding to nearest even.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff == 0:
		return sign
	case int32(b>>23&0xff) == 0xff: // Inf/NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 0x1f:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is the correct rounding
	}
	return sign | uint16(h)
}

// f16ToF32 converts IEEE 754 half precision to float32 exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(mant) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
