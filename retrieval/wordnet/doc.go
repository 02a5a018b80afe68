// Package wordnet gives storybot offline paraphrase knowledge from WordNet
// 3.0: which words mean the same ("backs", "supports"), derive from one
// another ("supporter", "support"), name a class of one another ("strike",
// "attack"), share a narrow class ("bombing", "strike"), or are opposites
// ("official", "unofficial"); and the base forms of inflected words
// ("went" → "go"), by WordNet's own morphy.
//
// It is for matching a question to a sentence that says the same thing in
// other words, and for noticing a sentence that says the opposite. The
// links are WordNet's, for any sense of either word, so they are hints to
// weigh (partial credit, a feature for a fitted rule), never proof that two
// words mean the same in a given sentence: "hit" is a synonym of "strike"
// as a blow and as a success.
//
// The table (wordnet.bin.gz, see LICENSE-WordNet.md and ./internal/gen) holds
// the single-word, lower-case lemmas storybot's tokeniser can produce, their
// common senses (tagged in SemCor, and the first), without names. Words
// must be single lower-case tokens; upper-case ASCII is folded.
//
// Cost, measured on the 2-core development machine (see bench_test.go):
//
//   - the table is 1,008,830 bytes gzipped (1,897,496 raw); the storybot
//     binary grows by 1,031,456 bytes (3.0%) when it links the package;
//   - the first call decodes it: about 65 ms (median of 5, BenchmarkLoad),
//     after which it holds 9.6 MB of heap, for the life of the process and
//     never more: it is a fixed table, not a cache;
//   - then Lemma takes about 0.4 µs, Related 0.4 to 0.9 µs (7 µs for
//     Coordinate), Similar about 1.4 µs and does not allocate.
//
// All functions are safe for concurrent use.
package wordnet
