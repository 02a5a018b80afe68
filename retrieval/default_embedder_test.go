package retrieval

import "storybot/retrieval/wordvec"

// The fit and the benchmarks run with the production default embedder.
func init() {
	e, err := wordvec.New()
	if err != nil {
		panic(err)
	}
	fitEmbedder = e
}
