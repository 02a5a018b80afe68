package insights

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"storybot/storage"
)

var day0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func sample() *storage.Insights {
	return &storage.Insights{
		Since:     day0,
		Until:     day0.AddDate(0, 0, 7),
		ByOutcome: map[storage.Outcome]int{storage.OutcomeAnswer: 30, storage.OutcomeClosest: 6, storage.OutcomeNone: 4},
		PerDay: []storage.DayCount{
			{Day: day0, ByOutcome: map[storage.Outcome]int{storage.OutcomeAnswer: 20, storage.OutcomeNone: 4}},
			{Day: day0.AddDate(0, 0, 3), ByOutcome: map[storage.Outcome]int{storage.OutcomeAnswer: 10, storage.OutcomeClosest: 6}},
		},
		Unanswered: []storage.QuestionGroup{
			{Key: "capit franc", Example: "What is the capital of France?", Count: 7, Closest: 3, None: 4, Last: day0.AddDate(0, 0, 3)},
			{Key: "hyperlink", Example: "=HYPERLINK(\"http://x\")", Count: 1, None: 1, Last: day0},
		},
		Disliked: []storage.AnswerVotes{{AnswerID: "118", Question: "Who favors strikes?", IndexVersion: "v3", Up: 1, Down: 5}, {AnswerID: "119", Down: 1}},
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Questions from 2026-11-20 00:00 to 2026-11-27 00:00 UTC: 40",
		"    30   75.0%  answered",
		"     4   10.0%  not in the stories\n",
		"7×  What is the capital of France?  (closest passage offered 3, nothing close 4; last asked 2026-11-23)",
		"5 👎    1 👍  Who favors strikes?  (answer 118, index v3)",
		"(question not kept)",
		"2026-11-23      10 answered       6 closest       0 none",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Total != 40 || r.ByOutcome["closest"] != 6 || len(r.PerDay) != 2 || r.PerDay[1].Day != "2026-11-23" ||
		r.Unanswered[0].Question != "What is the capital of France?" || r.Disliked[0].Down != 5 {
		t.Errorf("report %+v", r)
	}
	// Empty lists are [], not null, for scripts.
	b.Reset()
	WriteJSON(&b, &storage.Insights{Since: day0, Until: day0, ByOutcome: map[storage.Outcome]int{}})
	if !strings.Contains(b.String(), `"unanswered": []`) || !strings.Contains(b.String(), `"per_day": []`) {
		t.Errorf("empty report: %s", b.String())
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sample()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	// 1 header + 3 outcomes + 2 days × 3 outcomes + 2 groups + 2 answers
	if len(rows) != 14 {
		t.Errorf("%d rows", len(rows))
	}
	find := func(section, field string) []string {
		for _, r := range rows {
			if r[0] == section && (r[1] == field || r[2] == field || r[3] == field) {
				return r
			}
		}
		return nil
	}
	if r := find("outcome", "none"); r == nil || r[5] != "4" {
		t.Errorf("outcome none row %v", r)
	}
	if r := find("day", "2026-11-23"); r == nil || r[2] != "answer" || r[5] != "10" {
		t.Errorf("day row %v", r)
	}
	if r := find("unanswered", "'=HYPERLINK(\"http://x\")"); r == nil {
		t.Errorf("a formula-like question is not defused: %v", rows)
	}
	if r := find("disliked", "Who favors strikes?"); r == nil || r[4] != "118" || r[7] != "5" {
		t.Errorf("disliked row %v", r)
	}
}

func TestChartIsAPNGWithEveryOutcome(t *testing.T) {
	var b bytes.Buffer
	if err := WriteChart(&b, sample()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 600 || r.Dy() < 300 {
		t.Errorf("chart is %v", r)
	}
	seen := map[storage.Outcome]int{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			for o, want := range Colors {
				if c == want {
					seen[o]++
				}
			}
		}
	}
	// Bars are drawn in proportion: answered (30) covers more than the
	// hedges (6), which cover more than nothing-close (4). The legend's
	// swatches are the same size for each, so they cancel out.
	if !(seen["answer"] > seen["closest"] && seen["closest"] > seen["none"] && seen["none"] > 0) {
		t.Errorf("pixels per outcome colour %v", seen)
	}
	if days := chartDays(sample()); len(days) != 7 || !days[6].Equal(day0.AddDate(0, 0, 6)) {
		t.Errorf("chart days %v", days)
	}
}
