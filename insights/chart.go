package insights

import (
	"fmt"
	"image/color"
	"io"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"storybot/storage"
)

// Colors of the outcomes in the chart: green for answered, amber for a
// hedge, red for nothing.
var Colors = map[storage.Outcome]color.RGBA{
	storage.OutcomeAnswer:  {R: 0x2e, G: 0x9e, B: 0x4f, A: 0xff},
	storage.OutcomeClosest: {R: 0xf0, G: 0xa2, B: 0x02, A: 0xff},
	storage.OutcomeNone:    {R: 0xd6, G: 0x2d, B: 0x20, A: 0xff},
}

// chartLabels are Labels, short enough for the legend.
var chartLabels = map[storage.Outcome]string{
	storage.OutcomeAnswer:  "answered",
	storage.OutcomeClosest: "closest passage offered",
	storage.OutcomeNone:    "not in the stories",
}

// Chart size: legible when Discord shows the attachment inline.
const (
	chartWidth  = 8 * vg.Inch
	chartHeight = 4 * vg.Inch
	// maxChartDays bounds the bars; a longer period shows its last days.
	maxChartDays = 366
)

// WriteChart draws questions per UTC day by outcome, as stacked bars from
// the day of in.Since to the day before in.Until (days without questions
// included, at zero), and writes it as a PNG.
func WriteChart(w io.Writer, in *storage.Insights) error {
	days := chartDays(in)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Questions per day by outcome (UTC), %s to %s", days[0].Format(dayFormat), days[len(days)-1].Format(dayFormat))
	p.Y.Label.Text = "questions"
	p.Y.Min = 0
	p.Legend.Top = true

	counts := map[time.Time]map[storage.Outcome]int{}
	for _, d := range in.PerDay {
		counts[d.Day] = d.ByOutcome
	}
	width := max(vg.Points(2), (chartWidth-vg.Inch)/vg.Length(len(days))*0.8)
	var below *plotter.BarChart
	for _, o := range storage.Outcomes {
		vals := make(plotter.Values, len(days))
		for i, d := range days {
			vals[i] = float64(counts[d][o])
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		bars.Color = Colors[o]
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(chartLabels[o], bars)
	}
	// Headroom above the tallest bar for the legend.
	tallest := 0
	for _, d := range days {
		n := 0
		for _, c := range counts[d] {
			n += c
		}
		tallest = max(tallest, n)
	}
	p.Y.Max = max(1, float64(tallest)*1.3)
	// A label every few days keeps them apart.
	every := max(1, len(days)/10)
	names := make([]string, len(days))
	for i, d := range days {
		if i%every == 0 {
			names[i] = d.Format("Jan 2")
		}
	}
	p.NominalX(names...)
	wt, err := p.WriterTo(chartWidth, chartHeight, "png")
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

// chartDays is every UTC day of the period, at least one.
func chartDays(in *storage.Insights) []time.Time {
	first := in.Since.UTC().Truncate(24 * time.Hour)
	last := in.Until.UTC().Add(-time.Nanosecond).Truncate(24 * time.Hour)
	if last.Before(first) {
		last = first
	}
	var days []time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	if len(days) > maxChartDays {
		days = days[len(days)-maxChartDays:]
	}
	return days
}
