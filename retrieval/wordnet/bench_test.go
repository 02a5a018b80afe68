package wordnet

import (
	"runtime"
	"testing"
)

// BenchmarkLoad decodes the embedded table, as the first call does, and
// reports the heap the decoded table holds (heap-MB: live bytes after GC
// with the table reachable, minus before).
func BenchmarkLoad(b *testing.B) {
	var keep *table
	for b.Loop() {
		t, err := parseTable(tableData)
		if err != nil {
			b.Fatal(err)
		}
		keep = t
	}
	b.StopTimer()
	keep = nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	keep, _ = parseTable(tableData)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(keep)
}

// benchWords are question and sentence words of the kinds storybot sees:
// inflected, common, a name WordNet does not know.
var benchWords = []string{"supports", "strikes", "military", "cartels", "favors", "official", "reporters", "position", "hitting", "miller", "went", "deputy"}

func BenchmarkRelated(b *testing.B) {
	if err := Load(); err != nil {
		b.Fatal(err)
	}
	for _, rel := range []Relation{Synonym, Derivation, Hypernym, Coordinate} {
		b.Run(rel.String(), func(b *testing.B) {
			i := 0
			for b.Loop() {
				Related(benchWords[i%len(benchWords)], rel)
				i++
			}
		})
	}
}

func BenchmarkSimilar(b *testing.B) {
	if err := Load(); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		Similar(benchWords[i%len(benchWords)], benchWords[(i/len(benchWords))%len(benchWords)])
		i++
	}
}

func BenchmarkLemma(b *testing.B) {
	if err := Load(); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		Lemma(benchWords[i%len(benchWords)])
		i++
	}
}

func BenchmarkLinks(b *testing.B) {
	if err := Load(); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		Links(benchWords[i%len(benchWords)])
		i++
	}
}
