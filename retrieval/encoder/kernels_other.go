//go:build !amd64

package encoder

func kernels() []gemmKernel { return []gemmKernel{goKernel} }

func bestKernel() gemmKernel { return goKernel }
