package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

// day0 is a fixed UTC midnight the tests count from.
var day0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func question(at time.Time, text string, o Outcome) Question {
	return Question{Time: at, GuildID: "234567890123456789", ChannelKind: "text", User: "u1", Text: text, Outcome: o,
		Story: "latin-times", Paragraph: 6, Sentence: 2, Score: 0.8, Latency: 4 * time.Millisecond, IndexVersion: "v1"}
}

func TestInsights(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		h := func(d int, hour int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(hour) * time.Hour) }
		qs := []Question{
			question(h(0, 1), "Who favors strikes?", OutcomeAnswer),
			question(h(0, 2), "What is the capital of France?", OutcomeNone),
			question(h(1, 3), "what is the capital of france", OutcomeNone),
			question(h(1, 4), "France: what's its capital?", OutcomeClosest),
			question(h(2, 5), "Who is Sebastian Gorka?", OutcomeClosest),
			question(h(2, 6), "", OutcomeNone), // logged without its text
			question(h(2, 7), "What is the capital of France?", OutcomeAnswer),
			question(h(5, 1), "What is the capital of France?", OutcomeNone), // outside the period
			question(h(-1, 23), "What is the capital of France?", OutcomeNone),
		}
		if err := db.Write(ctx, Batch{Questions: qs}); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, Batch{
			Answers: []Answer{
				{ID: "a1", Time: h(0, 1), Question: "Who favors strikes?", Outcome: OutcomeAnswer, IndexVersion: "v1"},
				{ID: "a2", Time: h(1, 1), Question: "Who leads?", Outcome: OutcomeAnswer, IndexVersion: "v1"},
			},
			Votes: []Vote{
				{AnswerID: "a1", User: "u1", Up: false, Time: h(0, 2)},
				{AnswerID: "a1", User: "u2", Up: false, Time: h(0, 3)},
				{AnswerID: "a1", User: "u3", Up: true, Time: h(0, 3)},
				{AnswerID: "a2", User: "u1", Up: false, Time: h(1, 2)},
				{AnswerID: "a2", User: "u2", Up: true, Time: h(1, 2)},
				{AnswerID: "gone", User: "u1", Up: false, Time: h(1, 2)}, // answer never saved
				{AnswerID: "a3", User: "u1", Up: true, Time: h(1, 2)},    // no 👎: not listed
			},
		}); err != nil {
			t.Fatal(err)
		}
		in, err := db.Insights(ctx, day0, day0.AddDate(0, 0, 3), 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[Outcome]int{OutcomeAnswer: 2, OutcomeClosest: 2, OutcomeNone: 3}; !reflect.DeepEqual(in.ByOutcome, want) {
			t.Errorf("by outcome %v, want %v", in.ByOutcome, want)
		}
		if in.Total() != 7 {
			t.Errorf("total %d, want 7", in.Total())
		}
		wantDays := []DayCount{
			{day0, map[Outcome]int{OutcomeAnswer: 1, OutcomeNone: 1}},
			{day0.AddDate(0, 0, 1), map[Outcome]int{OutcomeNone: 1, OutcomeClosest: 1}},
			{day0.AddDate(0, 0, 2), map[Outcome]int{OutcomeClosest: 1, OutcomeNone: 1, OutcomeAnswer: 1}},
		}
		if !reflect.DeepEqual(in.PerDay, wantDays) {
			t.Errorf("per day %v, want %v", in.PerDay, wantDays)
		}
		// Three wordings of one question group together; the answered one
		// and the one without text are not there.
		if len(in.Unanswered) != 2 {
			t.Fatalf("unanswered groups %+v, want 2", in.Unanswered)
		}
		g := in.Unanswered[0]
		if g.Count != 3 || g.None != 2 || g.Closest != 1 || g.Example != "France: what's its capital?" || !g.Last.Equal(h(1, 4)) {
			t.Errorf("first group %+v, want the 3 France questions, the latest wording as example", g)
		}
		if g := in.Unanswered[1]; g.Count != 1 || g.Example != "Who is Sebastian Gorka?" {
			t.Errorf("second group %+v", g)
		}
		wantDisliked := []AnswerVotes{
			{AnswerID: "a1", Question: "Who favors strikes?", IndexVersion: "v1", Up: 1, Down: 2},
			{AnswerID: "gone", Down: 1},
			{AnswerID: "a2", Question: "Who leads?", IndexVersion: "v1", Up: 1, Down: 1},
		}
		if !reflect.DeepEqual(in.Disliked, wantDisliked) {
			t.Errorf("disliked %+v, want %+v", in.Disliked, wantDisliked)
		}
		// The period is whole UTC days: any time on the first and last day
		// gives the same figures.
		whole, err := db.Insights(ctx, day0.Add(5*time.Hour), day0.AddDate(0, 0, 2).Add(23*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if !whole.Since.Equal(day0) || !whole.Until.Equal(day0.AddDate(0, 0, 3)) || !reflect.DeepEqual(whole.ByOutcome, in.ByOutcome) ||
			!reflect.DeepEqual(whole.Unanswered, in.Unanswered) {
			t.Errorf("mid-day bounds gave %v to %v, %v", whole.Since, whole.Until, whole.ByOutcome)
		}
		// top bounds the lists.
		in, err = db.Insights(ctx, day0, day0.AddDate(0, 0, 3), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Unanswered) != 1 || len(in.Disliked) != 1 {
			t.Errorf("top 1 gave %d groups and %d answers", len(in.Unanswered), len(in.Disliked))
		}
	})
}

