package encoder

import (
	"fmt"
	"io"
	"math"
	"sync"
)

// Dim is the size of the output embedding.
const Dim = 512

// Many texts are encoded at once: the tokens of a group of texts are rows of
// one matrix, so each dense layer is one matrix product over all of them
// and its weights are read once per block of tokens instead of once per
// text. Attention, the only step that mixes tokens, stays per text.
const (
	groupTokens = 512 // rows of one group's activation matrices
	groupTexts  = 64  // texts in one group
)

// layer holds one transformer layer.
type layer struct {
	dIn, dModel, dFF int
	heads            int
	qscale           float32 // 1/sqrt(head dim), applied to q before q·k

	ln1Scale, ln1Bias []float32 // pre-attention layer norm (dIn)
	qkv               *qmatrix  // dIn → 3·dIn: q, k, v stacked
	out               *qmatrix  // dIn → dModel
	res               *qmatrix  // "AdjustResidualInput" dense dIn → dModel; nil = identity
	ln2Scale, ln2Bias []float32 // pre-FFN layer norm (dModel)
	ff1               *qmatrix  // dModel → dFF
	ff2               *qmatrix  // dFF → dModel
}

// network is the loaded transformer. It is safe for concurrent use.
type network struct {
	tok      *Tokenizer
	emb      []int8    // [vocab][dEmb], int8 per row
	embScale []float32 // [vocab]
	vocab    int
	dEmb     int
	timing   []float32 // [maxLen][dEmb]: the timing signal, sin half then cos half
	maxLen   int       // tokens at positions >= maxLen are dropped
	eps      float32   // layer-norm epsilon
	layers   []layer
	final    *qmatrix // tanh projection dModel → Dim
	l2eps    float32  // floor on the squared norm in the final L2 normalisation
	dMax     int      // widest activation row (for scratch sizing)
	dWide    int      // widest of 3·dIn and dFF
	inMax    int      // widest layer input

	scratch sync.Pool // *scratch
}

