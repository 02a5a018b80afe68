package encoder

import "unsafe"

// The dense layers run on int8 weights and float32 activations:
// dst[t][o] = scale[o]·Σ_i x[t][i]·q[o][i] + bias[o], which is the same
// product as with the weights dequantised (float32(q)·scale) but reads a
// quarter of the bytes. On amd64 the kernel is assembly (AVX-512 or
// AVX2+FMA, chosen at start-up); elsewhere, or without either, plain Go.
//
// The weights are packed once at load into panels of panelWidth outputs,
// the panelWidth int8 weights of each input next to each other. For each
// block of mr tokens the activations are packed the same way (the mr
// values of each input next to each other), so the kernel streams both
// operands and widens each weight once per mr tokens.

// panelWidth is the number of outputs in a weight panel.
const panelWidth = 32

// kernel flags: what the kernel does with the result.
const (
	kernelStore = 0 // dst = result
	kernelAdd   = 1 // dst += result (residual connections)
	kernelReLU  = 2 // dst = max(result, 0)
)

// qmatrix is a dense layer's weights, int8 with one scale per output, and
// its bias, packed for the kernel.
type qmatrix struct {
	out, in int
	panels  []int8    // [out/panelWidth][in][panelWidth]
	sb      []float32 // per panel: panelWidth scales, then panelWidth biases
}

// newQMatrix packs q ([out][in], one scale per row) and bias.
func newQMatrix(q []int8, scales, bias []float32, out, in int) *qmatrix {
	if out%panelWidth != 0 {
		panic("encoder: layer width is not a multiple of the panel width")
	}
	m := &qmatrix{out: out, in: in, panels: make([]int8, out*in), sb: make([]float32, 2*out)}
	for p := 0; p < out/panelWidth; p++ {
		panel := m.panels[p*in*panelWidth : (p+1)*in*panelWidth]
		for j := 0; j < panelWidth; j++ {
			o := p*panelWidth + j
			for i, v := range q[o*in : (o+1)*in] {
				panel[i*panelWidth+j] = v
			}
			m.sb[2*p*panelWidth+j] = scales[o]
			m.sb[(2*p+1)*panelWidth+j] = bias[o]
		}
	}
	return m
}

// gemmKernel computes an mr×nr block of dst from a packed activation
// block a (k·mr floats), the weights at w (row stride panelWidth bytes)
// and their scales and biases at sb (biases panelWidth floats later). dst
// rows are ldc floats apart.
//
// dots and wsum are attention's products, one query at a time:
// dots(out, q, k, stride, n) sets out[u] = q·k[u·stride:][:len(q)] for u < n,
// wsum(out, p, v, stride) sets out = Σ_u p[u]·v[u·stride:][:len(out)].
type gemmKernel struct {
	name   string
	mr, nr int
	run    func(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)
	// rows, if set, is run reading mr whole rows of activations in place
	// (lda floats apart), which saves packing them.
	rows func(a *float32, lda int, w *int8, k int, sb *float32, c *float32, ldc int, flags int)
	dots func(out, q, k []float32, stride, n int)
	wsum func(out, p, v []float32, stride int)
	// tail, if set, computes fewer rows at a time, for the last rows of
	// a product when they would fill less of a block (a question's).
	tail *gemmKernel
}

// kern is the kernel in use; tests may swap it to check the others.
var kern = bestKernel()

var goKernel = gemmKernel{name: "go", mr: 4, nr: panelWidth, run: gemm4x32go, dots: dotsGo, wsum: wsumGo}

func dotsGo(out, q, k []float32, stride, n int) {
	dh := len(q)
	for u := 0; u < n; u++ {
		out[u] = dot(q, k[u*stride:u*stride+dh])
	}
}

func wsumGo(out, p, v []float32, stride int) {
	dh := len(out)
	clear(out)
	for u, pu := range p {
		axpy(out, v[u*stride:u*stride+dh], pu)
	}
}