func TestQuestionKeyGroupsNearIdenticalWording(t *testing.T) {
	same := [][]string{
		{"What is the capital of France?", "what is the capital of france", "France — what's its capital!!", "  WHAT is THE capital of France  "},
		{"Who favors strikes?", "who favors the strikes", "strikes: who favors them?"},
		{"who is he?", "Who is he"},
	}
	for _, group := range same {
		for _, q := range group[1:] {
			if QuestionKey(q) != QuestionKey(group[0]) {
				t.Errorf("%q → %q but %q → %q", q, QuestionKey(q), group[0], QuestionKey(group[0]))
			}
		}
	}
	if QuestionKey("Who favors strikes?") == QuestionKey("Who opposes strikes?") {
		t.Error("different questions share a key")
	}
	if QuestionKey("") != "" {
		t.Error("no text must give no key")
	}
	long := QuestionKey(strings.Repeat("éléphant ", 20) + strings.Repeat("zèbre", 100))
	if len(long) > maxKey || len(long) < maxKey-8 || strings.ToValidUTF8(long, "") != long {
		t.Errorf("long key %q: %d bytes", long, len(long))
	}
}

func TestAnswersByIDSurviveRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		a := Answer{ID: "1180000000000000001", Time: day0.Add(time.Hour), Question: "Who favors strikes?", Outcome: OutcomeAnswer, IndexVersion: "v7",
			Citations: []Citation{{N: 1, Story: "latin-times", Paragraph: 6, Sentence: 2, ChunkID: "c1", Quote: "A faction supports strikes."}}}
		first := mustOpen(t, b)
		if err := first.Write(ctx, Batch{Answers: []Answer{a}}); err != nil {
			t.Fatal(err)
		}
		first.Close()
		// Another handle: a restart, or another replica.
		second := mustOpen(t, b)
		got, err := second.Answer(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Time = got.Time.UTC()
		if !reflect.DeepEqual(got, a) {
			t.Errorf("got %+v, want %+v", got, a)
		}
		if _, err := second.Answer(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing answer: %v, want ErrNotFound", err)
		}
		// Saving again replaces it.
		a.IndexVersion = "v8"
		if err := second.Write(ctx, Batch{Answers: []Answer{a, a}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := second.Answer(ctx, a.ID); got.IndexVersion != "v8" {
			t.Errorf("resaved answer has version %q", got.IndexVersion)
		}
	})
}

