package retrieval

import (
	"math"
	"math/rand/v2"
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
