package templates

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart geometry, in SVG user units. The SVGs scale to their container
// (width 100%, viewBox). The width is close to a chart's width on the page
// (three abreast at 1280 px, one on a phone), so the 13-unit text draws at
// 11 px or more instead of shrinking with a wide viewBox.
const (
	chartW        = 400
	chartH        = 220
	chartLeft     = 84 // room for the y axis title and tick labels
	chartRight    = 12
	chartTop      = 12
	chartBottom   = 42 // room for the x tick labels and the axis title
	chartFontSize = 13
	chartXTicks   = 5 // at most; a phone shows every other one
)

// Chart colours as SVG presentation attributes (the CSP forbids inline
// styles; a stylesheet may still override them through the classes). They
// are mid-tones that read on light and dark backgrounds; text and axes use
// currentColor.
const (
	colorLine    = "#2f81f7"
	colorSuccess = "#2da44e"
	colorWarning = "#d4a72c"
	colorFailure = "#cf222e"
	colorNeutral = "#8c959f"
)

// Tick is a labelled position on an axis. Minor ticks are hidden on a
// phone, where the chart is simplified.
type Tick struct {
	Pos   float64
	Label string
	Minor bool
}

// ChartPoint is one plotted value, with its tooltip.
type ChartPoint struct {
	X, Y  float64
	Title string // shown as the point's <title>
	Color string
	Class string
}

// LineChart is a server-rendered time series: a polyline with a point per
// value, labelled axes, and the same data as a table for screen readers.
type LineChart struct {
	ID        string // unique in the page, for aria-labelledby
	Title     string
	Desc      string // one sentence: what the chart shows
	XLabel    string
	YLabel    string
	Width     int
	Height    int
	PlotLeft  float64
	PlotRight float64
	PlotTop   float64
	PlotBot   float64
	Line      string // polyline points "x,y x,y ..."
	Points    []ChartPoint
	ShowDots  bool
	XTicks    []Tick
	YTicks    []Tick
	TableHead []string
	TableRows [][]string
	Empty     bool
	// Legend names the colours the points use, in a fixed order.
	Legend []LegendItem
}

// LegendItem is one colour of a chart's legend: its words and the class
// that colours both the swatch and the points.
type LegendItem struct {
	Label string
	Class string
}

// chartOutcomes are the point colours a legend can name, in its order.
var chartOutcomes = []struct {
	color, class, label string
}{
	{colorSuccess, "pt-success", "Completed"},
	{colorWarning, "pt-warning", "Completed with errors"},
	{colorFailure, "pt-failure", "Failed or missed"},
	{colorNeutral, "pt-neutral", "Stopped or skipped"},
}

// pointClass is the class of a point of colour c: the stylesheet draws it
// with the theme's own colour for that outcome.
func pointClass(c string) string {
	for _, o := range chartOutcomes {
		if strings.EqualFold(o.color, c) {
			return o.class
		}
	}
	return "pt-line"
}

// SeriesPoint is one value of a time series before layout.
type SeriesPoint struct {
	T     time.Time
	V     float64
	Label string // the value formatted for people ("1.2 GB")
	Note  string // extra words for the tooltip and table ("Completed", "backup 4100028")
	Color string // the point's colour; colorLine when empty
}

// NewLineChart lays out pts (in time order) between from and to. yFormat
// formats axis ticks; loc is the reader's time zone for the x labels.
func NewLineChart(id, title, desc, yLabel string, pts []SeriesPoint, from, to time.Time, yFormat func(float64) string, loc *time.Location) LineChart {
	return newLineChart(id, title, desc, yLabel, pts, from, to, yFormat, loc, false)
}

// NewBytesChart is NewLineChart for byte values: the y ticks fall on round
// binary sizes (256 MB, 1 GB) rather than decimal ones.
func NewBytesChart(id, title, desc, yLabel string, pts []SeriesPoint, from, to time.Time, loc *time.Location) LineChart {
	return newLineChart(id, title, desc, yLabel, pts, from, to, BytesTick, loc, true)
}

