package retrieval

import (
	"fmt"
	"math"
	"sort"
)

// boostParams shape the boosted trees added to the logistic model: how
// many, how deep, how much each counts, and how many answerable and
// unanswerable questions (in Hessian weight) a leaf must hold.
type boostParams struct {
	trees, depth  int
	rate, minHess float64
	lambda        float64
}

func (p boostParams) String() string {
	return fmt.Sprintf("%d trees of depth %d, rate %.2f, leaf weight ≥ %.0f", p.trees, p.depth, p.rate, p.minHess)
}

// fitBoosted fits trees by gradient boosting on the log loss, starting
// from the margin of the logistic weights w: the trees add only what the
// linear model cannot say, such as a feature that matters only when
// another is high. Splits are chosen among each feature's quantiles in
// train; leaves take the Newton step.
func fitBoosted(train []confCase, w confFeatures, keep []int, p boostParams) [][]confNode {
	n := len(train)
	z := make([]float64, n)
	for i, c := range train {
		z[i] = dot(c.f, w)
	}
	cuts := featureCuts(train, keep, 32)
	g := make([]float64, n)
	h := make([]float64, n)
	var trees [][]confNode
	idx := make([]int, n)
	for range p.trees {
		for i, c := range train {
			pr := 1 / (1 + math.Exp(-z[i]))
			g[i] = b2f(c.answerable) - pr
			h[i] = pr * (1 - pr)
		}
		for i := range idx {
			idx[i] = i
		}
		var tree []confNode
		growNode(&tree, train, idx, g, h, cuts, keep, p, 0)
		for i, c := range train {
			z[i] += treeValue(tree, &c.f)
		}
		trees = append(trees, tree)
	}
	return trees
}

// growNode appends the node for the cases in idx to tree and returns its index.
func growNode(tree *[]confNode, cases []confCase, idx []int, g, h []float64, cuts map[int][]float64, keep []int, p boostParams, depth int) int {
	var G, H float64
	for _, i := range idx {
		G += g[i]
		H += h[i]
	}
	me := len(*tree)
	*tree = append(*tree, confNode{feature: -1, value: p.rate * G / (H + p.lambda)})
	if depth == p.depth {
		return me
	}
	bestGain, bestF, bestT := 0.0, -1, 0.0
	parent := G * G / (H + p.lambda)
	for _, f := range keep {
		cs := cuts[f]
		if len(cs) == 0 {
			continue
		}
		gl := make([]float64, len(cs)+1)
		hl := make([]float64, len(cs)+1)
		for _, i := range idx {
			// Bin b holds the values in [cs[b-1], cs[b]): left of cut b.
			b := sort.SearchFloat64s(cs, cases[i].f[f])
			if b < len(cs) && cases[i].f[f] == cs[b] {
				b++
			}
			gl[b] += g[i]
			hl[b] += h[i]
		}
		var GL, HL float64
		for b := range cs {
			GL += gl[b]
			HL += hl[b]
			GR, HR := G-GL, H-HL
			if HL < p.minHess || HR < p.minHess {
				continue
			}
			gain := GL*GL/(HL+p.lambda) + GR*GR/(HR+p.lambda) - parent
			if gain > bestGain {
				bestGain, bestF, bestT = gain, f, cs[b]
			}
		}
	}
	if bestF < 0 {
		return me
	}
	var left, right []int
	for _, i := range idx {
		if cases[i].f[bestF] < bestT {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	l := growNode(tree, cases, left, g, h, cuts, keep, p, depth+1)
	r := growNode(tree, cases, right, g, h, cuts, keep, p, depth+1)
	(*tree)[me] = confNode{feature: int8(bestF), threshold: bestT, left: uint8(l), right: uint8(r)}
	return me
}

// featureCuts are up to k distinct quantiles of each feature: the
// thresholds a split may use (value < cut goes left).
func featureCuts(cases []confCase, keep []int, k int) map[int][]float64 {
	out := map[int][]float64{}
	vals := make([]float64, len(cases))
	for _, f := range keep {
		for i, c := range cases {
			vals[i] = c.f[f]
		}
		sort.Float64s(vals)
		var cs []float64
		for q := 1; q < k; q++ {
			v := vals[q*len(vals)/k]
			if v > vals[0] && (len(cs) == 0 || v > cs[len(cs)-1]) {
				cs = append(cs, v)
			}
		}
		out[f] = cs
	}
	return out
}

func dot(f, w confFeatures) float64 {
	z := 0.0
	for i := range f {
		z += f[i] * w[i]
	}
	return z
}

// confNode is a node of a boosted tree that corrects the logistic model
// where features interact: a split sends
// a question whose feature is below threshold to left, the rest to right;
// a leaf (feature -1) adds value to the margin.
type confNode struct {
	feature     int8
	threshold   float64
	left, right uint8
	value       float64
}

func treeValue(tree []confNode, f *confFeatures) float64 {
	n := 0
	for tree[n].feature >= 0 {
		if f[tree[n].feature] < tree[n].threshold {
			n = int(tree[n].left)
		} else {
			n = int(tree[n].right)
		}
	}
	return tree[n].value
}
