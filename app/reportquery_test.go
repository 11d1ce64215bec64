package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestParseReportQuery(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	accts := []app.Account{{ID: 3, Name: "a"}, {ID: 4, Name: "b"}}
	parse := func(q string, o app.ReportQueryOptions) (app.ReportFilter, []app.FilterProblem) {
		t.Helper()
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if o.Accounts == nil {
			o.Accounts = accts
		}
		return app.ParseReportQuery(v, o)
	}
	t.Run("a date-only to is the whole day in the location", func(t *testing.T) {
		f, ps := parse("from=2026-03-01&to=2026-03-01", app.ReportQueryOptions{Location: ny})
		if len(ps) != 0 {
			t.Fatalf("problems %v", ps)
		}
		if want := time.Date(2026, 3, 1, 0, 0, 0, 0, ny); !f.From.Equal(want) {
			t.Errorf("from %v; want %v", f.From, want)
		}
		if want := time.Date(2026, 3, 2, 0, 0, 0, 0, ny); !f.To.Equal(want) {
			t.Errorf("to %v; want %v (the end of the day)", f.To, want)
		}
	})
	t.Run("an RFC 3339 to is exact", func(t *testing.T) {
		f, _ := parse("to=2026-03-01T12:30:00Z", app.ReportQueryOptions{})
		if want := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC); !f.To.Equal(want) {
			t.Errorf("to %v; want %v", f.To, want)
		}
	})
	t.Run("good values", func(t *testing.T) {
		f, ps := parse("account=4&agent=7&config=9&kind=Restore&state=completed with errors&errors=yes&q=+disk+&sort=BYTES&dir=asc&limit=500",
			app.ReportQueryOptions{Limit: true})
		if len(ps) != 0 {
			t.Fatalf("problems %v", ps)
		}
		want := app.ReportFilter{Accounts: []app.AccountID{3, 4}, Account: 4, AgentID: 7, ConfigID: 9, Kind: app.KindRestore,
			State: "CompletedWithErrors", ErrorsOnly: true, Query: "disk", Sort: app.SortBytes, Asc: true, Limit: 500}
		if diff := cmp.Diff(want, f); diff != "" {
			t.Errorf("filter (-want +got):\n%s", diff)
		}
	})
	t.Run("every bad value is a problem and left out", func(t *testing.T) {
		f, ps := parse("account=9&agent=0&config=-1&kind=cleanup&state=Exploded&from=yesterday&to=2026-02-31&errors=maybe&sort=size&dir=up&limit=0&after=!!",
			app.ReportQueryOptions{Limit: true})
		var fields []string
		for _, p := range ps {
			if p.Message == "" || p.Ignored == "" {
				t.Errorf("%s: message %q, ignored %q", p.Field, p.Message, p.Ignored)
			}
			fields = append(fields, p.Field)
		}
		if diff := cmp.Diff([]string{"account", "agent", "config", "kind", "state", "from", "to", "errors", "sort", "dir", "limit", "after"}, fields); diff != "" {
			t.Errorf("problem fields (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(app.ReportFilter{Accounts: []app.AccountID{3, 4}, Sort: app.SortFinished, Limit: app.DefaultReportPageSize}, f); diff != "" {
			t.Errorf("filter keeps a bad value (-want +got):\n%s", diff)
		}
		if err := app.ReportQueryProblems(ps); err == nil {
			t.Error("no error from the problems")
		}
	})
	t.Run("a name where an id goes is kept for History.ResolveNames", func(t *testing.T) {
		f, ps := parse("agent=web-01&config=mysql+dumps", app.ReportQueryOptions{})
		if len(ps) != 0 || f.AgentName != "web-01" || f.ConfigName != "mysql dumps" || f.AgentID != 0 || f.ConfigID != 0 {
			t.Errorf("filter %+v, problems %v", f, ps)
		}
		_, ps = parse("config="+strings.Repeat("n", 201), app.ReportQueryOptions{})
		if len(ps) != 1 || ps[0].Field != "config" {
			t.Errorf("a 201-character name: %v", ps)
		}
	})
	t.Run("limit is read only when asked", func(t *testing.T) {
		f, ps := parse("limit=ten", app.ReportQueryOptions{})
		if len(ps) != 0 || f.Limit != app.DefaultReportPageSize {
			t.Errorf("limit %d, problems %v", f.Limit, ps)
		}
	})
	t.Run("a cursor belongs to its sort and direction", func(t *testing.T) {
		f := app.ReportFilter{Sort: app.SortAgent}
		tok := app.EncodeReportCursor(f, app.ReportCursor{Text: "web-01", ID: 42})
		got, ps := parse("sort=agent&after="+url.QueryEscape(tok), app.ReportQueryOptions{})
		if len(ps) != 0 || got.After == nil || *got.After != (app.ReportCursor{Text: "web-01", ID: 42}) {
			t.Fatalf("after %v, problems %v", got.After, ps)
		}
		for _, q := range []string{"sort=bytes&after=", "sort=agent&dir=asc&before=", "sort=agent&cursor="} {
			got, ps := parse(q+url.QueryEscape(tok), app.ReportQueryOptions{})
			if q == "sort=agent&cursor=" {
				if len(ps) != 0 || got.After == nil {
					t.Errorf("%s: cursor is not read as after: %v", q, ps)
				}
				continue
			}
			if len(ps) != 1 || got.After != nil || got.Before != nil {
				t.Errorf("%s: accepted (problems %v)", q, ps)
			}
		}
	})
}