// loadNetwork reads a weights file written by Convert.
func loadNetwork(r io.Reader) (*network, error) {
	m, err := readModel(r)
	if err != nil {
		return nil, err
	}
	var missing []string
	get := func(name string, rows, cols int) *tensor {
		t := m.tensors[name]
		if t == nil || (rows >= 0 && t.rows != rows) || (cols >= 0 && t.cols != cols) {
			missing = append(missing, name)
			return nil
		}
		return t
	}
	vec := func(name string, n int) []float32 {
		if t := get(name, 1, n); t != nil {
			return t.floats()
		}
		return nil
	}
	scalar := func(name string) float32 {
		if d := vec(name, 1); d != nil {
			return d[0]
		}
		return 0
	}
	dense := func(w, b string, out, in int) *qmatrix {
		wt, bias := get(w, out, in), vec(b, out)
		if wt == nil || bias == nil {
			return nil
		}
		if out%panelWidth != 0 {
			missing = append(missing, w+fmt.Sprintf(" (%d outputs, not a multiple of %d)", out, panelWidth))
			return nil
		}
		q, scales := wt.int8Rows()
		return newQMatrix(q, scales, bias, out, in)
	}
	e := &network{tok: NewTokenizer(m.pieces, m.scores)}
	if t := m.tensors["emb"]; t != nil {
		e.emb, e.embScale = t.int8Rows()
		e.vocab, e.dEmb = t.rows, t.cols
		if t.rows < len(m.pieces) {
			return nil, fmt.Errorf("encoder: embedding table has %d rows for %d pieces", t.rows, len(m.pieces))
		}
	} else {
		missing = append(missing, "emb")
	}
	inv := vec("timing.inv", e.dEmb/2)
	e.maxLen = int(scalar("maxlen"))
	e.eps = scalar("ln.eps")
	e.l2eps = scalar("l2.eps")
	d := e.dEmb
	for _, p := range []string{"l0.", "l1."} {
		var l layer
		l.dIn = d
		l.heads = int(scalar(p + "heads"))
		l.qscale = scalar(p + "qscale")
		l.ln1Scale = vec(p+"ln1.scale", d)
		l.ln1Bias = vec(p+"ln1.bias", d)
		l.qkv = dense(p+"qkv.w", p+"qkv.b", 3*d, d)
		if t := m.tensors[p+"out.w"]; t != nil {
			l.dModel = t.rows
		}
		l.out = dense(p+"out.w", p+"out.b", l.dModel, d)
		if _, ok := m.tensors[p+"res.w"]; ok {
			l.res = dense(p+"res.w", p+"res.b", l.dModel, d)
		} else if l.dModel != d {
			return nil, fmt.Errorf("encoder: layer %s changes width without a residual projection", p)
		}
		l.ln2Scale = vec(p+"ln2.scale", l.dModel)
		l.ln2Bias = vec(p+"ln2.bias", l.dModel)
		if t := m.tensors[p+"ff1.w"]; t != nil {
			l.dFF = t.rows
		}
		l.ff1 = dense(p+"ff1.w", p+"ff1.b", l.dFF, l.dModel)
		l.ff2 = dense(p+"ff2.w", p+"ff2.b", l.dModel, l.dFF)
		if l.heads <= 0 || d%l.heads != 0 {
			return nil, fmt.Errorf("encoder: layer %s: %d heads do not divide %d", p, l.heads, d)
		}
		e.layers = append(e.layers, l)
		e.dMax = max(e.dMax, d, l.dModel)
		e.dWide = max(e.dWide, l.dFF, 3*d)
		e.inMax = max(e.inMax, d, l.dModel, l.dFF)
		d = l.dModel
	}
	e.final = dense("final.w", "final.b", Dim, d)
	if len(missing) > 0 {
		return nil, fmt.Errorf("encoder: weights file lacks or misshapes %v", missing)
	}
	if e.maxLen <= 0 || e.maxLen > groupTokens {
		return nil, fmt.Errorf("encoder: bad max length %d", e.maxLen)
	}
	// The timing signal depends on the position only: computed once.
	half := len(inv)
	e.timing = make([]float32, e.maxLen*e.dEmb)
	for t := 0; t < e.maxLen; t++ {
		pos := float32(t)
		row := e.timing[t*e.dEmb : (t+1)*e.dEmb]
		for i := 0; i < half; i++ {
			a := float64(pos * inv[i])
			row[i] = float32(math.Sin(a))
			row[half+i] = float32(math.Cos(a))
		}
	}
	e.scratch.New = func() any { return new(scratch) }
	return e, nil
}

// scratch holds one group's activations; reused through a sync.Pool so
// Embed does not allocate in steady state.
type scratch struct {
	tok   tokScratch
	ids   []int32 // the group's token ids, text after text
	start []int   // row of each text's first token, plus the end

	x, y, h, ctx, wide []float32 // [rows][width] activations
	apack              []float32 // one packed block of activations
	probs              []float32
	meanY, meanF       []float32 // per text: mean residual stream, mean FFN activation
	hidden             []float32 // per text: the tanh projection
}

// ensure sizes the buffers for rows token rows (rounded up to whole kernel
// blocks) and texts texts.
func (s *scratch) ensure(e *network, rows, texts int) {
	mr := kern.mr
	rows = max(mr, (rows+mr-1)/mr*mr)
	texts = max(mr, (texts+mr-1)/mr*mr)
	s.x = resize(s.x, rows*e.dMax)
	s.y = resize(s.y, rows*e.dMax)
	s.h = resize(s.h, rows*e.dMax)
	s.ctx = resize(s.ctx, rows*e.dMax)
	s.wide = resize(s.wide, rows*e.dWide)
	s.apack = resize(s.apack, mr*e.inMax)
	s.probs = resize(s.probs, e.maxLen)
	s.meanY = resize(s.meanY, texts*e.dMax)
	s.meanF = resize(s.meanF, texts*e.dWide)
	s.hidden = resize(s.hidden, texts*Dim)
}

// embedTo writes the embedding of text into dst[:Dim] and returns it.
func (e *network) embedTo(dst []float32, text string) []float32 {
	s := e.scratch.Get().(*scratch)
	defer e.scratch.Put(s)
	e.embedAll([][]float32{dst[:Dim]}, []string{text}, s)
	return dst[:Dim]
}

