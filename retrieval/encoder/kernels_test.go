package encoder

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelsMatchPlainProduct checks every kernel this machine can run
// against a float64 product of the dequantised weights, for each flag and
// for row counts that do and do not fill the last block.
func TestKernelsMatchPlainProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const out, in = 64, 96
	q := make([]int8, out*in)
	for i := range q {
		q[i] = int8(rng.IntN(255) - 127)
	}
	scales, bias := make([]float32, out), make([]float32, out)
	for o := range scales {
		scales[o] = rng.Float32() / 100
		bias[o] = rng.Float32() - 0.5
	}
	m := newQMatrix(q, scales, bias, out, in)
	defer func(k gemmKernel) { kern = k }(kern)
	for _, k := range kernels() {
		kern = k
		for _, n := range []int{1, k.mr - 1, k.mr, k.mr + 1, 3*k.mr + 2} {
			if n < 1 {
				continue
			}
			for _, flags := range []int{kernelStore, kernelAdd, kernelReLU} {
				t.Run(fmt.Sprintf("%s/rows%d/flags%d", k.name, n, flags), func(t *testing.T) {
					x := make([]float32, n*in)
					for i := range x {
						x[i] = rng.Float32()*2 - 1
					}
					rows := (n + k.mr - 1) / k.mr * k.mr
					const ldc = out + 8 // a wider destination, as a residual stream may be
					dst := make([]float32, rows*ldc)
					for i := range dst {
						dst[i] = float32(i%7) - 3
					}
					before := append([]float32(nil), dst...)
					linear(dst, ldc, x, n, m, flags, make([]float32, k.mr*in))
					for r := 0; r < n; r++ {
						for o := 0; o < out; o++ {
							var acc float64
							for i := 0; i < in; i++ {
								acc += float64(x[r*in+i]) * float64(q[o*in+i])
							}
							want := acc*float64(scales[o]) + float64(bias[o])
							switch flags {
							case kernelAdd:
								want += float64(before[r*ldc+o])
							case kernelReLU:
								want = math.Max(want, 0)
							}
							if got := float64(dst[r*ldc+o]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
								t.Fatalf("row %d output %d: %v, want %v", r, o, got, want)
							}
						}
						for o := out; o < ldc; o++ {
							if dst[r*ldc+o] != before[r*ldc+o] {
								t.Fatalf("row %d column %d past the outputs was written", r, o)
							}
						}
					}
				})
			}
		}
	}
}

// TestAttentionProductsMatchGo checks each kernel's attention products
// against plain loops, for the head widths of the model and odd lengths.
func TestAttentionProductsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range kernels() {
		for _, dh := range []int{64, 128, 40} {
			for _, n := range []int{1, 2, 7, 33, 128} {
				stride := 3*dh + 5
				q, kv, p := make([]float32, dh), make([]float32, n*stride), make([]float32, n)
				for i := range q {
					q[i] = rng.Float32()*2 - 1
				}
				for i := range kv {
					kv[i] = rng.Float32()*2 - 1
				}
				for i := range p {
					p[i] = rng.Float32()
				}
				scores := make([]float32, n+1)
				scores[n] = 42 // past n: must stay
				k.dots(scores, q, kv, stride, n)
				sum := make([]float32, dh)
				k.wsum(sum, p, kv, stride)
				for u := 0; u < n; u++ {
					var want float64
					for i := 0; i < dh; i++ {
						want += float64(q[i]) * float64(kv[u*stride+i])
					}
					if math.Abs(float64(scores[u])-want) > 1e-4 {
						t.Fatalf("%s dh %d n %d: score %d = %v, want %v", k.name, dh, n, u, scores[u], want)
					}
				}
				if scores[n] != 42 {
					t.Fatalf("%s dh %d n %d: wrote past n", k.name, dh, n)
				}
				for i := 0; i < dh; i++ {
					var want float64
					for u := 0; u < n; u++ {
						want += float64(p[u]) * float64(kv[u*stride+i])
					}
					if math.Abs(float64(sum[i])-want) > 1e-4 {
						t.Fatalf("%s dh %d n %d: sum[%d] = %v, want %v", k.name, dh, n, i, sum[i], want)
					}
				}
			}
		}
	}
}

// BenchmarkLinear times one dense layer of the model's widest shape
// (1536 → 512) over 480 token rows with each kernel, in GFLOP/s.
func BenchmarkLinear(b *testing.B) {
	const out, in, n = 512, 1536, 480
	q := make([]int8, out*in)
	for i := range q {
		q[i] = int8(i%255 - 127)
	}
	scales, bias := make([]float32, out), make([]float32, out)
	m := newQMatrix(q, scales, bias, out, in)
	x := make([]float32, n*in)
	defer func(k gemmKernel) { kern = k }(kern)
	for _, k := range kernels() {
		b.Run(k.name, func(b *testing.B) {
			kern = k
			dst := make([]float32, (n+k.mr)*out)
			apack := make([]float32, k.mr*in)
			c0 := processCPU()
			for b.Loop() {
				linear(dst, out, x, n, m, kernelStore, apack)
			}
			flop := 2 * out * in * n * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(flop/float64(processCPU()-c0), "GFLOP/cpu-s")
		})
	}
}
