package encoder

//go:noescape
func gemm12x32avx512(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)

//go:noescape
func gemm6x16avx2(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

var (
	avx512Kernel = gemmKernel{name: "avx512", mr: 12, nr: 32, run: gemm12x32avx512}
	avx2Kernel   = gemmKernel{name: "avx2", mr: 6, nr: 16, run: gemm6x16avx2}
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
