package templates

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNiceScale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		max, top, step float64
	}{
		{0, 1, 0.25},
		{-5, 1, 0.25},
		{1, 1, 0.25},
		{7, 8, 2},
		{9.5, 10, 2.5},
		{100, 100, 25},
		{101, 150, 50},
		{3600, 4000, 1000},
	}
	for _, tc := range tests {
		top, step := niceScale(tc.max)
		if top != tc.top || step != tc.step {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tc.max, top, step, tc.top, tc.step)
		}
		if top < tc.max {
			t.Errorf("niceScale(%v): top %v below the maximum", tc.max, top)
		}
	}
	top, step := niceScaleBinary(3 << 30)
	if top != 3<<30 || step != 1<<30 {
		t.Errorf("niceScaleBinary(3 GiB) = %v, %v; want 3 GiB in 1 GiB steps", top, step)
	}
	top, step = niceScaleBinary(700 << 20)
	if BytesTick(step) != "200 MB" || BytesTick(top) != "800 MB" {
		t.Errorf("niceScaleBinary(700 MiB) = %s, %s; want 800 MB in 200 MB steps", BytesTick(top), BytesTick(step))
	}
}

func TestNewLineChartPlacesPointsInsideThePlot(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(10 * 24 * time.Hour)
	pts := []SeriesPoint{
		{T: from, V: 0, Label: "0"},
		{T: from.Add(5 * 24 * time.Hour), V: 50, Label: "50", Note: "half"},
		{T: to, V: 100, Label: "100"},
		{T: to.Add(time.Hour), V: 400, Label: "clamped"}, // outside the range: clamped, not drawn off the chart
	}
	c := NewLineChart("c", "Title", "Desc", "Value", pts, from, to, CountTick, time.UTC)
	if c.Empty || len(c.Points) != 4 || len(c.TableRows) != 4 {
		t.Fatalf("chart = %+v", c)
	}
	for _, p := range c.Points {
		if p.X < c.PlotLeft || p.X > c.PlotRight || p.Y < c.PlotTop || p.Y > c.PlotBot {
			t.Errorf("point %+v outside the plot", p)
		}
	}
	if c.Points[0].X != c.PlotLeft || c.Points[0].Y != c.PlotBot {
		t.Errorf("the first point (from, 0) = %v,%v; want the origin", c.Points[0].X, c.Points[0].Y)
	}
	if mid := (c.PlotLeft + c.PlotRight) / 2; c.Points[1].X != mid {
		t.Errorf("the middle point x = %v; want %v", c.Points[1].X, mid)
	}
	if !strings.Contains(c.Points[1].Title, "half") || c.TableRows[1][2] != "half" {
		t.Errorf("the note is missing from the tooltip or table: %q %v", c.Points[1].Title, c.TableRows[1])
	}
	if got := c.YTicks[len(c.YTicks)-1].Label; got != "400" {
		t.Errorf("top tick %q; want 400", got)
	}
	if len(c.XTicks) == 0 || c.XTicks[0].Label != "Mar 1" {
		t.Errorf("x ticks %+v", c.XTicks)
	}
	var buf bytes.Buffer
	if err := ChartSVG(c).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`role="img"`, `<title id="c-title">Title</title>`, `<desc id="c-desc">Desc</desc>`, "Show as table", `aria-labelledby="c-title c-desc"`} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %s", want)
		}
	}
	if strings.Contains(out, "style=") {
		t.Error("the SVG has an inline style attribute; the CSP forbids them")
	}
	empty := NewLineChart("e", "Empty", "", "V", nil, from, to, CountTick, time.UTC)
	buf.Reset()
	if err := ChartSVG(empty).Render(context.Background(), &buf); err != nil || !strings.Contains(buf.String(), "chart-empty") {
		t.Errorf("empty chart: %v %s", err, buf.String())
	}
}

// Durations and counts are whole numbers: runs of 1–2 s, or a few files,
// get an axis of whole steps whose labels differ, not 0.5 s ticks that read
// "0 s, 0 s, 1 s, 1 s, 2 s".
func TestWholeValuesGetWholeTicks(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	pts := []SeriesPoint{{T: from, V: 1, Label: "1 s"}, {T: from.Add(time.Hour), V: 2, Label: "2 s"}}
	for name, format := range map[string]func(float64) string{"durations": DurationTick, "counts": CountTick} {
		c := NewLineChart("c", "T", "", "V", pts, from, from.Add(24*time.Hour), format, time.UTC)
		var labels []string
		for _, tk := range c.YTicks {
			labels = append(labels, tk.Label)
		}
		want := []string{format(0), format(1), format(2)}
		if !slices.Equal(labels, want) {
			t.Errorf("%s: ticks %q; want %q", name, labels, want)
		}
	}
	if got := DurationTick(90.4); got != "1 min 30 s" {
		t.Errorf("DurationTick(90.4) = %q", got)
	}
	// Large counts are short enough to sit beside the axis.
	for v, want := range map[float64]string{0: "0", 2500: "2,500", 20_000: "20 k", 250_000: "250 k", 10_000_000: "10 M", 2_500_000: "2.5 M"} {
		if got := CountTick(v); got != want {
			t.Errorf("CountTick(%v) = %q; want %q", v, got, want)
		}
	}
}

func TestDayCellWorstOutcomeWins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d     HeatDay
		mark  string
		words string
	}{
		{HeatDay{}, "empty", "no runs"},
		{HeatDay{Success: 3}, "", "3 completed"},
		{HeatDay{Success: 1, Warning: 2}, "warn", "1 completed, 2 with errors"},
		{HeatDay{Success: 1, Warning: 1, Failure: 1, Neutral: 1}, "fail", "1 completed, 1 with errors, 1 failed or missed, 1 stopped or skipped"},
		{HeatDay{Neutral: 2}, "none", "2 stopped or skipped"},
	}
	for _, tc := range tests {
		c, words := dayCell(tc.d)
		if c.Mark != tc.mark || words != tc.words {
			t.Errorf("dayCell(%+v) = %q, %q; want %q, %q", tc.d, c.Mark, words, tc.mark, tc.words)
		}
	}
}