func TestOneVotePerUserChangeableAndDurable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		replicaA, replicaB := mustOpen(t, b), mustOpen(t, b)
		vote := func(s *DB, user UserHash, up bool) VoteResult {
			t.Helper()
			r, err := s.Vote(ctx, Vote{AnswerID: "a1", User: user, Up: up, Time: day0})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		steps := []struct {
			s    *DB
			user UserHash
			up   bool
			want VoteResult
		}{
			{replicaA, "u1", false, VoteResult{Counted: true, Down: 1}},
			{replicaB, "u1", false, VoteResult{Down: 1}}, // the same click through the other replica counts once
			{replicaB, "u1", true, VoteResult{Counted: true, Changed: true, Up: 1}},
			{replicaA, "u2", false, VoteResult{Counted: true, Up: 1, Down: 1}},
			{replicaA, "u1", true, VoteResult{Up: 1, Down: 1}},
		}
		for i, st := range steps {
			if got := vote(st.s, st.user, st.up); got != st.want {
				t.Errorf("step %d: %+v, want %+v", i, got, st.want)
			}
		}
		replicaA.Close()
		replicaB.Close()
		again := mustOpen(t, b)
		if got := vote(again, "u2", false); got != (VoteResult{Up: 1, Down: 1}) {
			t.Errorf("after restart: %+v", got)
		}
		if _, err := again.Vote(ctx, Vote{AnswerID: "a1"}); err == nil {
			t.Error("a vote without a user was accepted")
		}
	})
}

// TestSimultaneousClicksCountOnce: one user's click arriving at two
// replicas at the same moment (a double click, a retried interaction) is
// one vote, and exactly one of the replies says it counted.
func TestSimultaneousClicksCountOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		replicas := []*DB{mustOpen(t, b), mustOpen(t, b)}
		for round := range 20 {
			answer := fmt.Sprintf("race%d", round)
			const clicks = 6
			results := make([]VoteResult, clicks)
			errs := make([]error, clicks)
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range clicks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start.Wait()
					results[i], errs[i] = replicas[i%2].Vote(ctx, Vote{AnswerID: answer, User: "u1", Up: true, Time: day0})
				}()
			}
			start.Done()
			wg.Wait()
			counted := 0
			for i, r := range results {
				if errs[i] != nil {
					t.Fatalf("round %d click %d: %v", round, i, errs[i])
				}
				if r.Counted {
					counted++
				}
				if r.Changed {
					t.Errorf("round %d click %d: a repeat of the same vote reported as changed", round, i)
				}
			}
			if counted != 1 {
				t.Fatalf("round %d: %d of %d simultaneous identical clicks counted, want 1", round, counted, clicks)
			}
			if last := results[0]; last.Up != 1 || last.Down != 0 {
				t.Errorf("round %d: counts %+v, want one up", round, last)
			}
		}
	})
}

func TestRateLimitCountSharedAcrossReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		replicaA, replicaB := mustOpen(t, b), mustOpen(t, b)
		now := day0.Add(30 * time.Second)
		for i, s := range []*DB{replicaA, replicaB, replicaA, replicaB} {
			n, err := s.Take(ctx, "u1", time.Minute, now.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if n != i+1 {
				t.Errorf("take %d: count %d, want %d", i+1, n, i+1)
			}
		}
		if n, _ := replicaB.Take(ctx, "u2", time.Minute, now); n != 1 {
			t.Errorf("another user's count is %d, want 1", n)
		}
		if n, _ := replicaB.Take(ctx, "u1", time.Minute, now.Add(time.Minute)); n != 1 {
			t.Errorf("the next window's count is %d, want 1", n)
		}
		// The limiter on top: 3 a minute across both replicas.
		la := &Limiter{Store: replicaA, Limit: 3, Window: time.Minute}
		lb := &Limiter{Store: replicaB, Limit: 3, Window: time.Minute}
		later := day0.Add(time.Hour)
		var got []bool
		for _, l := range []*Limiter{la, lb, la, lb} {
			ok, shared := l.Allow(ctx, "u3", later)
			if !shared {
				t.Error("the limiter did not use the shared count")
			}
			got = append(got, ok)
		}
		if want := []bool{true, true, true, false}; !reflect.DeepEqual(got, want) {
			t.Errorf("allowed %v, want %v", got, want)
		}
		// With the database gone, it counts locally and still answers.
		replicaA.Close()
		for i := range 4 {
			ok, shared := la.Allow(ctx, "u3", later)
			if shared || ok != (i < 3) {
				t.Errorf("local take %d: allowed %v shared %v", i+1, ok, shared)
			}
		}
	})
}

func TestPruneKeepsRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		now := day0.AddDate(0, 0, 100)
		old, recent := now.AddDate(0, 0, -91), now.AddDate(0, 0, -89)
		if err := db.Write(ctx, Batch{
			Questions: []Question{question(old, "old?", OutcomeNone), question(recent, "recent?", OutcomeNone)},
			Answers:   []Answer{{ID: "old", Time: old, Outcome: OutcomeNone}, {ID: "recent", Time: recent, Outcome: OutcomeNone}},
			Votes:     []Vote{{AnswerID: "old", User: "u", Time: old}, {AnswerID: "recent", User: "u", Time: recent}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Take(ctx, "u", time.Minute, now.Add(-2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Take(ctx, "u", time.Minute, now); err != nil {
			t.Fatal(err)
		}
		p, err := db.Prune(ctx, now, 90*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if p != (Pruned{Questions: 1, Answers: 1, Votes: 1, RateWindows: 1, Days: 1}) {
			t.Errorf("pruned %+v", p)
		}
		if _, err := db.Answer(ctx, "old"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old answer: %v", err)
		}
		if _, err := db.Answer(ctx, "recent"); err != nil {
			t.Errorf("recent answer: %v", err)
		}
		in, err := db.Insights(ctx, day0, now.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if in.Total() != 1 || len(in.Unanswered) != 1 || in.Unanswered[0].Example != "recent?" {
			t.Errorf("after pruning: %+v", in)
		}
		if n, _ := db.Take(ctx, "u", time.Minute, now); n != 2 {
			t.Errorf("the current rate window was pruned: count %d", n)
		}
		if p, err := db.Prune(ctx, now, 90*24*time.Hour); err != nil || p != (Pruned{}) {
			t.Errorf("second prune: %+v %v", p, err)
		}
	})
}

func TestWriteRefusesBadRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		good := question(day0, "ok?", OutcomeAnswer)
		err := db.Write(ctx, Batch{Questions: []Question{good, question(day0, "bad", "maybe")}})
		if err == nil || !strings.Contains(err.Error(), `"maybe"`) {
			t.Errorf("bad outcome: %v", err)
		}
		if err := db.Write(ctx, Batch{Answers: []Answer{{Outcome: OutcomeAnswer}}}); err == nil {
			t.Error("an answer without an ID was accepted")
		}
		in, _ := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 10)
		if in.Total() != 0 {
			t.Errorf("a refused batch left %d rows", in.Total())
		}
	})
}

func TestRunPruningPrunesAtOnceAndStopsWithItsContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		old := time.Now().AddDate(0, 0, -100)
		if err := db.Write(ctx, Batch{Questions: []Question{question(old, "old?", OutcomeNone), question(time.Now(), "new?", OutcomeNone)}}); err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); RunPruning(pctx, db, 90*24*time.Hour, time.Hour, nil) }()
		waitFor(t, func() bool {
			in, err := db.Insights(ctx, old.Add(-time.Hour), time.Now().Add(time.Hour), 10)
			return err == nil && in.Total() == 1
		})
		cancel()
		<-done
	})
}

