package retrieval

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQuantisedCosine: the int8 rows' cosine with a float32 question stays
// within 0.003 of the float32 cosine at the models' dimensions, zero rows give 0, and a row read back
// is within half a step of what was stored.
func TestQuantisedCosine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dims := range []int{3, 100, 512} {
		vecs := make([][]float32, 200)
		for i := range vecs {
			vecs[i] = make([]float32, dims)
			for k := range vecs[i] {
				vecs[i][k] = float32(r.NormFloat64())
			}
		}
		vecs[7] = make([]float32, dims) // a zero vector
		b, ok := quantiseRows(vecs)
		if !ok {
			t.Fatal("quantiseRows refused equal dimensions")
		}
		worst := 0.0
		for i, v := range vecs {
			q := vecs[(i+1)%len(vecs)]
			got, want := b.cosine(i, q), cosine(q, v)
			worst = max(worst, math.Abs(got-want))
			back := b.vector(i)
			for k := range v {
				if d := math.Abs(float64(back[k] - v[k])); d > float64(b.scale[i])/2*1.0001 {
					t.Fatalf("dims %d row %d: component %d came back %v for %v", dims, i, k, back[k], v[k])
				}
			}
		}
		if bound := 0.003; dims >= 100 && worst > bound || worst > 0.02 {
			t.Errorf("dims %d: cosine off by up to %.4f", dims, worst)
		}
		if c := b.cosine(7, vecs[0]); c != 0 {
			t.Errorf("zero row: cosine %v", c)
		}
	}
	if _, ok := quantiseRows([][]float32{{1, 2}, {1, 2, 3}}); ok {
		t.Error("quantiseRows took vectors of different lengths")
	}
}

// TestNibbleRows: a 4-bit row keeps its vector's direction (cosine ≥ 0.99
// with the float32 vector at the encoder's 512 dimensions, on average),
// its cosine with a question stays near the float32 one, and it survives
// the int8 form it is saved in (export, packNibbles) bit for bit.
func TestNibbleRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dims := range []int{5, 512} {
		vecs := make([][]float32, 200)
		for i := range vecs {
			vecs[i] = make([]float32, dims)
			for k := range vecs[i] {
				vecs[i][k] = float32(r.NormFloat64())
			}
		}
		vecs[3] = make([]float32, dims) // a zero vector
		b := qrows{dims: dims, nib: true, scale: make([]float32, len(vecs))}
		b.q = make([]int8, b.stride()*len(vecs))
		for i, v := range vecs {
			b.set(i, v)
		}
		self, worst := 0.0, 0.0
		for i, v := range vecs {
			if i == 3 {
				continue
			}
			self += cosine(b.vector(i), v) / float64(len(vecs)-1)
			q := vecs[(i+1)%len(vecs)]
			worst = max(worst, math.Abs(b.cosine(i, q)-cosine(q, v)))
			acc := make([]float32, dims)
			b.addTo(acc, i)
			if c := cosine(acc, b.vector(i)); c < 0.99999 {
				t.Fatalf("dims %d row %d: addTo gives cosine %v with vector", dims, i, c)
			}
		}
		if dims == 512 && (self < 0.99 || worst > 0.02) {
			t.Errorf("dims %d: mean cosine with the float32 vector %.4f, question cosine off by up to %.4f", dims, self, worst)
		}
		t.Logf("dims %d: mean self-cosine %.4f, worst question-cosine error %.4f", dims, self, worst)
		if c := b.cosine(3, vecs[0]); c != 0 {
			t.Errorf("zero row: cosine %v", c)
		}
		saved := b.export()
		if !saved.valid() {
			t.Fatalf("dims %d: exported block invalid", dims)
		}
		back := packNibbles(saved.Dims, saved.Values, saved.Scale)
		if !slices.Equal(back.q, b.q) || !slices.Equal(back.scale, b.scale) {
			t.Errorf("dims %d: a saved nibble block does not read back as it was", dims)
		}
		// An int8 block (a cache file written before nibbles) packs into
		// rows close to quantising the float32 vectors directly.
		i8, _ := quantiseRows(vecs)
		old := packNibbles(dims, i8.q, i8.scale)
		for i, v := range vecs {
			if i != 3 && cosine(old.vector(i), v) < 0.97 {
				t.Errorf("dims %d row %d: int8 row packed to cosine %.4f", dims, i, cosine(old.vector(i), v))
			}
		}
	}
}
