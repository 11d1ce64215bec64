package handlers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// successRateChart is the account-wide daily success rate.
func successRateChart(rates []app.DayRate, days int, now time.Time, loc *time.Location) templates.LineChart {
	var pts []templates.SeriesPoint
	for _, d := range rates {
		if d.Total == 0 {
			continue
		}
		pct := 100 * d.Rate()
		color := "#2da44e"
		if pct < 100 {
			color = "#d4a72c"
		}
		if pct < 80 {
			color = "#cf222e"
		}
		pts = append(pts, templates.SeriesPoint{
			T: d.Day.Add(12 * time.Hour), V: pct, Label: strconv.FormatFloat(pct, 'f', 1, 64) + " %",
			Note: fmt.Sprintf("%d of %d backups succeeded, %d failed or missed", d.Success, d.Total, d.Failure), Color: color,
		})
	}
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	if len(rates) > 0 {
		from = rates[0].Day
	}
	c := templates.NewLineChart("success-rate", fmt.Sprintf("Backup success rate per day, last %d days", days),
		"The share of backups each day that completed (with or without errors); each point's title gives the counts.",
		"Succeeded (%)", pts, from, now, templates.PercentTick, loc)
	return c
}

// RunChartsFor builds the per-run charts of one configuration (or agent)
// from its runs; listPath and q make the 30/90-day links (the page the
// charts sit on, with its own query). The configuration and agent pages
// call it with History.Runs' points.
func RunChartsFor(pts []app.RunPoint, agent rcbu.AgentID, config rcbu.ConfigurationID, days int, listPath string, q url.Values, now time.Time, loc *time.Location) templates.RunChartsView {
	name := ""
	if len(pts) > 0 {
		name = pts[len(pts)-1].ConfigName
		if config == 0 {
			name = pts[len(pts)-1].AgentName
		}
	}
	heading := "Backup history"
	if name != "" {
		heading = "Backup history of " + name
	}
	v := templates.RunChartsView{Heading: heading, Days: days, Empty: len(pts) == 0}
	for _, d := range []int{30, 90} {
		lq := cloneValues(q)
		lq.Del("after")
		lq.Del("before")
		lq.Set("days", strconv.Itoa(d))
		v.DayLinks = append(v.DayLinks, templates.DayLink{Days: d, Href: withQuery(listPath, lq), Current: d == days})
	}
	rq := url.Values{}
	if config != 0 {
		rq.Set("config", strconv.FormatInt(int64(config), 10))
	} else if agent != 0 {
		rq.Set("agent", strconv.FormatInt(int64(agent), 10))
	}
	if listPath != "/reports" {
		v.ReportsHref = withQuery("/reports", rq)
	}
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	var bytes, dur, files []templates.SeriesPoint
	for _, p := range pts {
		if s := strings.ToLower(p.State); s == "missed" || s == "skipped" {
			continue // it did not run: nothing to chart (the heatmap shows it)
		}
		note := fmt.Sprintf("backup %d, %s", p.JobID, templates.BackupBadge(p.State).Word)
		if config == 0 {
			note += ", " + p.ConfigName
		}
		color := templates.OutcomeColor(p.State)
		bytes = append(bytes, templates.SeriesPoint{T: p.Finished, V: float64(p.Bytes), Label: templates.Bytes(p.Bytes), Note: note, Color: color})
		dur = append(dur, templates.SeriesPoint{T: p.Finished, V: p.Duration.Seconds(), Label: templates.Duration(p.Duration), Note: note, Color: color})
		files = append(files, templates.SeriesPoint{T: p.Finished, V: float64(p.Files), Label: templates.Count(p.Files), Note: note, Color: color})
	}
	v.Charts = []templates.LineChart{
		templates.NewBytesChart("chart-bytes", "Bytes backed up per run", "One point per backup run: the bytes it backed up.", "Bytes backed up", bytes, from, now, loc),
		templates.NewLineChart("chart-duration", "Duration per run", "One point per backup run: how long it ran.", "Duration", dur, from, now, templates.DurationTick, loc),
		templates.NewLineChart("chart-files", "Files backed up per run", "One point per backup run: the files it backed up.", "Files", files, from, now, templates.CountTick, loc),
	}
	return v
}

// HeatmapFor maps app.History.Heatmap's grid to the overview's component;
// each agent links to its page and each day with errors or failures to that
// day's reports.
func HeatmapFor(hm app.Heatmap, multi bool, loc *time.Location) templates.HeatmapView {
	var agents []templates.HeatAgent
	for _, row := range hm.Rows {
		name := row.AgentName
		if name == "" {
			name = "Agent " + strconv.FormatInt(int64(row.AgentID), 10)
		}
		a := templates.HeatAgent{Name: name, Href: fmt.Sprintf("/agents/%d", row.AgentID)}
		for d, cell := range row.Cells {
			day := hm.From.AddDate(0, 0, d).In(loc).Format(time.DateOnly)
			q := url.Values{"agent": {strconv.FormatInt(int64(row.AgentID), 10)}, "kind": {"backup"}, "from": {day}, "to": {day}}
			if multi {
				q.Set("account", row.AccountID.String())
			}
			hd := templates.HeatDay{Success: cell.Success, Warning: cell.Warning, Failure: cell.Failure, Neutral: cell.Neutral}
			if cell.Warning+cell.Failure > 0 {
				// Days with problems link to their reports; plain green days
				// need no link, which keeps a large fleet's grid light.
				hd.Href = withQuery("/reports", q)
			}
			a.Days = append(a.Days, hd)
		}
		agents = append(agents, a)
	}
	return templates.NewHeatmapView(agents, hm.From, hm.Days, loc)
}
