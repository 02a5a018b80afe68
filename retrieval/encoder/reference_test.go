package encoder

// The encoder as it was before issue 14's batched int8 kernel: one text at
// a time, weights dequantised to float32 and gonum's Sgemm for the dense
// layers. Kept, for tests and benchmarks only, as the reference the fast
// path must agree with and be measured against.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

var (
	refOnce sync.Once
	refNet  *refNetwork
	refErr  error
)

// newReference returns the reference network over the embedded weights.
func newReference(t testing.TB) *refNetwork {
	t.Helper()
	refOnce.Do(func() { refNet, refErr = loadRefNetwork(bytes.NewReader(weights)) })
	if refErr != nil {
		t.Fatal(refErr)
	}
	return refNet
}

// embed is the reference's Encoder.Embed: one text per worker at a time.
func (e *refNetwork) embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = e.embedTo(make([]float32, Dim), texts[i])
			}
		}()
	}
	var err error
feed:
	for i := range texts {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// refLayer holds one transformer layer, matrices stored [out][in].
type refLayer struct {
	dIn, dModel, dFF int
	heads            int
	qscale           float32 // 1/sqrt(head dim), applied to q before q·k

	ln1Scale, ln1Bias []float32 // pre-attention refLayer norm (dIn)
	qkvW, qkvB        []float32 // [3*dIn][dIn]: q, k, v stacked
	outW, outB        []float32 // [dModel][dIn]
	resW, resB        []float32 // "AdjustResidualInput" dense [dModel][dIn]; nil = identity
	ln2Scale, ln2Bias []float32 // pre-FFN refLayer norm (dModel)
	ff1W, ff1B        []float32 // [dFF][dModel]
	ff2W, ff2B        []float32 // [dModel][dFF]
}

// refNetwork is the loaded transformer. It is safe for concurrent use.
type refNetwork struct {
	tok    *Tokenizer
	emb    []float32 // [vocab][dEmb]
	dEmb   int
	inv    []float32 // timing-signal inverse timescales (dEmb/2)
	maxLen int       // tokens at positions >= maxLen are dropped
	eps    float32   // refLayer-norm epsilon
	layers []refLayer
	finW   []float32 // tanh projection [Dim][dModel]
	finB   []float32
	l2eps  float32 // floor on the squared norm in the final L2 normalisation
	dMax   int     // widest activation row (for refScratch sizing)
	dFFMax int

	scratch sync.Pool // *refScratch
}

// loadRefNetwork reads a weights file written by Convert.
func loadRefNetwork(r io.Reader) (*refNetwork, error) {
	m, err := readModel(r)
	if err != nil {
		return nil, err
	}
	var missing []string
	get := func(name string, rows, cols int) []float32 {
		t := m.tensors[name]
		if t == nil || (rows >= 0 && t.rows != rows) || (cols >= 0 && t.cols != cols) {
			missing = append(missing, name)
			return nil
		}
		return t.floats()
	}
	scalar := func(name string) float32 {
		if d := get(name, 1, 1); d != nil {
			return d[0]
		}
		return 0
	}
	e := &refNetwork{tok: NewTokenizer(m.pieces, m.scores)}
	if t := m.tensors["emb"]; t != nil {
		e.emb, e.dEmb = t.floats(), t.cols
		if t.rows < len(m.pieces) {
			return nil, fmt.Errorf("encoder: embedding table has %d rows for %d pieces", t.rows, len(m.pieces))
		}
	} else {
		missing = append(missing, "emb")
	}
	e.inv = get("timing.inv", 1, e.dEmb/2)
	e.maxLen = int(scalar("maxlen"))
	e.eps = scalar("ln.eps")
	e.l2eps = scalar("l2.eps")
	d := e.dEmb
	for _, p := range []string{"l0.", "l1."} {
		var l refLayer
		l.dIn = d
		l.heads = int(scalar(p + "heads"))
		l.qscale = scalar(p + "qscale")
		l.ln1Scale = get(p+"ln1.scale", 1, d)
		l.ln1Bias = get(p+"ln1.bias", 1, d)
		l.qkvW = get(p+"qkv.w", 3*d, d)
		l.qkvB = get(p+"qkv.b", 1, 3*d)
		if t := m.tensors[p+"out.w"]; t != nil {
			l.dModel = t.rows
		}
		l.outW = get(p+"out.w", l.dModel, d)
		l.outB = get(p+"out.b", 1, l.dModel)
		if _, ok := m.tensors[p+"res.w"]; ok {
			l.resW = get(p+"res.w", l.dModel, d)
			l.resB = get(p+"res.b", 1, l.dModel)
		} else if l.dModel != d {
			return nil, fmt.Errorf("encoder: refLayer %s changes width without a residual projection", p)
		}
		l.ln2Scale = get(p+"ln2.scale", 1, l.dModel)
		l.ln2Bias = get(p+"ln2.bias", 1, l.dModel)
		if t := m.tensors[p+"ff1.w"]; t != nil {
			l.dFF = t.rows
		}
		l.ff1W = get(p+"ff1.w", l.dFF, l.dModel)
		l.ff1B = get(p+"ff1.b", 1, l.dFF)
		l.ff2W = get(p+"ff2.w", l.dModel, l.dFF)
		l.ff2B = get(p+"ff2.b", 1, l.dModel)
		if l.heads <= 0 || d%l.heads != 0 {
			return nil, fmt.Errorf("encoder: refLayer %s: %d heads do not divide %d", p, l.heads, d)
		}
		e.layers = append(e.layers, l)
		e.dMax = max(e.dMax, d, l.dModel)
		e.dFFMax = max(e.dFFMax, l.dFF, 3*d)
		d = l.dModel
	}
	e.finW = get("final.w", Dim, d)
	e.finB = get("final.b", 1, Dim)
	if len(missing) > 0 {
		return nil, fmt.Errorf("encoder: weights file lacks or misshapes %v", missing)
	}
	if e.maxLen <= 0 {
		return nil, fmt.Errorf("encoder: bad max length %d", e.maxLen)
	}
	e.scratch.New = func() any { return new(refScratch) }
	return e, nil
}

// refScratch holds all per-call activations; reused through a sync.Pool so
// Embed does not allocate in steady state.
type refScratch struct {
	tok                tokScratch
	x, h, r, ctx, wide []float32
	probs              []float32
	pooled, hidden     []float32
}

func (s *refScratch) ensure(n, dMax, dWide int) {
	s.x = resize(s.x, n*dMax)
	s.h = resize(s.h, n*dMax)
	s.r = resize(s.r, n*dMax)
	s.ctx = resize(s.ctx, n*dMax)
	s.wide = resize(s.wide, n*dWide)
	s.probs = resize(s.probs, n)
	s.pooled = resize(s.pooled, dMax)
	s.hidden = resize(s.hidden, Dim)
}

// embedTo writes the embedding of text into dst[:Dim] and returns it.
func (e *refNetwork) embedTo(dst []float32, text string) []float32 {
	s := e.scratch.Get().(*refScratch)
	defer e.scratch.Put(s)
	ids := e.tok.encode(text, &s.tok)
	return e.embedIDs(dst[:Dim], ids, s)
}

// embedIDs runs the graph on one sequence of token ids.
func (e *refNetwork) embedIDs(dst []float32, ids []int32, s *refScratch) []float32 {
	// ClipToMaxLength keeps tokens whose position is < maxLen.
	n := min(len(ids), e.maxLen)
	s.ensure(max(n, 1), e.dMax, e.dFFMax)

	// Input: the graph adds the scattered embeddings to
	// (embeddings + timing signal), so each token row is 2·emb + timing.
	d := e.dEmb
	half := len(e.inv)
	for t := 0; t < n; t++ {
		row := s.x[t*d : (t+1)*d]
		em := e.emb[int(ids[t])*d : (int(ids[t])+1)*d]
		pos := float32(t)
		for i := 0; i < half; i++ {
			a := float64(pos * e.inv[i])
			row[i] = em[i] + (em[i] + float32(math.Sin(a)))
			row[half+i] = em[half+i] + (em[half+i] + float32(math.Cos(a)))
		}
	}

	for li := range e.layers {
		e.layer(&e.layers[li], n, s)
	}

	// Mean over valid tokens (the graph divides by max(length, 1)).
	dm := e.layers[len(e.layers)-1].dModel
	pooled := s.pooled[:dm]
	clear(pooled)
	for t := 0; t < n; t++ {
		refAxpy(pooled, s.x[t*dm:(t+1)*dm], 1)
	}
	inv := 1 / float32(max(n, 1))
	for i := range pooled {
		pooled[i] *= inv
	}

	// tanh projection and L2 normalisation: x * rsqrt(max(Σx², eps)).
	refLinear(dst, pooled, e.finW, e.finB, 1, dm, Dim)
	var ss float32
	for i, v := range dst {
		v = float32(math.Tanh(float64(v)))
		dst[i] = v
		ss += v * v
	}
	scale := float32(1 / math.Sqrt(float64(max(ss, e.l2eps))))
	for i := range dst {
		dst[i] *= scale
	}
	return dst
}

// layer applies one pre-norm transformer layer to s.x[:n*l.dIn], leaving
// the result in s.x[:n*l.dModel].
func (e *refNetwork) layer(l *refLayer, n int, s *refScratch) {
	din, dm := l.dIn, l.dModel
	x := s.x[:n*din]

	// Residual branch: a dense projection when the width changes.
	if l.resW != nil {
		refLinear(s.r[:n*dm], x, l.resW, l.resB, n, din, dm)
	}

	// Self-attention on the layer-normed input.
	h := s.h[:n*din]
	refLayerNorm(h, x, l.ln1Scale, l.ln1Bias, n, din, e.eps)
	qkv := s.wide[:n*3*din]
	refLinear(qkv, h, l.qkvW, l.qkvB, n, din, 3*din)
	refAttention(s.ctx[:n*din], qkv, s.probs[:n], n, din, l.heads, l.qscale)
	out := s.h[:n*dm]
	refLinear(out, s.ctx[:n*din], l.outW, l.outB, n, din, dm)
	if l.resW != nil {
		copy(s.x[:n*dm], s.r[:n*dm])
	}
	refAxpy(s.x[:n*dm], out, 1)

	// Feed-forward ("conv1"/"conv2" are 1×1 convolutions, i.e. dense).
	y := s.x[:n*dm]
	refLayerNorm(s.h[:n*dm], y, l.ln2Scale, l.ln2Bias, n, dm, e.eps)
	f := s.wide[:n*l.dFF]
	refLinear(f, s.h[:n*dm], l.ff1W, l.ff1B, n, dm, l.dFF)
	for i, v := range f {
		f[i] = max(v, 0)
	}
	refLinear(s.r[:n*dm], f, l.ff2W, l.ff2B, n, l.dFF, dm)
	refAxpy(y, s.r[:n*dm], 1)
}

// refLayerNorm normalises each of the n rows of x (width d) as TF's
// layer_prepostprocess does: (x-mean) * scale*rsqrt(var+eps) + bias.
func refLayerNorm(dst, x, scale, bias []float32, n, d int, eps float32) {
	scale, bias = scale[:d], bias[:d]
	for t := 0; t < n; t++ {
		row := x[t*d : (t+1)*d]
		out := dst[t*d : (t+1)*d]
		var sum float32
		for _, v := range row {
			sum += v
		}
		mean := sum / float32(d)
		var sq float32
		for _, v := range row {
			c := v - mean
			sq += c * c
		}
		rs := float32(1 / math.Sqrt(float64(sq/float32(d)+eps)))
		for i, v := range row {
			out[i] = scale[i]*rs*(v-mean) + bias[i]
		}
	}
}

// refAttention computes multi-head scaled dot-product self-attention. qkv rows
// hold [q | k | v] (each width d, split into heads); the result rows (width d)
// are the heads concatenated. A single unpadded sequence needs no mask.
func refAttention(dst, qkv, probs []float32, n, d, heads int, qscale float32) {
	dh := d / heads
	stride := 3 * d
	var qbuf [256]float32 // head dims here are 64 and 128
	q := qbuf[:dh]
	if dh > len(qbuf) {
		q = make([]float32, dh)
	}
	for hd := 0; hd < heads; hd++ {
		qo, ko, vo := hd*dh, d+hd*dh, 2*d+hd*dh
		for t := 0; t < n; t++ {
			for i, v := range qkv[t*stride+qo : t*stride+qo+dh] {
				q[i] = v * qscale
			}
			mx := float32(math.Inf(-1))
			for u := 0; u < n; u++ {
				sc := refDot(q, qkv[u*stride+ko:u*stride+ko+dh])
				probs[u] = sc
				mx = max(mx, sc)
			}
			var sum float32
			for u := 0; u < n; u++ {
				p := float32(math.Exp(float64(probs[u] - mx)))
				probs[u] = p
				sum += p
			}
			out := dst[t*d+hd*dh : t*d+hd*dh+dh]
			clear(out)
			inv := 1 / sum
			for u := 0; u < n; u++ {
				refAxpy(out, qkv[u*stride+vo:u*stride+vo+dh], probs[u]*inv)
			}
		}
	}
}

// refLinear computes dst[t][o] = b[o] + Σ_i x[t][i]·w[o][i] for n tokens, with
// gonum's assembly kernels.
func refLinear(dst, x, w, b []float32, n, in, out int) {
	dst, x, w, b = dst[:n*out], x[:n*in], w[:out*in], b[:out]
	for t := 0; t < n; t++ {
		copy(dst[t*out:(t+1)*out], b)
	}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: n, Cols: in, Stride: in, Data: x},
		blas32.General{Rows: out, Cols: in, Stride: in, Data: w},
		1, blas32.General{Rows: n, Cols: out, Stride: out, Data: dst})
}

// refDot returns Σ a[i]·b[i], unrolled by 4 with independent accumulators.
func refDot(a, b []float32) float32 {
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

// refAxpy computes y += alpha·x, unrolled by 4.
func refAxpy(y, x []float32, alpha float32) {
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
