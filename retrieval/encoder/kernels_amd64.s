#include "textflag.h"

// Dense-layer kernels: C[m][j] = acc·scale[j] + bias[j] (then + C[m][j], or
// max(·, 0), by flags) where acc = Σ_k A[k][m]·float32(W[k][j]). A is a
// packed panel of float32 activations (MR rows interleaved per k), W a
// packed panel of int8 weights (32 per k), so both stream contiguously and
// each weight is widened once per MR rows. See kernels.go.

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// One row of the 12×32 kernel: broadcast A[k][m], multiply by both weight
// vectors.
#define ROW512(off, b, c0, c1) \
	VBROADCASTSS off(AX), b; \
	VFMADD231PS  Z24, b, c0; \
	VFMADD231PS  Z25, b, c1

// Epilogues: scale and bias in Z24..Z27, C row at DI, row stride R8 bytes.
#define OUT512(c0, c1) \
	VFMADD213PS Z26, Z24, c0; \
	VFMADD213PS Z27, Z25, c1; \
	VMOVUPS     c0, (DI); \
	VMOVUPS     c1, 64(DI); \
	ADDQ        R8, DI

#define ADD512(c0, c1) \
	VFMADD213PS Z26, Z24, c0; \
	VFMADD213PS Z27, Z25, c1; \
	VADDPS      (DI), c0, c0; \
	VADDPS      64(DI), c1, c1; \
	VMOVUPS     c0, (DI); \
	VMOVUPS     c1, 64(DI); \
	ADDQ        R8, DI

#define RELU512(c0, c1) \
	VFMADD213PS Z26, Z24, c0; \
	VFMADD213PS Z27, Z25, c1; \
	VMAXPS      Z28, c0, c0; \
	VMAXPS      Z28, c1, c1; \
	VMOVUPS     c0, (DI); \
	VMOVUPS     c1, 64(DI); \
	ADDQ        R8, DI

#define ALL512(m) \
	m(Z0, Z1); m(Z2, Z3); m(Z4, Z5); m(Z6, Z7); m(Z8, Z9); m(Z10, Z11); \
	m(Z12, Z13); m(Z14, Z15); m(Z16, Z17); m(Z18, Z19); m(Z20, Z21); m(Z22, Z23)

// func gemm12x32avx512(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)
TEXT ·gemm12x32avx512(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), AX
	MOVQ w+8(FP), BX
	MOVQ k+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	TESTQ  CX, CX
	JZ     done512

loop512:
	VPMOVSXBD (BX), Z24
	VPMOVSXBD 16(BX), Z25
	VCVTDQ2PS Z24, Z24
	VCVTDQ2PS Z25, Z25
	ROW512(0, Z26, Z0, Z1)
	ROW512(4, Z27, Z2, Z3)
	ROW512(8, Z28, Z4, Z5)
	ROW512(12, Z29, Z6, Z7)
	ROW512(16, Z30, Z8, Z9)
	ROW512(20, Z31, Z10, Z11)
	ROW512(24, Z26, Z12, Z13)
	ROW512(28, Z27, Z14, Z15)
	ROW512(32, Z28, Z16, Z17)
	ROW512(36, Z29, Z18, Z19)
	ROW512(40, Z30, Z20, Z21)
	ROW512(44, Z31, Z22, Z23)
	ADDQ      $48, AX
	ADDQ      $32, BX
	DECQ      CX
	JNZ       loop512

done512:
	MOVQ    sb+24(FP), SI
	VMOVUPS (SI), Z24
	VMOVUPS 64(SI), Z25
	VMOVUPS 128(SI), Z26
	VMOVUPS 192(SI), Z27
	VPXORD  Z28, Z28, Z28
	MOVQ    c+32(FP), DI
	MOVQ    ldc+40(FP), R8
	SHLQ    $2, R8
	MOVQ    flags+48(FP), R9
	CMPQ    R9, $1
	JEQ     add512
	CMPQ    R9, $2
	JEQ     relu512
	ALL512(OUT512)
	VZEROUPPER
	RET

