package eval

import (
	"sort"
	"time"

	"storybot/retrieval"
)

// Result is one question's outcome, as --per-question writes it: enough to
// read a miss without rerunning.
type Result struct {
	ID      string `json:"id"`
	Article string `json:"article"`
	// Mode and Split name the part of a natural-question run ("story" or
	// "folder"; "fit" or "test").
	Mode     string `json:"mode,omitempty"`
	Split    string `json:"split,omitempty"`
	Question string `json:"question"`
	// Kind is the set's label; ReadAs is the kind the bot read.
	Kind       string `json:"kind,omitempty"`
	ReadAs     string `json:"read_as"`
	Answerable bool   `json:"answerable"`
	// OffTopic marks an unanswerable question unrelated to the story, which
	// must be declined, not hedged.
	OffTopic   bool     `json:"off_topic,omitempty"`
	Gold       []string `json:"gold,omitempty"`
	Outcome    string   `json:"outcome"`
	Score      float64  `json:"score"`
	Confidence float64  `json:"confidence"`
	Quote      string   `json:"quote,omitempty"`
	// HoldsGold: the first quote holds a gold answer (whatever the outcome).
	HoldsGold bool `json:"holds_gold"`
	// Rank is the 1-based rank of the first retrieved chunk holding a gold
	// answer, 0 when none does or Recall is not measured.
	Rank int           `json:"rank,omitempty"`
	Took time.Duration `json:"took_ns"`
}

func newResult(a *retrieval.Answer, gold []string) Result {
	r := Result{ReadAs: a.Kind, Gold: gold, Outcome: a.Outcome, Score: a.Score, Confidence: a.Confidence, Took: a.Took}
	if len(a.Citations) > 0 {
		r.Quote = a.Citations[0].Quote
		r.HoldsGold = containsAny(r.Quote, gold)
	}
	return r
}

// Outcomes are the figures of the three outcomes over a set of results, as
// percentages of the questions they name.
type Outcomes struct {
	Questions    int `json:"questions"`
	Answerable   int `json:"answerable"`
	Unanswerable int `json:"unanswerable"`
	OffTopic     int `json:"off_topic,omitempty"`
	// AnswerableAnswered: answerable questions answered confidently.
	AnswerableAnswered float64 `json:"answerable_answered"`
	// AnswerableHedged: answerable questions given the closest sentences.
	AnswerableHedged float64 `json:"answerable_hedged"`
	// AnswerSentence1: answerable questions whose first quote, confident
	// or hedged, holds a gold answer (when the set gives answers).
	AnswerSentence1 float64 `json:"answer_sentence_at_1"`
	// AnsweredRight: answerable questions answered confidently with a
	// first quote that holds a gold answer.
	AnsweredRight float64 `json:"answered_right"`
	// UnanswerableDeclined and UnanswerableHedged: on-topic questions the
	// story does not answer, declined or given the closest sentences.
	UnanswerableDeclined *float64 `json:"unanswerable_declined,omitempty"`
	UnanswerableHedged   *float64 `json:"unanswerable_hedged,omitempty"`
	// OffTopicDeclined: unrelated questions declined.
	OffTopicDeclined *float64 `json:"off_topic_declined,omitempty"`
	// AUC: how well the confidence separates answerable questions from
	// unanswerable ones (0.5 is chance); AUCScore the same for the
	// answerability score the topic decline reads.
	AUC      *float64 `json:"auc,omitempty"`
	AUCScore *float64 `json:"auc_answerability,omitempty"`
}

func summarize(rs []Result) Outcomes {
	var o Outcomes
	var ansAnswered, ansHedged, right, holds, unDeclined, unHedged, offDeclined int
	var pos, neg, posS, negS []float64
	for _, r := range rs {
		o.Questions++
		switch {
		case r.Answerable:
			o.Answerable++
			ansAnswered += b2i(r.Outcome == retrieval.OutcomeAnswer)
			ansHedged += b2i(r.Outcome == retrieval.OutcomeClosest)
			right += b2i(r.Outcome == retrieval.OutcomeAnswer && r.HoldsGold)
			holds += b2i(r.HoldsGold)
			pos, posS = append(pos, r.Confidence), append(posS, r.Score)
		case r.OffTopic:
			o.OffTopic++
			offDeclined += b2i(r.Outcome == retrieval.OutcomeNone)
		default:
			o.Unanswerable++
			unDeclined += b2i(r.Outcome == retrieval.OutcomeNone)
			unHedged += b2i(r.Outcome == retrieval.OutcomeClosest)
			neg, negS = append(neg, r.Confidence), append(negS, r.Score)
		}
	}
	o.AnswerableAnswered = pct(float64(ansAnswered), o.Answerable)
	o.AnswerableHedged = pct(float64(ansHedged), o.Answerable)
	o.AnswerSentence1 = pct(float64(holds), o.Answerable)
	o.AnsweredRight = pct(float64(right), o.Answerable)
	if o.Unanswerable > 0 {
		o.UnanswerableDeclined = ptr(pct(float64(unDeclined), o.Unanswerable))
		o.UnanswerableHedged = ptr(pct(float64(unHedged), o.Unanswerable))
		if o.Answerable > 0 {
			o.AUC, o.AUCScore = ptr(auc(pos, neg)), ptr(auc(posS, negS))
		}
	}
	if o.OffTopic > 0 {
		o.OffTopicDeclined = ptr(pct(float64(offDeclined), o.OffTopic))
	}
	return o
}

// byKind summarises the results of each labelled kind.
func byKind(rs []Result) map[string]Outcomes {
	groups := map[string][]Result{}
	for _, r := range rs {
		if r.Kind != "" {
			groups[r.Kind] = append(groups[r.Kind], r)
		}
	}
	if len(groups) == 0 {
		return nil
	}
	out := map[string]Outcomes{}
	for k, g := range groups {
		out[k] = summarize(g)
	}
	return out
}

func ptr(x float64) *float64 { return &x }

// auc is the probability that a random positive scores above a random
// negative (ties count half): the Mann-Whitney statistic.
func auc(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return 0
	}
	type scored struct {
		s   float64
		pos bool
	}
	all := make([]scored, 0, len(pos)+len(neg))
	for _, s := range pos {
		all = append(all, scored{s, true})
	}
	for _, s := range neg {
		all = append(all, scored{s, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].s == all[i].s {
			j++
		}
		mid := float64(i+j+1) / 2 // mean 1-based rank of the tie
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += mid
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

func medianAndP99(rs []Result) (float64, float64) {
	ts := make([]time.Duration, len(rs))
	for i, r := range rs {
		ts[i] = r.Took
	}
	return percentileMillis(ts, 0.5), percentileMillis(ts, 0.99)
}