// embedAll writes the embedding of texts[i] into out[i][:Dim], tokenising
// the texts into groups of at most groupTokens tokens and groupTexts texts.
func (e *network) embedAll(out [][]float32, texts []string, s *scratch) {
	s.ids = s.ids[:0]
	s.start = append(s.start[:0], 0)
	first := 0
	for i, text := range texts {
		ids := e.tok.encode(text, &s.tok)
		// ClipToMaxLength keeps tokens whose position is < maxLen.
		ids = ids[:min(len(ids), e.maxLen)]
		if len(s.ids)+len(ids) > groupTokens || i-first == groupTexts {
			e.embedGroup(out[first:i], s)
			s.ids = s.ids[:0]
			s.start = append(s.start[:0], 0)
			first = i
		}
		s.ids = append(s.ids, ids...)
		s.start = append(s.start, len(s.ids))
	}
	if first < len(texts) {
		e.embedGroup(out[first:], s)
	}
}

// embedGroup runs the graph on the texts tokenised in s.ids (text i's
// tokens are s.ids[s.start[i]:s.start[i+1]]), writing one unit vector into
// each dst[i][:Dim].
func (e *network) embedGroup(dst [][]float32, s *scratch) {
	n := len(s.ids)
	s.ensure(e, n, len(dst))

	// Input: the graph adds the scattered embeddings to
	// (embeddings + timing signal), so each token row is 2·emb + timing.
	d := e.dEmb
	for i := range dst {
		for t := s.start[i]; t < s.start[i+1]; t++ {
			id := int(s.ids[t])
			row := s.x[t*d : (t+1)*d]
			em := e.emb[id*d : (id+1)*d]
			sc := e.embScale[id]
			tim := e.timing[(t-s.start[i])*d : (t-s.start[i]+1)*d]
			for j, q := range em {
				v := float32(q) * sc
				row[j] = v + (v + tim[j])
			}
		}
	}

	x, y := s.x, s.y
	for li := range e.layers {
		l := &e.layers[li]
		x, y = e.layer(l, n, x, y, s, li == len(e.layers)-1), x
	}

	// Mean over each text's tokens (the graph divides by max(length, 1)),
	// then the tanh projection and L2 normalisation x·rsqrt(max(Σx², eps)).
	// The last layer left meanY + ff2(meanF) in s.meanY: the mean commutes
	// with the last dense layer, so that ran once per text, not per token.
	linear(s.hidden, Dim, s.meanY, len(dst), e.final, kernelStore, s.apack)
	for i := range dst {
		v := s.hidden[i*Dim : (i+1)*Dim]
		out := dst[i][:Dim]
		var ss float32
		for j, x := range v {
			x = float32(math.Tanh(float64(x)))
			out[j] = x
			ss += x * x
		}
		scale := float32(1 / math.Sqrt(float64(max(ss, e.l2eps))))
		for j := range out {
			out[j] *= scale
		}
	}
}

// layer applies one pre-norm transformer layer to the n rows of x (width
// l.dIn) and returns the rows of the result (width l.dModel): y, or x
// itself when the width does not change. The last layer leaves, instead,
// each text's mean output row in s.meanY.
func (e *network) layer(l *layer, n int, x, y []float32, s *scratch, last bool) []float32 {
	din, dm := l.dIn, l.dModel
	texts := len(s.start) - 1

	// Residual branch: a dense projection when the width changes.
	if l.res != nil {
		linear(y, dm, x, n, l.res, kernelStore, s.apack)
	} else {
		y = x
	}

	// Self-attention on the layer-normed input, one text at a time.
	layerNorm(s.h, x, l.ln1Scale, l.ln1Bias, n, din, e.eps)
	linear(s.wide, 3*din, s.h, n, l.qkv, kernelStore, s.apack)
	for i := 0; i < texts; i++ {
		a, b := s.start[i], s.start[i+1]
		attention(s.ctx[a*din:b*din], s.wide[a*3*din:b*3*din], s.probs, b-a, din, l.heads, l.qscale)
	}
	linear(y, dm, s.ctx, n, l.out, kernelAdd, s.apack)

	// Feed-forward ("conv1"/"conv2" are 1×1 convolutions, i.e. dense).
	layerNorm(s.h, y, l.ln2Scale, l.ln2Bias, n, dm, e.eps)
	f := s.wide
	linear(f, l.dFF, s.h, n, l.ff1, kernelReLU, s.apack)
	if !last {
		linear(y, dm, f, n, l.ff2, kernelAdd, s.apack)
		return y
	}
	// mean(y + ff2(f)) = mean(y) + ff2(mean(f)), ff2 being affine; an
	// empty text has no rows and a zero mean, bias included.
	meanRows(s.meanY, y, s.start, dm)
	meanRows(s.meanF, f, s.start, l.dFF)
	linear(s.meanY, dm, s.meanF, texts, l.ff2, kernelAdd, s.apack)
	for i := 0; i < texts; i++ {
		if s.start[i] == s.start[i+1] {
			clear(s.meanY[i*dm : (i+1)*dm])
		}
	}
	return y
}

