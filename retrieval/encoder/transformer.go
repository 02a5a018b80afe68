package encoder

import (
	"fmt"
	"io"
	"math"
	"sync"
)

// Dim is the size of the output embedding.
const Dim = 512

// layer holds one transformer layer, matrices stored [out][in].
type layer struct {
	dIn, dModel, dFF int
	heads            int
	qscale           float32 // 1/sqrt(head dim), applied to q before q·k

	ln1Scale, ln1Bias []float32 // pre-attention layer norm (dIn)
	qkvW, qkvB        []float32 // [3*dIn][dIn]: q, k, v stacked
	outW, outB        []float32 // [dModel][dIn]
	resW, resB        []float32 // "AdjustResidualInput" dense [dModel][dIn]; nil = identity
	ln2Scale, ln2Bias []float32 // pre-FFN layer norm (dModel)
	ff1W, ff1B        []float32 // [dFF][dModel]
	ff2W, ff2B        []float32 // [dModel][dFF]
}

// network is the loaded transformer. It is safe for concurrent use.
type network struct {
	tok    *Tokenizer
	emb    []float32 // [vocab][dEmb]
	dEmb   int
	inv    []float32 // timing-signal inverse timescales (dEmb/2)
	maxLen int       // tokens at positions >= maxLen are dropped
	eps    float32   // layer-norm epsilon
	layers []layer
	finW   []float32 // tanh projection [Dim][dModel]
	finB   []float32
	l2eps  float32 // floor on the squared norm in the final L2 normalisation
	dMax   int     // widest activation row (for scratch sizing)
	dFFMax int

	scratch sync.Pool // *scratch
}

// loadNetwork reads a weights file written by Convert.
func loadNetwork(r io.Reader) (*network, error) {
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
		return t.data
	}
	scalar := func(name string) float32 {
		if d := get(name, 1, 1); d != nil {
			return d[0]
		}
		return 0
	}
	e := &network{tok: NewTokenizer(m.pieces, m.scores)}
	if t := m.tensors["emb"]; t != nil {
		e.emb, e.dEmb = t.data, t.cols
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
		var l layer
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
			return nil, fmt.Errorf("encoder: layer %s changes width without a residual projection", p)
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
			return nil, fmt.Errorf("encoder: layer %s: %d heads do not divide %d", p, l.heads, d)
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
	e.scratch.New = func() any { return new(scratch) }
	return e, nil
}

// scratch holds all per-call activations; reused through a sync.Pool so
// Embed does not allocate in steady state.
type scratch struct {
	tok                tokScratch
	x, h, r, ctx, wide []float32
	probs              []float32
	pooled, hidden     []float32
}

func (s *scratch) ensure(n, dMax, dWide int) {
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
func (e *network) embedTo(dst []float32, text string) []float32 {
	s := e.scratch.Get().(*scratch)
	defer e.scratch.Put(s)
	ids := e.tok.encode(text, &s.tok)
	return e.embedIDs(dst[:Dim], ids, s)
}

// embedIDs runs the graph on one sequence of token ids.
func (e *network) embedIDs(dst []float32, ids []int32, s *scratch) []float32 {
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
		axpy(pooled, s.x[t*dm:(t+1)*dm], 1)
	}
	inv := 1 / float32(max(n, 1))
	for i := range pooled {
		pooled[i] *= inv
	}

	// tanh projection and L2 normalisation: x * rsqrt(max(Σx², eps)).
	linear(dst, pooled, e.finW, e.finB, 1, dm, Dim)
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
func (e *network) layer(l *layer, n int, s *scratch) {
	din, dm := l.dIn, l.dModel
	x := s.x[:n*din]

	// Residual branch: a dense projection when the width changes.
	if l.resW != nil {
		linear(s.r[:n*dm], x, l.resW, l.resB, n, din, dm)
	}

	// Self-attention on the layer-normed input.
	h := s.h[:n*din]
	layerNorm(h, x, l.ln1Scale, l.ln1Bias, n, din, e.eps)
	qkv := s.wide[:n*3*din]
	linear(qkv, h, l.qkvW, l.qkvB, n, din, 3*din)
	attention(s.ctx[:n*din], qkv, s.probs[:n], n, din, l.heads, l.qscale)
	out := s.h[:n*dm]
	linear(out, s.ctx[:n*din], l.outW, l.outB, n, din, dm)
	if l.resW != nil {
		copy(s.x[:n*dm], s.r[:n*dm])
	}
	axpy(s.x[:n*dm], out, 1)

	// Feed-forward ("conv1"/"conv2" are 1×1 convolutions, i.e. dense).
	y := s.x[:n*dm]
	layerNorm(s.h[:n*dm], y, l.ln2Scale, l.ln2Bias, n, dm, e.eps)
	f := s.wide[:n*l.dFF]
	linear(f, s.h[:n*dm], l.ff1W, l.ff1B, n, dm, l.dFF)
	for i, v := range f {
		f[i] = max(v, 0)
	}
	linear(s.r[:n*dm], f, l.ff2W, l.ff2B, n, l.dFF, dm)
	axpy(y, s.r[:n*dm], 1)
}

// layerNorm normalises each of the n rows of x (width d) as TF's
// layer_prepostprocess does: (x-mean) * scale*rsqrt(var+eps) + bias.
func layerNorm(dst, x, scale, bias []float32, n, d int, eps float32) {
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

// attention computes multi-head scaled dot-product self-attention. qkv rows
// hold [q | k | v] (each width d, split into heads); the result rows (width d)
// are the heads concatenated. A single unpadded sequence needs no mask.
func attention(dst, qkv, probs []float32, n, d, heads int, qscale float32) {
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
				sc := dot(q, qkv[u*stride+ko:u*stride+ko+dh])
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
				axpy(out, qkv[u*stride+vo:u*stride+vo+dh], probs[u]*inv)
			}
		}
	}
}
