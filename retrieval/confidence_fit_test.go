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
	w := fitLogistic(cases, all)
	th := answerThreshold(cases, w, 0.90)
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
			w := fitLogistic(train, keep)
			th := answerThreshold(train, w, 0.90)
			for _, c := range test {
				p := logistic(c.f, w)
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
func answerThreshold(cases []confCase, w confFeatures, share float64) float64 {
	var ps []float64
	n := 0
	for _, c := range cases {
		if !c.answerable {
			continue
		}
		n++
		if c.topicOK {
			ps = append(ps, logistic(c.f, w))
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