func newLineChart(id, title, desc, yLabel string, pts []SeriesPoint, from, to time.Time, yFormat func(float64) string, loc *time.Location, binary bool) LineChart {
	if loc == nil {
		loc = time.UTC
	}
	c := LineChart{
		ID: id, Title: title, Desc: desc, XLabel: "Date (" + zoneName(to, loc) + ")", YLabel: yLabel,
		Width: chartW, Height: chartH,
		PlotLeft: chartLeft, PlotRight: chartW - chartRight, PlotTop: chartTop, PlotBot: chartH - chartBottom,
		TableHead: []string{"When", yLabel, "Details"},
		Empty:     len(pts) == 0,
	}
	maxV := 0.0
	for _, p := range pts {
		maxV = math.Max(maxV, p.V)
	}
	top, step := niceScale(maxV)
	switch {
	case binary:
		top, step = niceScaleBinary(maxV)
	case step < 1:
		// The other charts' values are whole (seconds, files, percentage
		// points): no tick falls between two whole numbers, where its label
		// would repeat a neighbour's.
		top, step = math.Max(math.Ceil(maxV), 1), 1
	}
	for i, v := 0, 0.0; v <= top+step/2; i, v = i+1, v+step {
		c.YTicks = append(c.YTicks, Tick{Pos: c.y(v, top), Label: yFormat(v), Minor: i%2 == 1})
	}
	span := to.Sub(from)
	if span <= 0 {
		span = time.Hour
	}
	for i, t := range dayTicks(from, to, loc, chartXTicks) {
		c.XTicks = append(c.XTicks, Tick{Pos: c.x(t, from, span), Label: t.In(loc).Format("Jan 2"), Minor: i%2 == 1})
	}
	var line strings.Builder
	for i, p := range pts {
		x, y := c.x(p.T, from, span), c.y(p.V, top)
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(num(x) + "," + num(y))
		color := p.Color
		if color == "" {
			color = colorLine
		}
		when := p.T.In(loc).Format("2006-01-02 15:04 MST")
		title := when + ": " + p.Label
		if p.Note != "" {
			title += " (" + p.Note + ")"
		}
		c.Points = append(c.Points, ChartPoint{X: x, Y: y, Title: title, Color: color, Class: pointClass(color)})
		c.TableRows = append(c.TableRows, []string{when, p.Label, p.Note})
	}
	c.Line = line.String()
	c.ShowDots = len(pts) <= 150
	for _, o := range chartOutcomes {
		for _, p := range c.Points {
			if p.Class == o.class {
				c.Legend = append(c.Legend, LegendItem{Label: o.label, Class: o.class})
				break
			}
		}
	}
	return c
}

func (c LineChart) x(t, from time.Time, span time.Duration) float64 {
	f := float64(t.Sub(from)) / float64(span)
	return c.PlotLeft + math.Min(math.Max(f, 0), 1)*(c.PlotRight-c.PlotLeft)
}

func (c LineChart) y(v, top float64) float64 {
	if top <= 0 {
		return c.PlotBot
	}
	return c.PlotBot - math.Min(math.Max(v/top, 0), 1)*(c.PlotBot-c.PlotTop)
}

// TitleID is the id of the chart's <title>, for aria-labelledby.
func (c LineChart) TitleID() string { return c.ID + "-title" }

// DescID is the id of the chart's <desc>.
func (c LineChart) DescID() string { return c.ID + "-desc" }

// ViewBox is the SVG viewBox.
func (c LineChart) ViewBox() string { return fmt.Sprintf("0 0 %d %d", c.Width, c.Height) }

// niceScale returns an axis top ≥ max and a tick step from 1, 2 or 5 × 10^n,
// giving four or five intervals.
func niceScale(max float64) (top, step float64) {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 1, 0.25
	}
	raw := max / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return math.Ceil(max/step) * step, step
}

// niceScaleBinary is niceScale in units of 1024^k, so byte ticks read
// "256 MB", "512 MB" rather than "476.8 MB".
func niceScaleBinary(max float64) (top, step float64) {
	unit := 1.0
	for max/unit >= 1024 {
		unit *= 1024
	}
	top, step = niceScale(max / unit)
	return top * unit, step * unit
}

// dayTicks returns up to n local midnights between from and to, evenly spaced.
func dayTicks(from, to time.Time, loc *time.Location, n int) []time.Time {
	f := from.In(loc)
	day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	if day.Before(from) {
		day = day.AddDate(0, 0, 1)
	}
	days := int(to.Sub(day)/(24*time.Hour)) + 1
	every := max(1, (days+n-1)/n)
	var out []time.Time
	for d := day; !d.After(to); d = d.AddDate(0, 0, every) {
		out = append(out, d)
	}
	return out
}

