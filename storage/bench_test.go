package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bench1M.dir != "" {
		os.RemoveAll(bench1M.dir)
	}
	os.Exit(code)
}

// benchQuestion is a typical row: a guild question with a citation.
func benchQuestion(at time.Time, text string, o Outcome) Question {
	return Question{Time: at, GuildID: "234567890123456789", ChannelKind: "text", User: "3f2a9c0d1e4b5a6978c1d2e3f4a5b6c7",
		Text: text, Outcome: o, AnswerID: "1180000000000000001", Story: "latin-times-2025-cartel-strikes",
		Paragraph: 6, Sentence: 2, Score: 0.81, Latency: 4100 * time.Microsecond, IndexVersion: "5f1c2a9e"}
}

// BenchmarkWriterEnqueue is what logging one question costs the caller
// (the answer path): LogQuestion on a Writer over a real SQLite file, with
// the writer's goroutine writing meanwhile. The queue holds every row, so
// none is dropped and the figure is the cost of queueing, not of dropping.
func BenchmarkWriterEnqueue(b *testing.B) {
	db, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), SQLiteFile))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w := NewWriter(context.Background(), db, WriterOptions{LogQuestions: true, QueueSize: b.N + 1})
	q := benchQuestion(time.Now(), "Who favors military strikes against the cartels?", OutcomeAnswer)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.LogQuestion(q)
	}
	b.StopTimer()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if w.Dropped() != 0 {
		b.Fatalf("%d rows dropped", w.Dropped())
	}
}

// BenchmarkLastStory is what a follow-up's look-up costs a question on a
// database of 10,000 conversations: SQLite in a file, and PostgreSQL on
// loopback when STORYBOT_TEST_POSTGRES_URL is set.
func BenchmarkLastStory(b *testing.B) {
	run := func(b *testing.B, db *DB) {
		now := time.Now()
		var fs []FollowUp
		for i := range 10000 {
			fs = append(fs, FollowUp{Key: fmt.Sprintf("conversation-%05d", i), Story: "story", Time: now})
		}
		if err := db.Write(context.Background(), Batch{FollowUps: fs}); err != nil {
			b.Fatal(err)
		}
		since := now.Add(-15 * time.Minute)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if s, err := db.LastStory(context.Background(), fs[i%len(fs)].Key, since); err != nil || s != "story" {
				b.Fatalf("LastStory = %q, %v", s, err)
			}
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		db, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), SQLiteFile))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		run(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		base := os.Getenv(PostgresEnv)
		if base == "" {
			b.Skip(PostgresEnv + " is not set")
		}
		db, err := OpenPostgres(context.Background(), testSchema(b, base))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		run(b, db)
	})
}

// BenchmarkWriterSustained is the rate rows reach a SQLite file through the
// Writer: queue b.N rows, then wait for them to be written (Close).
func BenchmarkWriterSustained(b *testing.B) {
	db, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), SQLiteFile))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	w := NewWriter(context.Background(), db, WriterOptions{LogQuestions: true, QueueSize: b.N + 1})
	now := time.Now()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		w.LogQuestion(benchQuestion(now, fmt.Sprint("who favors strikes number ", i%1000, "?"), OutcomeAnswer))
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
	if w.Dropped() != 0 {
		b.Fatalf("%d rows dropped", w.Dropped())
	}
}

// bench1M is a SQLite file with a million logged questions, filled once per
// run of the benchmarks and removed by TestMain.
var bench1M struct {
	once sync.Once
	dir  string
	path string
	now  time.Time
	err  error
}

const benchRows = 1_000_000

// fill1M writes 1M synthetic questions over 90 days: 75% answered, 15%
// hedged, 10% declined, worded from 5,000 questions with varied case and
// punctuation; 20,000 answers and 60,000 votes.
func fill1M(b *testing.B) (path string, now time.Time) {
	bench1M.once.Do(func() {
		bench1M.dir, bench1M.err = os.MkdirTemp("", "storybot-bench-")
		if bench1M.err != nil {
			return
		}
		bench1M.path = filepath.Join(bench1M.dir, SQLiteFile)
		bench1M.now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		db, err := OpenSQLite(context.Background(), bench1M.path)
		if err != nil {
			bench1M.err = err
			return
		}
		defer db.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		subjects := []string{"capital", "mayor", "president", "budget", "army", "river", "border", "election", "ambassador", "treaty"}
		places := make([]string, 500)
		for i := range places {
			places[i] = fmt.Sprintf("place%d", i)
		}
		wording := []string{"What is the %s of %s?", "what is the %s of %s", "%s: what's its %s?", "WHO is the %s of %s??"}
		const span = 90 * 24 * time.Hour
		batch := Batch{}
		for i := range benchRows {
			s, p := subjects[rng.IntN(len(subjects))], places[rng.IntN(len(places))]
			f := wording[rng.IntN(len(wording))]
			text := fmt.Sprintf(f, s, p)
			if f == "%s: what's its %s?" {
				text = fmt.Sprintf(f, p, s)
			}
			o := OutcomeAnswer
			switch r := rng.IntN(100); {
			case r < 10:
				o = OutcomeNone
			case r < 25:
				o = OutcomeClosest
			}
			at := bench1M.now.Add(-time.Duration(rng.Int64N(int64(span))))
			batch.Questions = append(batch.Questions, benchQuestion(at, text, o))
			if i%50 == 0 {
				id := fmt.Sprint("answer", i/50)
				batch.Answers = append(batch.Answers, Answer{ID: id, Time: at, Question: text, Outcome: o, IndexVersion: "5f1c2a9e"})
				for v := range 3 {
					batch.Votes = append(batch.Votes, Vote{AnswerID: id, User: UserHash(fmt.Sprint("user", rng.IntN(5000), v)), Up: rng.IntN(3) == 0, Time: at})
				}
			}
			if len(batch.Questions) == 5000 {
				if bench1M.err = db.Write(context.Background(), batch); bench1M.err != nil {
					return
				}
				batch = Batch{}
			}
		}
		bench1M.err = db.Write(context.Background(), batch)
	})
	if bench1M.err != nil {
		b.Fatal(bench1M.err)
	}
	return bench1M.path, bench1M.now
}

// BenchmarkInsights1M times the insights query over a million logged
// questions in a real SQLite file: the whole 90 days, and the last 7.
func BenchmarkInsights1M(b *testing.B) {
	path, now := fill1M(b)
	db, err := OpenSQLite(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, period := range []struct {
		name string
		days int
	}{{"90d", 91}, {"7d", 7}} {
		b.Run(period.name, func(b *testing.B) {
			var in *Insights
			for b.Loop() {
				in, err = db.Insights(context.Background(), now.AddDate(0, 0, -period.days), now.Add(time.Second), 10)
				if err != nil {
					b.Fatal(err)
				}
			}
			if period.days > 90 && in.Total() != benchRows {
				b.Fatalf("insights counted %d questions, want %d", in.Total(), benchRows)
			}
			if len(in.Unanswered) != 10 || len(in.Disliked) != 10 {
				b.Fatalf("insights: %d groups, %d disliked", len(in.Unanswered), len(in.Disliked))
			}
		})
	}
}
