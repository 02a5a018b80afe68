package retrieval

import (
	"os"
	"storybot/retrieval/encoder"
	"storybot/retrieval/wordvec"
)

// The fit and the benchmarks run with the production defaults: the word
// vectors for the vector leg, the sentence encoder for the answerer.
// STORYBOT_FIT_ENCODER=none leaves the encoder out, to fit pickerWeights.
func init() {
	e, err := wordvec.New()
	if err != nil {
		panic(err)
	}
	fitEmbedder = e
	enc, err := encoder.New()
	if err != nil {
		panic(err)
	}
	fitEncoder = enc
	if os.Getenv("STORYBOT_FIT_ENCODER") == "none" {
		fitEncoder = nil
	}
}
