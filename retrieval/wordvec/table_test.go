package wordvec

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// resum rewrites b's trailing checksum, to test the checks behind it.
func resum(b []byte) []byte {
	body := b[:len(b)-4]
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// TestGeneratorRoundTrip converts a tiny wink-format JSON with the real
// generator and parses the result, so the writer and parseTable cannot
// drift apart.
func TestGeneratorRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs ./internal/gen")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	const dims = 4
	words := []string{"the", ",", "of", "Upper", "don't", "al-qaeda", "-", "cats", "dogs", "f-16", "x"}
	vectors := map[string][]float64{}
	for i, w := range words {
		v := make([]float64, dims+2)
		for j := range dims {
			v[j] = math.Sin(float64(i*dims+j+1)) * float64(j+1)
		}
		v[dims] = 1 // the norm slot; the generator ignores it
		v[dims+1] = float64(i)
		vectors[w] = v
	}
	src, err := json.Marshal(map[string]any{
		"precision": 8, "l2NormIndex": dims, "wordIndex": dims + 1,
		"size": len(words), "dimensions": dims, "words": words,
		"vectors": vectors, "unkVector": make([]float64, dims+2),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.bin")
	if err := os.WriteFile(in, src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "run", "./internal/gen", "-in", in, "-out", out, "-n", "5", "-pcs", "2")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := parseTable(b)
	if err != nil {
		t.Fatal(err)
	}
	// Punctuation, upper case and apostrophes can never be looked up.
	if want := []string{"the", "of", "al-qaeda", "cats", "dogs"}; !slices.Equal(tb.words, want) {
		t.Errorf("words %q, want %q", tb.words, want)
	}
	if want := []int32{1, 3, 6, 8, 9}; !slices.Equal(tb.ranks, want) {
		t.Errorf("ranks %v, want %v", tb.ranks, want)
	}
	if tb.dims != dims || tb.ncomp != 2 || tb.sifA != 3e-4 {
		t.Errorf("dims %d, components %d, a %g", tb.dims, tb.ncomp, tb.sifA)
	}
	for i, w := range tb.words {
		// Undo the SIF weight to recover the quantisation scale.
		scale := float64(tb.weight[i]) / sifWeight(tb.sifA, tb.zipfH, tb.ranks[i])
		for j, q := range tb.row(int32(i)) {
			got, want := float64(int8(q))*scale, vectors[w][j]
			if math.Abs(got-want) > 0.5*scale*1.001 {
				t.Errorf("%s[%d] = %v, want %v ± half a step (%v)", w, j, got, want, scale/2)
			}
		}
	}
}
