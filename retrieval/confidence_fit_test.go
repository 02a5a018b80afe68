package retrieval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"storybot/knowledge"
)

// TestFitConfidence fits the confidence model (confidence.go) on a SQuAD 2.0
// file, whose unanswerable questions are on their article's topic, and
// chooses the answer threshold. A tool, not a check; it runs only when asked:
//
//	STORYBOT_FIT_V2=$PWD/../shared/eval/squad-v2.0-dev/dev-v2.0-even-articles.json STORYBOT_FIT_CACHE=/tmp/fit2.gob \
//	    go test ./retrieval -run TestFitConfidence -v -timeout 30m
//
// It reports, under 6-fold cross-validation by article (3 shuffles), the AUC
// of the answerability score and of the fitted confidence, and at the
// threshold that answers 90% of the training folds' answerable questions,
// the held-out shares of answerable questions answered and of unanswerable
// ones declined or hedged; then each feature's part (the same figures
// without it), and the weights and threshold fitted on every article.
func TestFitConfidence(t *testing.T) {
	path := os.Getenv("STORYBOT_FIT_V2")
	if path == "" {
		t.Skip("set STORYBOT_FIT_V2 to a SQuAD 2.0 file to fit the confidence model")
	}
	cases := confidenceData(t, path, testOptions())
	saveFitCache(t)
	var pos, neg []float64
	for _, c := range cases {
		if c.answerable {
			pos = append(pos, c.f[cAnswerability])
		} else {
			neg = append(neg, c.f[cAnswerability])
		}
	}
	t.Logf("%d questions, %d answerable; AUC of answerability %.3f", len(cases), len(pos), aucOf(pos, neg))
	all := make([]int, nConf)
	for i := range all {
		all[i] = i
	}
	cv := confCrossValidate(cases, all)
	t.Logf("all features: cross-validated AUC %.3f; at 90%% answered on training folds: answerable answered %.1f%%, unanswerable declined %.1f%% + hedged %.1f%%",
		cv.auc, cv.answered, cv.declined, cv.hedged)
	for drop := 1; drop < nConf && os.Getenv("STORYBOT_FIT_ABLATE") != ""; drop++ {
		var keep []int
		for _, i := range all {
			if i != drop {
				keep = append(keep, i)
			}
		}
		r := confCrossValidate(cases, keep)
		t.Logf("without %-14s AUC %.3f, answered %.1f%%, declined+hedged %.1f%%", confNames[drop], r.auc, r.answered, r.declined+r.hedged)
	}
	if os.Getenv("STORYBOT_FIT_ADD") != "" {
		var base []int
		for i := range cAlignMin {
			base = append(base, i)
		}
		r := confCrossValidate(cases, base)
		t.Logf("base: AUC %.3f, answered %.1f%%, declined+hedged %.1f%%", r.auc, r.answered, r.declined+r.hedged)
		for add := cAlignMin; add < nConf; add++ {
			r := confCrossValidate(cases, append(append([]int{}, base...), add))
			t.Logf("base + %-14s AUC %.3f, answered %.1f%%, declined+hedged %.1f%%", confNames[add], r.auc, r.answered, r.declined+r.hedged)
		}
	}
	if os.Getenv("STORYBOT_FIT_BOOST") != "" {
		for _, set := range [][]int{all} {
			for _, rounds := range []int{100, 300} {
				r := confCrossValidateWith(cases, func(train []confCase) func(confFeatures) float64 {
					bias, ss := fitStumps(train, set, rounds, 0.2)
					return func(f confFeatures) float64 { return boostedScore(f, bias, ss) }
				})
				t.Logf("boosted stumps, %d rounds: AUC %.3f, answered %.1f%%, declined+hedged %.1f%%", rounds, r.auc, r.answered, r.declined+r.hedged)
			}
		}
	}
	w := fitLogistic(cases, all)
	th := answerThreshold(cases, func(f confFeatures) float64 { return logistic(f, w) }, 0.90)
	var b strings.Builder
	for i, name := range confNames {
		fmt.Fprintf(&b, "\n\tc%s: %.3f,", goName(name), w[i])
	}
	t.Logf("fitted on all: answer threshold %.3f; confidenceWeights = confFeatures{%s\n}", th, b.String())
}

