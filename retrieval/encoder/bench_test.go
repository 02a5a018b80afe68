package encoder

// Benchmarks of the encoder against the reference, side by side.

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// benchSentences returns n sentences of real length: the built-in story's
// and some of our own, repeated in turn.
func benchSentences(b *testing.B, n int) []string {
	raw, err := os.ReadFile("../../knowledge/default/cartel-strikes.txt")
	if err != nil {
		b.Fatal(err)
	}
	body := string(raw)
	if i := strings.Index(body[3:], "\n---\n"); strings.HasPrefix(body, "---\n") && i >= 0 {
		body = body[3+i+5:] // drop the front matter
	}
	var pool []string
	for _, s := range regexp.MustCompile(`[^.!?]+[.!?]+["”]?`).FindAllString(body, -1) {
		if s = strings.TrimSpace(s); strings.Count(s, " ") >= 3 && !strings.HasPrefix(s, "©") {
			pool = append(pool, s)
		}
	}
	pool = append(pool, ownSentences...)
	out := make([]string, n)
	for i := range out {
		out[i] = pool[i%len(pool)]
	}
	return out
}

// ownSentences are written for the benchmark: news-like, 8 to 45 words.
var ownSentences = []string{
	"The city council voted on Tuesday to extend the night bus service until two in the morning.",
	"Officials said the bridge would stay closed for repairs through the end of next month.",
	"Farmers in the valley reported the driest spring in forty years, and many have already sold part of their herds to cover the cost of feed.",
	"The company's shares fell by nine percent after it warned that sales in Asia would be lower than expected.",
	"Who will pay for the new stadium remains unclear.",
	"A spokesperson for the ministry declined to comment on the report, saying only that an investigation was under way and that its findings would be published in full once it was complete.",
	"Rescue teams reached the village late on Sunday.",
	"The museum, which reopened in March after a two-year renovation, has drawn more than three hundred thousand visitors, twice the number it expected, and has extended its opening hours on weekends.",
	"Scientists at the university found that the bacteria survived for weeks in cold, salty water.",
	"Negotiators from both sides met for eleven hours but failed to agree on the timetable for the withdrawal of troops from the border region.",
	"Prices for rice and cooking oil rose sharply in the capital's markets this week.",
	"The coach said his team had played its best football of the season, even though it lost the match in the final minute to a penalty that he described as harsh.",
	"Under the new rules, landlords must give tenants at least six months' notice before raising the rent.",
	"The storm knocked out power to some forty thousand homes along the coast.",
	"Local historians believe the ship sank in 1854 while carrying timber and wool to Liverpool.",
	"Voters will be asked in November whether the state should borrow two billion dollars to build new schools, roads and water treatment plants over the next decade.",
}

// embedImpl is one implementation of Embed, for the benchmarks.
type embedImpl struct {
	name  string
	embed func(context.Context, []string) ([][]float32, error)
}

func implementations(b *testing.B) []embedImpl {
	return []embedImpl{{"reference", newReference(b).embed}, {"batched", newEncoder(b).Embed}}
}

// BenchmarkEmbedSentences encodes 256 sentences of real length through
// Embed, with the reference (the encoder before issue 14) and the batched
// int8 kernel. "side-by-side" runs both in turn in every iteration, so both
// see the same machine (it is shared), and reports each one's wall and CPU
// time per text and the ratios; "reference" and "batched" run one each,
// for benchstat. Run with -cpu 1 for one core, -cpu 2 to let both use two:
//
//	go test ./retrieval/encoder -run XXX -bench EmbedSentences -cpu 1,2 -count 5
func BenchmarkEmbedSentences(b *testing.B) {
	texts := benchSentences(b, 256)
	tokens := 0
	tok := newEncoder(b).net.tok
	for _, s := range texts {
		tokens += min(len(tok.Encode(s)), 128)
	}
	b.Logf("%d sentences, %.1f tokens each on average", len(texts), float64(tokens)/float64(len(texts)))
	benchImplementations(b, texts)
}

// BenchmarkEmbedQuestion encodes one 10-word question, the /ask path, in
// the same way.
func BenchmarkEmbedQuestion(b *testing.B) {
	benchImplementations(b, []string{benchQuestion})
}

func benchImplementations(b *testing.B, texts []string) {
	ctx := context.Background()
	impls := implementations(b)
	b.Run("side-by-side", func(b *testing.B) {
		var wall, cpu [2]int64
		for b.Loop() {
			for i, im := range impls {
				t0, c0 := time.Now(), processCPU()
				if _, err := im.embed(ctx, texts); err != nil {
					b.Fatal(err)
				}
				wall[i] += time.Since(t0).Nanoseconds()
				cpu[i] += processCPU() - c0
			}
		}
		per := float64(b.N * len(texts))
		b.ReportMetric(float64(wall[0])/per, "ref-ns/text")
		b.ReportMetric(float64(wall[1])/per, "batched-ns/text")
		b.ReportMetric(float64(cpu[0])/per, "ref-cpu-ns/text")
		b.ReportMetric(float64(cpu[1])/per, "batched-cpu-ns/text")
		b.ReportMetric(float64(wall[0])/float64(wall[1]), "speedup")
		b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "cpu-speedup")
	})
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := im.embed(ctx, texts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/text")
		})
	}
}

// BenchmarkLoad decodes the embedded weights into each implementation and
// reports the heap the loaded network keeps (MB, after a GC).
func BenchmarkLoad(b *testing.B) {
	for _, bc := range []struct {
		name string
		load func() (any, error)
	}{
		{"reference", func() (any, error) { return loadRefNetwork(bytes.NewReader(weights)) }},
		{"batched", func() (any, error) { return loadNetwork(bytes.NewReader(weights)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var heap float64
			for b.Loop() {
				b.StopTimer()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				net, err := bc.load()
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = float64(after.HeapAlloc-before.HeapAlloc) / 1e6
				runtime.KeepAlive(net)
				b.StartTimer()
			}
			b.ReportMetric(heap, "heap-MB")
		})
	}
}

// BenchmarkEmbedKernels encodes 64 sentences with each kernel this
// machine can run (AVX-512, AVX2, plain Go), on one goroutine, for what to
// expect on machines without the faster ones.
func BenchmarkEmbedKernels(b *testing.B) {
	texts := benchSentences(b, 64)
	net := newEncoder(b).net
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = make([]float32, Dim)
	}
	defer func(k gemmKernel) { kern = k }(kern)
	for _, k := range kernels() {
		b.Run(k.name, func(b *testing.B) {
			kern = k
			s := new(scratch)
			var cpu int64
			for b.Loop() {
				c0 := processCPU()
				net.embedAll(out, texts, s)
				cpu += processCPU() - c0
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/text")
			b.ReportMetric(float64(cpu)/float64(b.N*len(texts)), "cpu-ns/text")
		})
	}
}