add512:
	ALL512(ADD512)
	VZEROUPPER
	RET

relu512:
	ALL512(RELU512)
	VZEROUPPER
	RET

// func gemm12x32avx512rows(a *float32, lda int, w *int8, k int, sb *float32, c *float32, ldc int, flags int)
// The 12×32 kernel reading its 12 rows of activations in place, lda floats
// apart, instead of from a packed block: rows 0–3 from AX, 4–7 from DX,
// 8–11 from SI, each at +0, +lda, +2·lda, +3·lda.
TEXT ·gemm12x32avx512rows(SB), NOSPLIT, $0-64
	MOVQ   a+0(FP), AX
	MOVQ   lda+8(FP), R8
	SHLQ   $2, R8
	LEAQ   (R8)(R8*2), R9
	LEAQ   (AX)(R8*4), DX
	LEAQ   (DX)(R8*4), SI
	MOVQ   w+16(FP), BX
	MOVQ   k+24(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	TESTQ  CX, CX
	JZ     donerows

looprows:
	VPMOVSXBD    (BX), Z24
	VPMOVSXBD    16(BX), Z25
	VCVTDQ2PS    Z24, Z24
	VCVTDQ2PS    Z25, Z25
	VBROADCASTSS (AX), Z26
	VFMADD231PS  Z24, Z26, Z0
	VFMADD231PS  Z25, Z26, Z1
	VBROADCASTSS (AX)(R8*1), Z27
	VFMADD231PS  Z24, Z27, Z2
	VFMADD231PS  Z25, Z27, Z3
	VBROADCASTSS (AX)(R8*2), Z28
	VFMADD231PS  Z24, Z28, Z4
	VFMADD231PS  Z25, Z28, Z5
	VBROADCASTSS (AX)(R9*1), Z29
	VFMADD231PS  Z24, Z29, Z6
	VFMADD231PS  Z25, Z29, Z7
	VBROADCASTSS (DX), Z30
	VFMADD231PS  Z24, Z30, Z8
	VFMADD231PS  Z25, Z30, Z9
	VBROADCASTSS (DX)(R8*1), Z31
	VFMADD231PS  Z24, Z31, Z10
	VFMADD231PS  Z25, Z31, Z11
	VBROADCASTSS (DX)(R8*2), Z26
	VFMADD231PS  Z24, Z26, Z12
	VFMADD231PS  Z25, Z26, Z13
	VBROADCASTSS (DX)(R9*1), Z27
	VFMADD231PS  Z24, Z27, Z14
	VFMADD231PS  Z25, Z27, Z15
	VBROADCASTSS (SI), Z28
	VFMADD231PS  Z24, Z28, Z16
	VFMADD231PS  Z25, Z28, Z17
	VBROADCASTSS (SI)(R8*1), Z29
	VFMADD231PS  Z24, Z29, Z18
	VFMADD231PS  Z25, Z29, Z19
	VBROADCASTSS (SI)(R8*2), Z30
	VFMADD231PS  Z24, Z30, Z20
	VFMADD231PS  Z25, Z30, Z21
	VBROADCASTSS (SI)(R9*1), Z31
	VFMADD231PS  Z24, Z31, Z22
	VFMADD231PS  Z25, Z31, Z23
	ADDQ         $4, AX
	ADDQ         $4, DX
	ADDQ         $4, SI
	ADDQ         $32, BX
	DECQ         CX
	JNZ          looprows

donerows:
	MOVQ    sb+32(FP), SI
	VMOVUPS (SI), Z24
	VMOVUPS 64(SI), Z25
	VMOVUPS 128(SI), Z26
	VMOVUPS 192(SI), Z27
	VPXORD  Z28, Z28, Z28
	MOVQ    c+40(FP), DI
	MOVQ    ldc+48(FP), R8
	SHLQ    $2, R8
	MOVQ    flags+56(FP), R9
	CMPQ    R9, $1
	JEQ     addrows
	CMPQ    R9, $2
	JEQ     relurows
	ALL512(OUT512)
	VZEROUPPER
	RET

addrows:
	ALL512(ADD512)
	VZEROUPPER
	RET

relurows:
	ALL512(RELU512)
	VZEROUPPER
	RET

#define ALL512x4(m) \
	m(Z0, Z1); m(Z2, Z3); m(Z4, Z5); m(Z6, Z7)

// func gemm4x32avx512(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)
// The 12×32 kernel cut to 4 rows, for the last few rows of a product (a question's).
TEXT ·gemm4x32avx512(SB), NOSPLIT, $0-56
	MOVQ   a+0(FP), AX
	MOVQ   w+8(FP), BX
	MOVQ   k+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ  CX, CX
	JZ     done4x32

loop4x32:
	VPMOVSXBD (BX), Z24
	VPMOVSXBD 16(BX), Z25
	VCVTDQ2PS Z24, Z24
	VCVTDQ2PS Z25, Z25
	ROW512(0, Z26, Z0, Z1)
	ROW512(4, Z27, Z2, Z3)
	ROW512(8, Z28, Z4, Z5)
	ROW512(12, Z29, Z6, Z7)
	ADDQ      $16, AX
	ADDQ      $32, BX
	DECQ      CX
	JNZ       loop4x32

done4x32:
	MOVQ    sb+24(FP), SI
	VMOVUPS (SI), Z24
	VMOVUPS 64(SI), Z25
	VMOVUPS 128(SI), Z26
	VMOVUPS 192(SI), Z27
	VPXORD  Z28, Z28, Z28
	MOVQ    c+32(FP), DI
	MOVQ    ldc+40(FP), R8
	SHLQ    $2, R8
	MOVQ    flags+48(FP), R9
	CMPQ    R9, $1
	JEQ     add4x32
	CMPQ    R9, $2
	JEQ     relu4x32
	ALL512x4(OUT512)
	VZEROUPPER
	RET

add4x32:
	ALL512x4(ADD512)
	VZEROUPPER
	RET

relu4x32:
	ALL512x4(RELU512)
	VZEROUPPER
	RET

// The AVX2 kernel: 6 rows × 16 columns (half of a 32-wide weight panel,
// whose rows are still 32 bytes apart).
#define ROW256(off, b, c0, c1) \
	VBROADCASTSS off(AX), b; \
	VFMADD231PS  Y12, b, c0; \
	VFMADD231PS  Y13, b, c1

// Epilogues: scale in Y12, Y13, bias at 128(SI) and 160(SI), zero in Y14.
#define OUT256(c0, c1) \
	VFMADD213PS 128(SI), Y12, c0; \
	VFMADD213PS 160(SI), Y13, c1; \
	VMOVUPS     c0, (DI); \
	VMOVUPS     c1, 32(DI); \
	ADDQ        R8, DI

#define ADD256(c0, c1) \
	VFMADD213PS 128(SI), Y12, c0; \
	VFMADD213PS 160(SI), Y13, c1; \
	VADDPS      (DI), c0, c0; \
	VADDPS      32(DI), c1, c1; \
	VMOVUPS     c0, (DI); \
	VMOVUPS     c1, 32(DI); \
	ADDQ        R8, DI

#define RELU256(c0, c1) \
	VFMADD213PS 128(SI), Y12, c0; \
	VFMADD213PS 160(SI), Y13, c1; \
	VMAXPS      Y14, c0, c0; \
	VMAXPS      Y14, c1, c1; \
	VMOVUPS     c0, (DI); \
	VMOVUPS     c1, 32(DI); \
	ADDQ        R8, DI

#define ALL256(m) \
	m(Y0, Y1); m(Y2, Y3); m(Y4, Y5); m(Y6, Y7); m(Y8, Y9); m(Y10, Y11)

// func gemm6x16avx2(a *float32, w *int8, k int, sb *float32, c *float32, ldc int, flags int)
TEXT ·gemm6x16avx2(SB), NOSPLIT, $0-56
	MOVQ   a+0(FP), AX
	MOVQ   w+8(FP), BX
	MOVQ   k+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ  CX, CX
	JZ     done256

loop256:
	VPMOVSXBD (BX), Y12
	VPMOVSXBD 8(BX), Y13
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13
	ROW256(0, Y14, Y0, Y1)
	ROW256(4, Y15, Y2, Y3)
	ROW256(8, Y14, Y4, Y5)
	ROW256(12, Y15, Y6, Y7)
	ROW256(16, Y14, Y8, Y9)
	ROW256(20, Y15, Y10, Y11)
	ADDQ      $24, AX
	ADDQ      $32, BX
	DECQ      CX
	JNZ       loop256

done256:
	MOVQ    sb+24(FP), SI
	VMOVUPS (SI), Y12
	VMOVUPS 32(SI), Y13
	VXORPS  Y14, Y14, Y14
	MOVQ    c+32(FP), DI
	MOVQ    ldc+40(FP), R8
	SHLQ    $2, R8
	MOVQ    flags+48(FP), R9
	CMPQ    R9, $1
	JEQ     add256
	CMPQ    R9, $2
	JEQ     relu256
	ALL256(OUT256)
	VZEROUPPER
	RET

add256:
	ALL256(ADD256)
	VZEROUPPER
	RET

relu256:
	ALL256(RELU256)
	VZEROUPPER
	RET

// Attention, per text and head: scores of one query against every key,
// and the probability-weighted sum of the values.

// func dotsAVX512(q *float32, k *float32, stride int, n int, dh int, out *float32)
// out[u] = Σ_{i<dh} q[i]·k[u·stride+i], for u < n; dh a multiple of 32.
TEXT ·dotsAVX512(SB), NOSPLIT, $0-48
	MOVQ  q+0(FP), SI
	MOVQ  k+8(FP), DI
	MOVQ  stride+16(FP), R8
	SHLQ  $2, R8
	MOVQ  n+24(FP), CX
	MOVQ  dh+32(FP), R9
	MOVQ  out+40(FP), DX
	TESTQ CX, CX
	JZ    dotsdone

dotsrow:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	XORQ   BX, BX
	MOVQ   R9, R10

dotsinner:
	VMOVUPS     (SI)(BX*1), Z2
	VMOVUPS     64(SI)(BX*1), Z3
	VFMADD231PS (DI)(BX*1), Z2, Z0
	VFMADD231PS 64(DI)(BX*1), Z3, Z1
	ADDQ        $128, BX
	SUBQ        $32, R10
	JNZ         dotsinner
	VADDPS        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VMOVHLPS      X0, X0, X1
	VADDPS        X1, X0, X0
	VMOVSHDUP     X0, X1
	VADDSS        X1, X0, X0
	VMOVSS        X0, (DX)
	ADDQ          $4, DX
	ADDQ          R8, DI
	DECQ          CX
	JNZ           dotsrow

dotsdone:
	VZEROUPPER
	RET

// func wsumAVX512(p *float32, v *float32, stride int, n int, dh int, out *float32)
// out[i] = Σ_{u<n} p[u]·v[u·stride+i], for i < dh; dh a multiple of 64.
TEXT ·wsumAVX512(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), SI
	MOVQ v+8(FP), DI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	MOVQ dh+32(FP), R9
	MOVQ out+40(FP), DX

wsumchunk:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ   SI, AX
	MOVQ   DI, BX
	MOVQ   CX, R10
	TESTQ  R10, R10
	JZ     wsumstore

wsumrow:
	VBROADCASTSS (AX), Z4
	VFMADD231PS  (BX), Z4, Z0
	VFMADD231PS  64(BX), Z4, Z1
	VFMADD231PS  128(BX), Z4, Z2
	VFMADD231PS  192(BX), Z4, Z3
	ADDQ         $4, AX
	ADDQ         R8, BX
	DECQ         R10
	JNZ          wsumrow

wsumstore:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, R9
	JNZ     wsumchunk
	VZEROUPPER
	RET