type confCase struct {
	f          confFeatures
	answerable bool
	topicOK    bool // answerability reaches the decline threshold: not "none"
	article    int
}

func confidenceData(t *testing.T, path string, opts Options) []confCase {
	t.Helper()
	d := readSquadV2(t, path)
	ctx := context.Background()
	var out []confCase
	for ai, a := range d.Data {
		var contexts []string
		for _, p := range a.Paragraphs {
			contexts = append(contexts, strings.TrimSpace(p.Context))
		}
		ix, err := Build(ctx, []*knowledge.Story{{ID: "a", Title: a.Title, Body: strings.Join(contexts, "\n\n")}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range a.Paragraphs {
			for _, q := range p.QAs {
				r, err := ix.read(ctx, q.Question)
				if err != nil {
					t.Fatal(err)
				}
				c := confCase{f: ix.confFeatures(r.question, r.cands), answerable: !q.IsImpossible, article: ai}
				c.topicOK = len(r.cands) > 0 && r.cands[0].answerability() >= r.threshold
				out = append(out, c)
			}
		}
		t.Logf("article %d/%d indexed and asked", ai+1, len(d.Data))
	}
	return out
}

type confCV struct{ auc, answered, declined, hedged float64 }

func confCrossValidate(cases []confCase, keep []int) confCV {
	return confCrossValidateWith(cases, func(train []confCase) func(confFeatures) float64 {
		w := fitLogistic(train, keep)
		return func(f confFeatures) float64 { return logistic(f, w) }
	})
}

// confCrossValidateWith fits a scorer on five sixths of the articles and scores the
// rest, six folds over three shuffles.
func confCrossValidateWith(cases []confCase, fit func([]confCase) func(confFeatures) float64) confCV {
	articles := 0
	for _, c := range cases {
		articles = max(articles, c.article+1)
	}
	const folds, reps = 6, 3
	var pos, neg []float64
	var nAns, answered, nUn, declined, hedged int
	for rep := range reps {
		fold := rand.New(rand.NewPCG(uint64(rep), 11)).Perm(articles)
		for k := range folds {
			var train, test []confCase
			for _, c := range cases {
				if fold[c.article]%folds == k {
					test = append(test, c)
				} else {
					train = append(train, c)
				}
			}
			score := fit(train)
			th := answerThreshold(train, score, 0.90)
			for _, c := range test {
				p := score(c.f)
				if c.answerable {
					pos = append(pos, p)
					nAns++
					answered += b2i(c.topicOK && p >= th)
				} else {
					neg = append(neg, p)
					nUn++
					declined += b2i(!c.topicOK)
					hedged += b2i(c.topicOK && p < th)
				}
			}
		}
	}
	return confCV{aucOf(pos, neg), 100 * float64(answered) / float64(nAns), 100 * float64(declined) / float64(nUn), 100 * float64(hedged) / float64(nUn)}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func logistic(f, w confFeatures) float64 {
	z := 0.0
	for i := range f {
		z += f[i] * w[i]
	}
	return 1 / (1 + math.Exp(-z))
}

// fitLogistic fits the features in keep (the rest stay 0) by full-batch
// gradient ascent on the log likelihood with a little L2.
func fitLogistic(cases []confCase, keep []int) confFeatures {
	var w confFeatures
	const (
		rate   = 1.0
		l2     = 1e-4
		rounds = 1500
	)
	for range rounds {
		var grad confFeatures
		for _, c := range cases {
			y := b2f(c.answerable)
			p := logistic(c.f, w)
			for _, i := range keep {
				grad[i] += (y - p) * c.f[i]
			}
		}
		for _, i := range keep {
			w[i] += rate * (grad[i]/float64(len(cases)) - l2*w[i])
		}
	}
	return w
}

// answerThreshold is the highest confidence that still answers share of the
// answerable questions (counting those the topic decline already loses).
func answerThreshold(cases []confCase, score func(confFeatures) float64, share float64) float64 {
	var ps []float64
	n := 0
	for _, c := range cases {
		if !c.answerable {
			continue
		}
		n++
		if c.topicOK {
			ps = append(ps, score(c.f))
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(ps)))
	need := int(math.Ceil(share * float64(n)))
	if need > len(ps) {
		return 0
	}
	return ps[need-1]
}

func aucOf(pos, neg []float64) float64 {
	wins := 0.0
	sort.Float64s(neg)
	for _, p := range pos {
		lo := sort.SearchFloat64s(neg, p)
		hi := lo
		for hi < len(neg) && neg[hi] == p {
			hi++
		}
		wins += float64(lo) + 0.5*float64(hi-lo)
	}
	return wins / float64(len(pos)*len(neg))
}

type squadV2File struct {
	Data []struct {
		Title      string
		Paragraphs []struct {
			Context string
			QAs     []struct {
				Question     string
				IsImpossible bool `json:"is_impossible"`
			} `json:"qas"`
		}
	}
}

func readSquadV2(t *testing.T, path string) squadV2File {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d squadV2File
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// stump is one split of a boosted ensemble: value left when f[feature] <
// below, else right.
type stump struct {
	feature     int
	below       float64
	left, right float64
}

func boostedScore(f confFeatures, bias float64, ss []stump) float64 {
	z := bias
	for _, s := range ss {
		if f[s.feature] < s.below {
			z += s.left
		} else {
			z += s.right
		}
	}
	return z
}

// fitStumps fits a gradient-boosted ensemble of stumps for the logistic
// loss over the features in keep, splitting each at its quantiles.
func fitStumps(cases []confCase, keep []int, rounds int, shrink float64) (float64, []stump) {
	const bins = 32
	cuts := make([][]float64, nConf)
	for _, j := range keep {
		vals := make([]float64, len(cases))
		for i, c := range cases {
			vals[i] = c.f[j]
		}
		sort.Float64s(vals)
		var cs []float64
		for b := 1; b < bins; b++ {
			v := vals[b*len(vals)/bins]
			if len(cs) == 0 || v > cs[len(cs)-1] {
				cs = append(cs, v)
			}
		}
		cuts[j] = cs
	}
	// bin[i][j]: the number of cuts at or below case i's feature j.
	bin := make([][nConf]uint8, len(cases))
	for i, c := range cases {
		for _, j := range keep {
			bin[i][j] = uint8(sort.Search(len(cuts[j]), func(k int) bool { return cuts[j][k] > c.f[j] }))
		}
	}
	pos := 0.0
	for _, c := range cases {
		pos += b2f(c.answerable)
	}
	bias := math.Log(pos / (float64(len(cases)) - pos))
	z := make([]float64, len(cases))
	for i := range z {
		z[i] = bias
	}
	var out []stump
	for range rounds {
		var g, h [nConf][bins + 1]float64
		G, H := 0.0, 0.0
		for i, c := range cases {
			p := 1 / (1 + math.Exp(-z[i]))
			r, w := b2f(c.answerable)-p, p*(1-p)
			G += r
			H += w
			for _, j := range keep {
				g[j][bin[i][j]] += r
				h[j][bin[i][j]] += w
			}
		}
		bestGain, best := 0.0, stump{}
		for _, j := range keep {
			gl, hl := 0.0, 0.0
			for k := 0; k < len(cuts[j]); k++ {
				gl += g[j][k]
				hl += h[j][k]
				gr, hr := G-gl, H-hl
				if hl < 1 || hr < 1 {
					continue
				}
				if gain := gl*gl/hl + gr*gr/hr - G*G/H; gain > bestGain {
					bestGain, best = gain, stump{j, cuts[j][k], shrink * gl / hl, shrink * gr / hr}
				}
			}
		}
		if bestGain == 0 {
			break
		}
		out = append(out, best)
		for i, c := range cases {
			if c.f[best.feature] < best.below {
				z[i] += best.left
			} else {
				z[i] += best.right
			}
		}
	}
	return bias, out
}
