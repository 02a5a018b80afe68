package encoder

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// The float32 kernels. Matrices are stored [out][in], so a dense layer is
// one x·wᵀ product: gonum's, whose inner loops are SIMD assembly, 1.7 times
// faster than plain Go here and, not being instrumented, 35 times faster
// under the race detector. The small loops of attention stay in Go.

// linear computes dst[t][o] = b[o] + Σ_i x[t][i]·w[o][i] for n tokens, with
// gonum's assembly kernels.
func linear(dst, x, w, b []float32, n, in, out int) {
	dst, x, w, b = dst[:n*out], x[:n*in], w[:out*in], b[:out]
	for t := 0; t < n; t++ {
		copy(dst[t*out:(t+1)*out], b)
	}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: n, Cols: in, Stride: in, Data: x},
		blas32.General{Rows: out, Cols: in, Stride: in, Data: w},
		1, blas32.General{Rows: n, Cols: out, Stride: out, Data: dst})
}

// dot returns Σ a[i]·b[i], unrolled by 4 with independent accumulators.
func dot(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy computes y += alpha·x, unrolled by 4.
func axpy(y, x []float32, alpha float32) {
	n := len(y)
	x = x[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		y[i] += alpha * x[i]
		y[i+1] += alpha * x[i+1]
		y[i+2] += alpha * x[i+2]
		y[i+3] += alpha * x[i+3]
	}
	for ; i < n; i++ {
		y[i] += alpha * x[i]
	}
}