// meanRows writes into dst[i] (width d) the mean of rows start[i] to
// start[i+1] of x, or zeros for none.
func meanRows(dst, x []float32, start []int, d int) {
	for i := 0; i+1 < len(start); i++ {
		out := dst[i*d : (i+1)*d]
		clear(out)
		a, b := start[i], start[i+1]
		for t := a; t < b; t++ {
			axpy(out, x[t*d:(t+1)*d], 1)
		}
		inv := 1 / float32(max(b-a, 1))
		for j := range out {
			out[j] *= inv
		}
	}
}

// layerNorm normalises each of the n rows of x (width d) as TF's
// layer_prepostprocess does: (x-mean) * scale*rsqrt(var+eps) + bias.
func layerNorm(dst, x, scale, bias []float32, n, d int, eps float32) {
	scale, bias = scale[:d], bias[:d]
	for t := 0; t < n; t++ {
		row := x[t*d : (t+1)*d]
		out := dst[t*d : (t+1)*d]
		mean := sum4(row, 0, false) / float32(d)
		rs := float32(1 / math.Sqrt(float64(sum4(row, mean, true)/float32(d)+eps)))
		for i, v := range row {
			out[i] = scale[i]*rs*(v-mean) + bias[i]
		}
	}
}

// sum4 returns Σ x[i] - c, or Σ (x[i] - c)² when squared, with four
// independent accumulators.
func sum4(x []float32, c float32, squared bool) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, e, f := x[i]-c, x[i+1]-c, x[i+2]-c, x[i+3]-c
		if squared {
			a, b, e, f = a*a, b*b, e*e, f*f
		}
		s0, s1, s2, s3 = s0+a, s1+b, s2+e, s3+f
	}
	for ; i < len(x); i++ {
		a := x[i] - c
		if squared {
			a *= a
		}
		s0 += a
	}
	return (s0 + s1) + (s2 + s3)
}

// attention computes multi-head scaled dot-product self-attention over
// one text's n tokens. qkv rows hold [q | k | v] (each width d, split into
// heads); the result rows (width d) are the heads concatenated.
func attention(dst, qkv, probs []float32, n, d, heads int, qscale float32) {
	dh := d / heads
	stride := 3 * d
	var qbuf [256]float32 // head dims here are 64 and 128
	q := qbuf[:dh]
	if dh > len(qbuf) {
		q = make([]float32, dh)
	}
	probs = probs[:n]
	k := kern
	for hd := 0; hd < heads; hd++ {
		qo, ko, vo := hd*dh, d+hd*dh, 2*d+hd*dh
		for t := 0; t < n; t++ {
			for i, v := range qkv[t*stride+qo : t*stride+qo+dh] {
				q[i] = v * qscale
			}
			k.dots(probs, q, qkv[ko:], stride, n)
			mx := float32(math.Inf(-1))
			for _, sc := range probs {
				mx = max(mx, sc)
			}
			var sum float32
			for u, sc := range probs {
				p := float32(math.Exp(float64(sc - mx)))
				probs[u] = p
				sum += p
			}
			inv := 1 / sum
			for u := range probs {
				probs[u] *= inv
			}
			k.wsum(dst[t*d+hd*dh:t*d+hd*dh+dh], probs, qkv[vo:], stride)
		}
	}
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
