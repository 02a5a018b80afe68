package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const msPerDay = 24 * 60 * 60 * 1000

// Insights is what moderators see: what people ask that the stories do not
// answer, which answers they dislike, and how many questions get which
// outcome.
type Insights struct {
	// Since and Until bound the period: midnight UTC of its first day and
	// of the day after its last.
	Since, Until time.Time
	// ByOutcome counts the questions of the period by outcome.
	ByOutcome map[Outcome]int
	// PerDay counts them per UTC day, oldest first; days without questions
	// are left out.
	PerDay []DayCount
	// Unanswered are the most frequent declined or hedged questions,
	// near-identical wordings grouped (QuestionKey), most asked first.
	// Questions logged without their text are not among them.
	Unanswered []QuestionGroup
	// Disliked are the answers with the most 👎 in the period, most first.
	Disliked []AnswerVotes
}

// Total is the number of questions in the period.
func (in *Insights) Total() int {
	n := 0
	for _, c := range in.ByOutcome {
		n += c
	}
	return n
}

// DayCount is one UTC day's questions by outcome.
type DayCount struct {
	Day       time.Time
	ByOutcome map[Outcome]int
}

// QuestionGroup is one wording of a question the stories did not answer.
type QuestionGroup struct {
	Key string
	// Example is the group's most recent wording.
	Example string
	Count   int
	// Closest and None split Count by outcome.
	Closest, None int
	Last          time.Time
}

// AnswerVotes is an answer's votes.
type AnswerVotes struct {
	AnswerID string
	// Question and IndexVersion are "" when the answer was not saved (or
	// has been pruned).
	Question     string
	IndexVersion string
	Up, Down     int
}

// Insights summarises the UTC days from since's to until's (until itself
// excluded, so until at midnight ends the day before): whole days, as the
// per-day counts are kept. top bounds the two lists.
func (s *DB) Insights(ctx context.Context, since, until time.Time, top int) (*Insights, error) {
	if top < 1 {
		top = 10
	}
	firstDay := millis(since) / msPerDay
	lastDay := max(firstDay, (until.Add(-time.Millisecond).UnixMilli())/msPerDay)
	from, to := firstDay*msPerDay, (lastDay+1)*msPerDay
	in := &Insights{Since: time.UnixMilli(from).UTC(), Until: time.UnixMilli(to).UTC(), ByOutcome: map[Outcome]int{}}
	for _, o := range Outcomes {
		in.ByOutcome[o] = 0
	}

	rows, err := s.db.QueryContext(ctx, s.q(`SELECT day, outcome, n FROM question_days
		WHERE day >= ? AND day <= ? AND n > 0 ORDER BY day, outcome`), firstDay, lastDay)
	if err != nil {
		return nil, fmt.Errorf("insights: per day: %w", err)
	}
	err = scanAll(rows, func() error {
		var (
			day     int64
			outcome string
			n       int
		)
		if err := rows.Scan(&day, &outcome, &n); err != nil {
			return err
		}
		if len(in.PerDay) == 0 || in.PerDay[len(in.PerDay)-1].Day.UnixMilli() != day*msPerDay {
			in.PerDay = append(in.PerDay, DayCount{Day: time.UnixMilli(day * msPerDay).UTC(), ByOutcome: map[Outcome]int{}})
		}
		in.PerDay[len(in.PerDay)-1].ByOutcome[Outcome(outcome)] += n
		in.ByOutcome[Outcome(outcome)] += n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insights: per day: %w", err)
	}

	// "outcome <> 'answer'" repeats the partial index's condition, so the
	// planner may read the index alone.
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT question_key, COUNT(*),
			SUM(CASE WHEN outcome = 'closest' THEN 1 ELSE 0 END),
			SUM(CASE WHEN outcome = 'none' THEN 1 ELSE 0 END),
			MAX(ts)
		FROM questions
		WHERE outcome <> 'answer' AND question_key > '' AND ts >= ? AND ts < ?
		GROUP BY question_key
		ORDER BY COUNT(*) DESC, question_key
		LIMIT ?`), from, to, top)
	if err != nil {
		return nil, fmt.Errorf("insights: unanswered: %w", err)
	}
	err = scanAll(rows, func() error {
		var (
			g    QuestionGroup
			last int64
		)
		if err := rows.Scan(&g.Key, &g.Count, &g.Closest, &g.None, &last); err != nil {
			return err
		}
		g.Last = time.UnixMilli(last).UTC()
		in.Unanswered = append(in.Unanswered, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insights: unanswered: %w", err)
	}
	for i := range in.Unanswered {
		g := &in.Unanswered[i]
		err := s.db.QueryRowContext(ctx, s.q(`SELECT question FROM questions
			WHERE outcome <> 'answer' AND question_key = ? AND ts = ? AND question IS NOT NULL LIMIT 1`), g.Key, millis(g.Last)).Scan(&g.Example)
		if err != nil {
			return nil, fmt.Errorf("insights: unanswered example: %w", err)
		}
	}

	rows, err = s.db.QueryContext(ctx, s.q(`SELECT v.answer_id, v.ups, v.downs, COALESCE(a.question, ''), COALESCE(a.index_version, '')
		FROM (SELECT answer_id,
				SUM(CASE WHEN up THEN 1 ELSE 0 END) AS ups,
				SUM(CASE WHEN up THEN 0 ELSE 1 END) AS downs
			FROM votes WHERE ts >= ? AND ts < ?
			GROUP BY answer_id) v
		LEFT JOIN answers a ON a.id = v.answer_id
		WHERE v.downs > 0
		ORDER BY v.downs DESC, v.ups, v.answer_id
		LIMIT ?`), from, to, top)
	if err != nil {
		return nil, fmt.Errorf("insights: disliked answers: %w", err)
	}
	err = scanAll(rows, func() error {
		var a AnswerVotes
		if err := rows.Scan(&a.AnswerID, &a.Up, &a.Down, &a.Question, &a.IndexVersion); err != nil {
			return err
		}
		in.Disliked = append(in.Disliked, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insights: disliked answers: %w", err)
	}
	return in, nil
}

// scanAll calls scan for every row and closes rows.
func scanAll(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}
