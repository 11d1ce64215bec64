package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestChannelFormShowsOnlyItsKindsFields(t *testing.T) {
	te := newAlertsTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	fields := func(path string) map[string]bool {
		t.Helper()
		rec := te.get(path, admin)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		got := map[string]bool{}
		d := doc(t, rec)
		d.Find(`[data-testid="channel-form"] input[name], [data-testid="channel-form"] select[name]`).Each(func(_ int, s *goquery.Selection) {
			got[s.AttrOr("name", "")] = true
		})
		if d.Find(`[data-testid="channel-kinds"]`).Length() > 0 {
			got["(kind choice)"] = true
		}
		return got
	}
	t.Run("the kind comes first", func(t *testing.T) {
		for _, p := range []string{"/alerts/channels/new?kind=pager"} {
			got := fields(p)
			if !got["(kind choice)"] || got["url"] || got["smtp_host"] {
				t.Errorf("%s: %v", p, got)
			}
		}
	})
	for _, tc := range []struct {
		kind      string
		want, not []string
	}{
		{"webhook", []string{"url", "secret"}, []string{"smtp_host", "smtp_to"}},
		{"", []string{"url", "secret"}, []string{"smtp_host", "smtp_to"}},
		{"slack", []string{"url"}, []string{"secret", "smtp_host"}},
		{"email", []string{"smtp_host", "smtp_port", "smtp_security", "smtp_from", "smtp_to", "secret"}, []string{"url"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			got := fields("/alerts/channels/new?kind=" + tc.kind)
			for _, f := range tc.want {
				if !got[f] {
					t.Errorf("no %s field: %v", f, got)
				}
			}
			for _, f := range tc.not {
				if got[f] {
					t.Errorf("a %s field on the %s form", f, tc.kind)
				}
			}
		})
	}
	t.Run("a bad kind posted is answered in words", func(t *testing.T) {
		rec := te.post("/alerts/channels", url.Values{"name": {"x"}, "kind": {"pager"}}, admin)
		d := doc(t, rec)
		if rec.Code != http.StatusUnprocessableEntity || testid(d, "error-summary").Length() != 1 || testid(d, "channel-kinds").Length() != 1 {
			t.Errorf("status %d", rec.Code)
		}
	})
}
