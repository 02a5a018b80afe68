package encoder

//go:noescape
func gemm12x32avx512(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)

//go:noescape
func gemm12x32avx512rows(a *float32, lda int, w *int8, k int, sb *float32, c *float32, ldc int, flags int)

//go:noescape
func gemm4x32avx512(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)

//go:noescape
func gemm6x16avx2(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)

//go:noescape
func dotsAVX512(q *float32, k *float32, stride int, n int, dh int, out *float32)

//go:noescape
func wsumAVX512(p *float32, v *float32, stride int, n int, dh int, out *float32)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

var (
	avx512Kernel = gemmKernel{name: "avx512", mr: 12, nr: 32, run: gemm12x32avx512, rows: gemm12x32avx512rows, dots: dots512, wsum: wsum512,
		tail: &gemmKernel{name: "avx512x4", mr: 4, nr: 32, run: gemm4x32avx512}}
	avx2Kernel = gemmKernel{name: "avx2", mr: 6, nr: 16, run: gemm6x16avx2, dots: dotsGo, wsum: wsumGo}
)

// kernels lists the kernels this machine can run, fastest first.
func kernels() []gemmKernel {
	var ks []gemmKernel
	maxLeaf, _, _, _ := cpuid(0, 0)
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx, fma = 1 << 27, 1 << 28, 1 << 12
	if maxLeaf >= 7 && ecx1&osxsave != 0 && ecx1&avx != 0 && ecx1&fma != 0 {
		xcr0, _ := xgetbv()
		_, ebx7, _, _ := cpuid(7, 0)
		const avx2, avx512f = 1 << 5, 1 << 16
		ymm := xcr0&0x6 == 0x6
		zmm := ymm && xcr0&0xe0 == 0xe0
		if zmm && ebx7&avx512f != 0 {
			ks = append(ks, avx512Kernel)
		}
		if ymm && ebx7&avx2 != 0 {
			ks = append(ks, avx2Kernel)
		}
	}
	return append(ks, goKernel)
}

func bestKernel() gemmKernel { return kernels()[0] }

func dots512(out, q, k []float32, stride, n int) {
	dh := len(q)
	if dh%32 != 0 || n == 0 {
		dotsGo(out, q, k, stride, n)
		return
	}
	_, _ = out[n-1], k[(n-1)*stride+dh-1]
	dotsAVX512(&q[0], &k[0], stride, n, dh, &out[0])
}

func wsum512(out, p, v []float32, stride int) {
	dh, n := len(out), len(p)
	if dh%64 != 0 || n == 0 {
		wsumGo(out, p, v, stride)
		return
	}
	_ = v[(n-1)*stride+dh-1]
	wsumAVX512(&p[0], &v[0], stride, n, dh, &out[0])
}
