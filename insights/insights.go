// Package insights renders the moderators' view of the question log
// (storage.Insights) as text, JSON, CSV and a PNG chart, for
// `storybot insights` and the bot's /insights alike.
package insights

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"storybot/storage"
)

// Labels say in words what each outcome means.
var Labels = map[storage.Outcome]string{
	storage.OutcomeAnswer:  "answered",
	storage.OutcomeClosest: "not in the stories, closest passage offered",
	storage.OutcomeNone:    "not in the stories",
}

const dayFormat = "2006-01-02"

// WriteText writes the insights for a person to read.
func WriteText(w io.Writer, in *storage.Insights) error {
	var b strings.Builder
	total := in.Total()
	fmt.Fprintf(&b, "Questions from %s to %s: %d\n", in.Since.UTC().Format("2006-01-02 15:04"), in.Until.UTC().Format("2006-01-02 15:04 UTC"), total)
	for _, o := range storage.Outcomes {
		n := in.ByOutcome[o]
		fmt.Fprintf(&b, "  %6d  %5.1f%%  %s\n", n, percent(n, total), Labels[o])
	}

	b.WriteString("\nMost asked that the stories do not answer (near-identical wordings grouped):\n")
	if len(in.Unanswered) == 0 {
		b.WriteString("  none\n")
	}
	for _, g := range in.Unanswered {
		fmt.Fprintf(&b, "  %5d×  %s  (closest passage offered %d, nothing close %d; last asked %s)\n",
			g.Count, oneLine(g.Example), g.Closest, g.None, g.Last.UTC().Format(dayFormat))
	}

	b.WriteString("\nAnswers with the most 👎:\n")
	if len(in.Disliked) == 0 {
		b.WriteString("  none\n")
	}
	for _, a := range in.Disliked {
		q := oneLine(a.Question)
		if q == "" {
			q = "(question not kept)"
		}
		fmt.Fprintf(&b, "  %4d 👎 %4d 👍  %s  (answer %s, index %s)\n", a.Down, a.Up, q, a.AnswerID, orDash(a.IndexVersion))
	}

	b.WriteString("\nPer day (UTC):\n")
	if len(in.PerDay) == 0 {
		b.WriteString("  no questions\n")
	}
	for _, d := range in.PerDay {
		fmt.Fprintf(&b, "  %s  %6d answered  %6d closest  %6d none\n", d.Day.Format(dayFormat),
			d.ByOutcome[storage.OutcomeAnswer], d.ByOutcome[storage.OutcomeClosest], d.ByOutcome[storage.OutcomeNone])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Report is the JSON form: stable field names for scripts.
type Report struct {
	Since      time.Time               `json:"since"`
	Until      time.Time               `json:"until"`
	Total      int                     `json:"total"`
	ByOutcome  map[storage.Outcome]int `json:"by_outcome"`
	PerDay     []ReportDay             `json:"per_day"`
	Unanswered []ReportGroup           `json:"unanswered"`
	Disliked   []ReportAnswer          `json:"disliked"`
}

// ReportDay is one UTC day.
type ReportDay struct {
	Day       string                  `json:"day"`
	ByOutcome map[storage.Outcome]int `json:"by_outcome"`
}

// ReportGroup is one group of near-identical questions.
type ReportGroup struct {
	Question string    `json:"question"`
	Key      string    `json:"key"`
	Count    int       `json:"count"`
	Closest  int       `json:"closest"`
	None     int       `json:"none"`
	Last     time.Time `json:"last"`
}

// ReportAnswer is one disliked answer.
type ReportAnswer struct {
	AnswerID     string `json:"answer_id"`
	Question     string `json:"question"`
	IndexVersion string `json:"index_version"`
	Up           int    `json:"up"`
	Down         int    `json:"down"`
}

// NewReport turns insights into their JSON form.
func NewReport(in *storage.Insights) Report {
	r := Report{Since: in.Since.UTC(), Until: in.Until.UTC(), Total: in.Total(), ByOutcome: in.ByOutcome,
		PerDay: []ReportDay{}, Unanswered: []ReportGroup{}, Disliked: []ReportAnswer{}}
	for _, d := range in.PerDay {
		r.PerDay = append(r.PerDay, ReportDay{d.Day.Format(dayFormat), d.ByOutcome})
	}
	for _, g := range in.Unanswered {
		r.Unanswered = append(r.Unanswered, ReportGroup{g.Example, g.Key, g.Count, g.Closest, g.None, g.Last.UTC()})
	}
	for _, a := range in.Disliked {
		r.Disliked = append(r.Disliked, ReportAnswer{a.AnswerID, a.Question, a.IndexVersion, a.Up, a.Down})
	}
	return r
}

// WriteJSON writes the Report, indented.
func WriteJSON(w io.Writer, in *storage.Insights) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewReport(in))
}

// CSVHeader is the first row of WriteCSV: one table in long form, a row per
// figure, so a spreadsheet can filter by section.
var CSVHeader = []string{"section", "day", "outcome", "question", "answer_id", "count", "up", "down"}

// WriteCSV writes every figure as a row: section "outcome" (count by
// outcome), "day" (count per day and outcome), "unanswered" (a group of
// questions, count and the last wording) and "disliked" (an answer's votes).
func WriteCSV(w io.Writer, in *storage.Insights) error {
	cw := csv.NewWriter(w)
	rows := [][]string{CSVHeader}
	itoa := strconv.Itoa
	for _, o := range storage.Outcomes {
		rows = append(rows, []string{"outcome", "", string(o), "", "", itoa(in.ByOutcome[o]), "", ""})
	}
	for _, d := range in.PerDay {
		for _, o := range storage.Outcomes {
			rows = append(rows, []string{"day", d.Day.Format(dayFormat), string(o), "", "", itoa(d.ByOutcome[o]), "", ""})
		}
	}
	for _, g := range in.Unanswered {
		rows = append(rows, []string{"unanswered", g.Last.UTC().Format(dayFormat), "", g.Example, "", itoa(g.Count), "", ""})
	}
	for _, a := range in.Disliked {
		rows = append(rows, []string{"disliked", "", "", a.Question, a.AnswerID, "", itoa(a.Up), itoa(a.Down)})
	}
	for _, r := range rows {
		for i, f := range r {
			r[i] = defuseFormula(f)
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// defuseFormula keeps a question such as "=HYPERLINK(…)" from running as a
// formula when the CSV is opened in a spreadsheet.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

func percent(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
