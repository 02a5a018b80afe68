package eval

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"testing"

	"storybot/retrieval"
)

// sentenceVectors holds the sentence encoder's vectors for the sentences
// of the quality test's sample, so that test takes seconds under -race,
// where the encoder needs about 50 ms a sentence. Rewrite it after changing
// the encoder, the splitter or the sample:
//
//	STORYBOT_WRITE_VECTORS=1 go test ./eval -run TestQualityDoesNotRegress
//
// A vector the file lacks, or one from other weights, is computed by the
// encoder: a stale file makes the test slower, never wrong.
const sentenceVectors = "testdata/sentence-vectors.bin.gz"

const vectorsMagic = "SBVEC1\n"

// seedVectors loads the file into a cache for encoder id. It returns the
// number of vectors loaded.
func seedVectors(t *testing.T, c *retrieval.EmbeddingCache, id string) int {
	t.Helper()
	f, err := os.Open(sentenceVectors)
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("%s is missing: the encoder computes every vector", sentenceVectors)
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, fileID, err := readVectors(f)
	if err != nil {
		t.Fatalf("%s: %v", sentenceVectors, err)
	}
	if fileID != id {
		t.Logf("%s holds vectors of %s, not %s: the encoder computes every vector; rewrite the file", sentenceVectors, fileID, id)
		return 0
	}
	c.Put(entries...)
	return len(entries)
}

// readVectors reads gzip(magic, id, count, then per vector the text's
// sha256, its int8 scale and the int8 components).
func readVectors(r io.Reader) ([]retrieval.CachedVector, string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, "", err
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, len(vectorsMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != vectorsMagic {
		return nil, "", fmt.Errorf("not a vectors file")
	}
	var id string
	var n, dims uint32
	var idLen uint16
	if err := binary.Read(br, binary.LittleEndian, &idLen); err != nil {
		return nil, "", err
	}
	idBytes := make([]byte, idLen)
	if _, err := io.ReadFull(br, idBytes); err != nil {
		return nil, "", err
	}
	id = string(idBytes)
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
		return nil, "", err
	}
	if err := binary.Read(br, binary.LittleEndian, &dims); err != nil {
		return nil, "", err
	}
	out := make([]retrieval.CachedVector, n)
	row := make([]byte, dims)
	for i := range out {
		e := &out[i]
		e.Embedder = id
		var scale float32
		if _, err := io.ReadFull(br, e.TextHash[:]); err != nil {
			return nil, "", err
		}
		if err := binary.Read(br, binary.LittleEndian, &scale); err != nil {
			return nil, "", err
		}
		if _, err := io.ReadFull(br, row); err != nil {
			return nil, "", err
		}
		e.Vector = make([]float32, dims)
		for k, b := range row {
			e.Vector[k] = float32(int8(b)) * scale
		}
	}
	return out, id, nil
}

// writeVectors writes the cache's vectors from encoder id, each quantised to
// int8 with its own scale (cosine to the original above 0.9999).
func writeVectors(path string, c *retrieval.EmbeddingCache, id string) (int, error) {
	var entries []retrieval.CachedVector
	for _, e := range c.Entries() {
		if e.Embedder == id {
			entries = append(entries, e)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	zw := gzip.NewWriter(f)
	bw := bufio.NewWriter(zw)
	bw.WriteString(vectorsMagic)
	binary.Write(bw, binary.LittleEndian, uint16(len(id)))
	bw.WriteString(id)
	binary.Write(bw, binary.LittleEndian, uint32(len(entries)))
	binary.Write(bw, binary.LittleEndian, uint32(len(entries[0].Vector)))
	for _, e := range entries {
		peak := float32(0)
		for _, v := range e.Vector {
			peak = max(peak, float32(math.Abs(float64(v))))
		}
		scale := peak / 127
		bw.Write(e.TextHash[:])
		binary.Write(bw, binary.LittleEndian, scale)
		for _, v := range e.Vector {
			q := 0.0
			if scale > 0 {
				q = math.Round(float64(v / scale))
			}
			bw.WriteByte(byte(int8(q)))
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return 0, err
	}
	return len(entries), f.Close()
}

// checkAgainstEncoder recomputes a few stored vectors, so a file written by
// other code under the same encoder ID cannot go unnoticed.
func checkAgainstEncoder(t *testing.T, c *retrieval.EmbeddingCache, enc retrieval.Embedder, texts []string) {
	t.Helper()
	live, err := enc.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[[sha256.Size]byte]int{}
	for i, s := range texts {
		hashes[sha256.Sum256([]byte(s))] = i
	}
	checked := 0
	for _, e := range c.Entries() {
		i, ok := hashes[e.TextHash]
		if !ok || e.Embedder != enc.ID() {
			continue
		}
		var ab, aa, bb float64
		for k := range e.Vector {
			ab += float64(e.Vector[k]) * float64(live[i][k])
			aa += float64(e.Vector[k]) * float64(e.Vector[k])
			bb += float64(live[i][k]) * float64(live[i][k])
		}
		if cos := ab / math.Sqrt(aa*bb); cos < 0.999 {
			t.Errorf("stored vector for %q has cosine %.4f to the encoder's; rewrite %s", texts[i], cos, sentenceVectors)
		}
		checked++
	}
	if checked == 0 {
		t.Errorf("none of %d sample sentences has a stored vector", len(texts))
	}
}
