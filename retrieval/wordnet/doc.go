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
// common senses (tagged in SemCor, and the first; at most two per part of
// speech), without names. Words must be single lower-case tokens;
// upper-case ASCII is folded.
//
// What it is worth, measured by this package's tests on data we did not
// write (../shared/eval): on XQuAD's odd-numbered articles, a question word
// missing from a sentence is linked to one of its words 2.2 times as often
// in the answer's sentence as in the paragraph's others by a synonym, 3.2
// times by a derivation, 2.1 by a hyponym, 1.3 by a hypernym and 1.4 by a
// coordinate term (TestLinksFavourAnswerSentences). On SQuAD 2.0's even dev
// articles, the best-matching sentence holds the antonym of a question word
// it lacks for 6.6% of unanswerable questions and 0.7% of answerable ones
// (TestAntonymsMarkUnanswerable). Whether that improves answers is for
// storybot eval to say.
//
// Cost, measured on the shared 2-core development machine, medians of 8
// runs of `go test -run '^$' -bench . -benchmem -count 8` under load from
// other jobs:
//
//   - the table is 982,675 bytes gzipped (1,865,692 raw); the storybot
//     binary grows by 1,003,136 bytes (2.9%) when it links the package;
//   - the first call decodes it: 0.13 s (fastest run 0.07 s, BenchmarkLoad),
//     after which it holds 10.7 MB of heap for the life of the process and
//     never more: it is a fixed table, not a cache;
//   - then Lemma takes 0.6 µs, Similar 1.3 µs without allocating, Related
//     0.7 to 1.7 µs (4.9 µs for Coordinate) and Links 48 µs.
//
// All functions are safe for concurrent use.
package wordnet