func zoneName(t time.Time, loc *time.Location) string {
	name, _ := t.In(loc).Zone()
	return name
}

// num formats an SVG coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// BytesTick formats a byte axis tick.
func BytesTick(v float64) string { return Bytes(int64(v)) }

// CountTick formats a count axis tick, large ones short ("40 M", "250 k")
// so that the label fits beside the axis; the table and the tooltips give
// the exact figures.
func CountTick(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + " M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + " k"
	case v != math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return Count(int64(v))
}

// DurationTick formats a duration axis tick given in seconds.
func DurationTick(v float64) string { return Duration(time.Duration(v * float64(time.Second))) }

// PercentTick formats a 0–100 axis tick.
func PercentTick(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " %" }

// OutcomeColor is the chart colour of a report state.
func OutcomeColor(state string) string {
	switch BackupBadge(state).Tone {
	case ToneSuccess:
		return colorSuccess
	case ToneWarning:
		return colorWarning
	case ToneDanger:
		return colorFailure
	default:
		return colorNeutral
	}
}

// RunChartsView is the per-run charts of one configuration or agent.
type RunChartsView struct {
	Heading     string // "History of nightly-www"
	Days        int    // 30 or 90
	DayLinks    []DayLink
	Charts      []LineChart // bytes backed up, duration, files backed up
	Empty       bool
	ReportsHref string // the history table filtered the same way
}

// DayLink switches the charts' range.
type DayLink struct {
	Days    int
	Href    string
	Current bool
}

// HeatmapView is the agents × days grid of backup outcomes.
type HeatmapView struct {
	Days      int
	Width     int
	Height    int
	LabelW    int
	Rows      []HeatmapRowView
	DayTicks  []Tick
	Legend    []HeatLegend
	TableHead []string // the dates, for the table fallback
	Empty     bool
}

// heatPad is how far the days' drawing reaches left of the first day, for
// the half of the first date label that stands left of its square.
const heatPad = 20

// NamesWidth is the width of the agents' names, left of the days' drawing.
func (h HeatmapView) NamesWidth() int { return h.LabelW - heatPad }

// GridWidth is the width of the days' drawing.
func (h HeatmapView) GridWidth() int { return h.Width - h.NamesWidth() }

// NamesViewBox is the viewBox of the agents' names: the left of the layout.
func (h HeatmapView) NamesViewBox() string { return fmt.Sprintf("0 0 %d %d", h.NamesWidth(), h.Height) }

// GridViewBox is the viewBox of the days: the layout right of the names.
func (h HeatmapView) GridViewBox() string {
	return fmt.Sprintf("%d 0 %d %d", h.NamesWidth(), h.GridWidth(), h.Height)
}

// HeatmapRowView is one agent's row.
type HeatmapRowView struct {
	Name   string
	Href   string
	Y      float64 // top of the row's cells
	TextY  float64
	Cells  []HeatCell
	Counts []string // per day, for the table: "2 ok, 1 failed" or "—"
}

// HeatCell is one day of one agent. Mark is the shape that carries the
// outcome besides the colour: "" (success), "warn", "fail", "none".
type HeatCell struct {
	X, Y   float64
	Size   float64
	Fill   string
	Stroke string
	Mark   string
	Title  string
	Href   string
}

// HeatLegend explains one colour and mark.
type HeatLegend struct {
	Label string
	Cell  HeatCell
}

// Heatmap layout constants.
const (
	heatSize  = 14
	heatGap   = 2
	heatLabel = 150
	heatTop   = 4
	heatAxis  = 22
)

// HeatDay is one cell's counts before layout.
type HeatDay struct {
	Success, Warning, Failure, Neutral int
	Href                               string
}

// HeatAgent is one row's data before layout.
type HeatAgent struct {
	Name string
	Href string
	Days []HeatDay
}

