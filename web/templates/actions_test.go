package templates

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestFilterCountAndSummary(t *testing.T) {
	t.Parallel()
	if n := FilterCount("", "x", "", "y"); n != 2 {
		t.Errorf("FilterCount = %d, want 2", n)
	}
	if got := filterSummary(0); got != "Filters" {
		t.Errorf("no filter: %q", got)
	}
	if got := filterSummary(3); got != "Filters (3 active)" {
		t.Errorf("three filters: %q", got)
	}
	f := ActivityFilterView{
		State: SelectField{Options: []Option{{Value: "", Label: "Any"}, {Value: "failed", Label: "Failed", Selected: true}}},
		Since: SelectField{Options: []Option{{Value: "", Label: "Any time", Selected: true}}},
	}
	if n := f.Count(); n != 1 {
		t.Errorf("activity filter count %d, want 1 (the default option is not a filter)", n)
	}
}

func TestActionBarRendersMoreAndDanger(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	bar := ActionBarView{TestID: "bar", Actions: []Action{
		{Label: "Go", Href: "/go", Kind: ActionPrimary, TestID: "go"},
		{Label: "Poke", Post: "/poke", Confirm: "Sure?", TestID: "poke"},
		{Label: "Remove <it>", Href: "/rm", Kind: ActionDanger, More: true, TestID: "rm"},
	}}
	if err := ActionBar(bar).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		`<a href="/go" role="button" class="action" data-testid="go">Go</a>`,
		`data-confirm="Sure?"`,
		`<details class="dropdown-menu action-more" data-testid="more-actions">`,
		`class="menu-item danger" data-testid="rm">Remove &lt;it&gt;</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("action bar lacks %s:\n%s", want, html)
		}
	}
	if strings.Index(html, `data-testid="go"`) > strings.Index(html, `data-testid="poke"`) {
		t.Error("the primary action is not first")
	}
	b.Reset()
	if err := ActionBar(ActionBarView{Actions: []Action{{Label: "Only", Href: "/x"}}}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "more-actions") {
		t.Error("a bar with nothing grouped shows a More menu")
	}
}

func TestChartLegendNamesTheColoursUsed(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	pts := []SeriesPoint{
		{T: from.Add(time.Hour), V: 1, Label: "1", Color: OutcomeColor("Failed")},
		{T: from.Add(2 * time.Hour), V: 2, Label: "2", Color: OutcomeColor("Completed")},
		{T: from.Add(3 * time.Hour), V: 3, Label: "3", Color: OutcomeColor("Completed")},
	}
	c := NewLineChart("c", "T", "D", "V", pts, from, from.Add(30*24*time.Hour), CountTick, time.UTC)
	var got []string
	for _, l := range c.Legend {
		got = append(got, l.Label+"="+l.Class)
	}
	if strings.Join(got, ",") != "Completed=pt-success,Failed or missed=pt-failure" {
		t.Errorf("legend %v", got)
	}
	if c.Points[0].Class != "pt-failure" {
		t.Errorf("a failed point's class %q", c.Points[0].Class)
	}
	minor := 0
	for _, tk := range c.XTicks {
		if tk.Minor {
			minor++
		}
	}
	if len(c.XTicks) > chartXTicks || minor == 0 {
		t.Errorf("%d x ticks, %d minor: want at most %d with every other one minor (hidden on a phone)", len(c.XTicks), minor, chartXTicks)
	}
	plain := NewLineChart("p", "T", "D", "V", []SeriesPoint{{T: from, V: 1, Label: "1"}}, from, from.Add(24*time.Hour), CountTick, time.UTC)
	if len(plain.Legend) != 0 {
		t.Errorf("a one-colour chart has a legend %v", plain.Legend)
	}
}