// linear computes dst[t][o] for the n rows of x (width m.in) into dst
// (row stride ldc), as flags says. dst must have room for n rounded up to
// a multiple of kern.mr rows: the kernel writes whole blocks. apack is
// scratch of at least kern.mr·m.in floats.
func linear(dst []float32, ldc int, x []float32, n int, m *qmatrix, flags int, apack []float32) {
	k := kern
	in := m.in
	blocks := (n + k.mr - 1) / k.mr
	if n == 0 {
		return
	}
	if len(dst) < ((blocks-1)*k.mr+k.mr-1)*ldc+m.out || len(x) < n*in || ldc < m.out {
		panic("encoder: linear: buffers too small")
	}
	apack = apack[:k.mr*in]
	for r0 := 0; r0 < n; {
		bk := &k
		if t := k.tail; t != nil && n-r0 <= k.mr-t.mr {
			bk = t // tail blocks stay inside the last whole block's rows
		}
		rows := min(bk.mr, n-r0)
		c := dst[r0*ldc:]
		if bk.rows != nil && rows == bk.mr {
			a := x[r0*in : (r0+rows)*in]
			for p := 0; p < m.out/panelWidth; p++ {
				w := m.panels[p*in*panelWidth:]
				sb := m.sb[2*p*panelWidth:]
				for h := 0; h < panelWidth; h += bk.nr {
					bk.rows(&a[0], in, &w[h], in, &sb[h], &c[p*panelWidth+h], ldc, flags)
				}
			}
			r0 += bk.mr
			continue
		}
		packRows(apack, x[r0*in:], rows, bk.mr, in)
		for p := 0; p < m.out/panelWidth; p++ {
			w := m.panels[p*in*panelWidth:]
			sb := m.sb[2*p*panelWidth:]
			for h := 0; h < panelWidth; h += bk.nr {
				bk.run(&apack[0], &w[h], in, &sb[h], &c[p*panelWidth+h], ldc, flags)
			}
		}
		r0 += bk.mr
	}
}

// packRows writes rows of x (width in) interleaved: dst[i·mr+r] = x[r][i],
// with zeros for the rows past rows.
func packRows(dst, x []float32, rows, mr, in int) {
	dst = dst[:mr*in]
	if rows < mr {
		clear(dst)
	}
	x = x[:rows*in]
	// Four rows at a time: four reads, one short run of writes.
	r := 0
	for ; r+4 <= rows; r += 4 {
		x0, x1, x2, x3 := x[r*in:(r+1)*in], x[(r+1)*in:(r+2)*in], x[(r+2)*in:(r+3)*in], x[(r+3)*in:(r+4)*in]
		for i := range x0 {
			d := dst[i*mr+r : i*mr+r+4]
			d[0], d[1], d[2], d[3] = x0[i], x1[i], x2[i], x3[i]
		}
	}
	for ; r < rows; r++ {
		for i, v := range x[r*in : (r+1)*in] {
			dst[i*mr+r] = v
		}
	}
}

// gemm4x32go is the portable kernel: 4 rows × 32 columns, computed 4×4
// at a time in scalar accumulators (which the compiler keeps in registers).
func gemm4x32go(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int) {
	const mr, nr = 4, panelWidth
	as := unsafe.Slice(a, k*mr)
	ws := unsafe.Slice(w, (k-1)*panelWidth+nr)
	scale := unsafe.Slice(sb, 2*panelWidth)
	bias := scale[panelWidth : panelWidth+nr]
	scale = scale[:nr]
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for j := 0; j < nr; j += 4 {
		var c00, c01, c02, c03, c10, c11, c12, c13 float32
		var c20, c21, c22, c23, c30, c31, c32, c33 float32
		for i := 0; i < k; i++ {
			x := as[i*mr : i*mr+4]
			wv := ws[i*panelWidth+j : i*panelWidth+j+4]
			w0, w1, w2, w3 := float32(wv[0]), float32(wv[1]), float32(wv[2]), float32(wv[3])
			x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
			c00, c01, c02, c03 = c00+x0*w0, c01+x0*w1, c02+x0*w2, c03+x0*w3
			c10, c11, c12, c13 = c10+x1*w0, c11+x1*w1, c12+x1*w2, c13+x1*w3
			c20, c21, c22, c23 = c20+x2*w0, c21+x2*w1, c22+x2*w2, c23+x2*w3
			c30, c31, c32, c33 = c30+x3*w0, c31+x3*w1, c32+x3*w2, c33+x3*w3
		}
		acc := [mr][4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}}
		for r := 0; r < mr; r++ {
			out := cs[r*ldc+j : r*ldc+j+4]
			for q := range out {
				v := acc[r][q]*scale[j+q] + bias[j+q]
				switch flags {
				case kernelAdd:
					v += out[q]
				case kernelReLU:
					v = max(v, 0)
				}
				out[q] = v
			}
		}
	}
}