// NewHeatmapView lays out the grid: a row per agent, a column per day
// starting at from (local midnight in loc).
func NewHeatmapView(agents []HeatAgent, from time.Time, days int, loc *time.Location) HeatmapView {
	if loc == nil {
		loc = time.UTC
	}
	v := HeatmapView{Days: days, LabelW: heatLabel, Empty: len(agents) == 0}
	pitch := float64(heatSize + heatGap)
	v.Width = heatLabel + days*(heatSize+heatGap) + 24 // room for the last day's label
	v.Height = heatTop + len(agents)*(heatSize+heatGap) + heatAxis
	for d := 0; d < days; d++ {
		day := from.AddDate(0, 0, d).In(loc)
		v.TableHead = append(v.TableHead, day.Format("Jan 2"))
		if d%7 == 0 || (d == days-1 && d%7 >= 4) { // the last day too, unless it would crowd the previous label
			v.DayTicks = append(v.DayTicks, Tick{Pos: float64(heatLabel) + float64(d)*pitch + heatSize/2, Label: day.Format("Jan 2")})
		}
	}
	for i, a := range agents {
		y := float64(heatTop) + float64(i)*pitch
		row := HeatmapRowView{Name: a.Name, Href: a.Href, Y: y, TextY: y + heatSize - 3}
		for d := 0; d < days; d++ {
			var hd HeatDay
			if d < len(a.Days) {
				hd = a.Days[d]
			}
			day := from.AddDate(0, 0, d).In(loc).Format("Mon Jan 2")
			cell, words := dayCell(hd)
			cell.X, cell.Y, cell.Size, cell.Href = float64(heatLabel)+float64(d)*pitch, y, heatSize, hd.Href
			cell.Title = a.Name + ", " + day + ": " + words
			row.Cells = append(row.Cells, cell)
			row.Counts = append(row.Counts, words)
		}
		v.Rows = append(v.Rows, row)
	}
	for _, l := range []struct {
		label string
		d     HeatDay
	}{
		{"All succeeded", HeatDay{Success: 1}},
		{"Some with errors", HeatDay{Warning: 1}},
		{"Some failed or missed", HeatDay{Failure: 1}},
		{"Only stopped or skipped", HeatDay{Neutral: 1}},
		{"No runs", HeatDay{}},
	} {
		c, _ := dayCell(l.d)
		c.Size = heatSize
		v.Legend = append(v.Legend, HeatLegend{Label: l.label, Cell: c})
	}
	return v
}

// dayCell picks a day's colour and mark (the worst outcome wins) and
// describes its counts in words.
func dayCell(d HeatDay) (HeatCell, string) {
	var parts []string
	add := func(n int, one, many string) {
		if n > 0 {
			parts = append(parts, Plural(int64(n), one, many))
		}
	}
	add(d.Success, "completed", "completed")
	add(d.Warning, "with errors", "with errors")
	add(d.Failure, "failed or missed", "failed or missed")
	add(d.Neutral, "stopped or skipped", "stopped or skipped")
	words := strings.Join(parts, ", ")
	switch {
	case d.Failure > 0:
		return HeatCell{Fill: colorFailure, Mark: "fail"}, words
	case d.Warning > 0:
		return HeatCell{Fill: colorWarning, Mark: "warn"}, words
	case d.Success > 0:
		return HeatCell{Fill: colorSuccess}, words
	case d.Neutral > 0:
		return HeatCell{Fill: "none", Stroke: colorNeutral, Mark: "none"}, words
	default:
		return HeatCell{Fill: "currentColor", Mark: "empty"}, "no runs"
	}
}

// FailPath is the "×" drawn over a failed day, in the cell's coordinates.
func (c HeatCell) FailPath() string {
	a, b := c.Size*0.25, c.Size*0.75
	return fmt.Sprintf("M%s %sL%s %sM%s %sL%s %s", num(c.X+a), num(c.Y+a), num(c.X+b), num(c.Y+b), num(c.X+b), num(c.Y+a), num(c.X+a), num(c.Y+b))
}

// WarnPath is the "!" drawn over a day with errors: a bar and a dot.
func (c HeatCell) WarnPath() string {
	m := c.X + c.Size/2
	return fmt.Sprintf("M%s %sV%sM%s %sV%s", num(m), num(c.Y+c.Size*0.2), num(c.Y+c.Size*0.6), num(m), num(c.Y+c.Size*0.72), num(c.Y+c.Size*0.86))
}

// dotRadius is the radius of a chart point: visible dots for a few points,
// small hit targets (for their tooltips) for many.
func dotRadius(show bool) string {
	if show {
		return "3"
	}
	return "1.5"
}

// headAt returns head[i], or "" past its end.
func headAt(head []string, i int) string {
	if i < len(head) {
		return head[i]
	}
	return ""
}

// markClass names a cell's mark for classes and tests.
func markClass(mark string) string {
	if mark == "" {
		return "ok"
	}
	return mark
}

// clip shortens s to at most n characters, with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