// Discord text is UTF-8, but a message given to "Ask storybot" can hold
// anything; PostgreSQL refuses NUL and invalid UTF-8 in text, and one such
// row must not sink its batch.
func TestHostileTextIsStored(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := mustOpen(t, b)
		bad := "who\x00 favors \xff\xfe strikes?"
		err := db.Write(ctx, Batch{
			Questions: []Question{question(day0, bad, OutcomeNone), question(day0, "fine?", OutcomeNone)},
			Answers:   []Answer{{ID: "a\x00", Time: day0, Question: bad, Outcome: OutcomeNone, Citations: []Citation{{Quote: bad}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		in, err := db.Insights(ctx, day0, day0.AddDate(0, 0, 1), 10)
		if err != nil {
			t.Fatal(err)
		}
		if in.Total() != 2 || len(in.Unanswered) != 2 {
			t.Errorf("stored %+v", in)
		}
		a, err := db.Answer(ctx, "a\x00")
		if err != nil {
			t.Fatal(err)
		}
		if r, err := db.Vote(ctx, Vote{AnswerID: "a\x00", User: "u\xff"}); err != nil || !r.Counted {
			t.Errorf("vote: %+v %v", r, err)
		}
		if n, err := db.Take(ctx, "u\x00\xff", time.Minute, day0); err != nil || n != 1 {
			t.Errorf("take: %d %v", n, err)
		}
		if a.Question != "who favors \uFFFD strikes?" && a.Question != "who favors \uFFFD\uFFFD strikes?" {
			t.Errorf("question stored as %q", a.Question)
		}
	})
}

// TestFollowUps: a conversation's last story is read back on any handle on
// the database (as another replica would), a later answer replaces it and
// an earlier one written late does not, one older than since is not
// returned, and Prune drops those older than FollowUpsKept.
func TestFollowUps(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		a, other := mustOpen(t, b), mustOpen(t, b)
		now := day0.Add(10 * time.Hour)
		if err := a.Write(ctx, Batch{FollowUps: []FollowUp{
			{Key: "c1", Story: "bees", Time: now.Add(-time.Minute)},
			{Key: "c1", Story: "bridge", Time: now}, // later in the same batch: wins
			{Key: "c2", Story: "crane", Time: now.Add(-2 * FollowUpsKept)},
			{Key: "", Story: "nobody", Time: now},
		}}); err != nil {
			t.Fatal(err)
		}
		if got, err := other.LastStory(ctx, "c1", now.Add(-15*time.Minute)); err != nil || got != "bridge" {
			t.Errorf("LastStory(c1) on another handle = %q, %v; want bridge", got, err)
		}
		// An earlier answer's row, written late by another replica.
		if err := other.Write(ctx, Batch{FollowUps: []FollowUp{{Key: "c1", Story: "bees", Time: now.Add(-30 * time.Second)}}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.LastStory(ctx, "c1", now.Add(-15*time.Minute)); got != "bridge" {
			t.Errorf("a late row for an earlier answer replaced the latest: %q", got)
		}
		if err := other.Write(ctx, Batch{FollowUps: []FollowUp{{Key: "c1", Story: "crane", Time: now.Add(time.Second)}}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.LastStory(ctx, "c1", now.Add(-15*time.Minute)); got != "crane" {
			t.Errorf("a later answer did not replace the story: %q", got)
		}
		if got, err := a.LastStory(ctx, "c2", now.Add(-15*time.Minute)); err != nil || got != "" {
			t.Errorf("a stale conversation = %q, %v; want none", got, err)
		}
		if got, err := a.LastStory(ctx, "nobody", now.Add(-15*time.Minute)); err != nil || got != "" {
			t.Errorf("an unknown conversation = %q, %v; want none", got, err)
		}
		p, err := a.Prune(ctx, now, 90*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if p.FollowUps != 1 {
			t.Errorf("pruned %d follow-ups, want the 1 older than %v", p.FollowUps, FollowUpsKept)
		}
		if got, _ := a.LastStory(ctx, "c1", now.Add(-15*time.Minute)); got != "crane" {
			t.Errorf("prune dropped a fresh conversation: %q", got)
		}
	})
}
