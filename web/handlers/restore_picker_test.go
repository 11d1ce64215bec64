package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// picks lists the picker's checkbox values, ticked or all.
func picks(d *goquery.Document, onlyTicked bool) []string {
	sel := `[data-testid="path-tree"] input[name="pick"][type="checkbox"]`
	if onlyTicked {
		sel += "[checked]"
	}
	return d.Find(sel).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") })
}

func TestRestorePicker(t *testing.T) {
	ce := newCfgEnv(t)
	web1, web2 := ce.agentNamed("web-dfw-01"), ce.agentNamed("web-dfw-02")
	cfg, _ := ce.configNamed(web1.ID, "www nightly")
	newest := ce.newestBackup(cfg.ID)
	creator := ce.loginRole(app.RoleCreator)
	if len(cfg.Inclusions) == 0 {
		t.Fatal("the demo configuration has no inclusions")
	}
	incl := folderOf(cfg.Inclusions[0])
	// A stored report of this configuration names two files in its errors,
	// one with a name that is markup.
	hostile := strings.TrimSuffix(incl, "/") + `/<script>alert(1)</script>.html`
	secret := strings.TrimSuffix(incl, "/") + "/html/secret.key"
	rep := app.Report{AccountID: ce.demo.ID, Kind: app.KindBackup, JobID: 77001, AgentID: web1.ID, ConfigID: cfg.ID, ConfigName: cfg.Name,
		State: "CompletedWithErrors", ErrorCount: 2, Raw: []byte(`{}`), Finished: ce.clock.Now(), Fetched: ce.clock.Now(),
		Errors: []app.ReportErrorEntry{{ListIndex: 1, Path: secret, Description: "denied"}, {ListIndex: 2, Path: hostile, Description: "denied"}}}
	if _, err := ce.store.InsertReports(context.Background(), []app.Report{rep}); err != nil {
		t.Fatal(err)
	}
	plan := url.Values{"configuration": {id64(cfg.ID)}, "backup": {id64(newest.ID)}, "destination": {id64(web2.ID)}}

	rec := ce.get("/restores/new/files?"+plan.Encode(), creator)
	wantStatus(t, rec, http.StatusOK)
	d := doc(t, rec)
	all := picks(d, false)
	for _, want := range []string{incl, secret, hostile} {
		if !slices.Contains(all, want) {
			t.Errorf("the picker does not offer %q; it offers %q", want, all)
		}
	}
	if d.Find(`[data-testid="path-tree"] script`).Length() != 0 {
		t.Error("a path from a report became markup")
	}
	if tag := d.Find(`[title="` + secret + `"] .path-tag`).Text(); tag != "in the report of backup 77001" {
		t.Errorf("the report path's tag %q", tag)
	}
	// Without JavaScript: a <details> per folder, checkboxes in the form.
	if d.Find(`form[data-testid="restore-files"] li.path-folder > input[name="pick"] + details > summary`).Length() == 0 {
		t.Error("the folders are not <details> beside their checkbox")
	}

	t.Run("the filter keeps matches, their folders and hidden picks", func(t *testing.T) {
		q := url.Values{}
		for k, v := range plan {
			q[k] = v
		}
		q["pick"] = []string{incl}
		q.Set("filter", "SECRET")
		d := doc(t, ce.get("/restores/new/files?"+q.Encode(), creator))
		shown := picks(d, false)
		if !slices.Contains(shown, secret) || slices.Contains(shown, hostile) {
			t.Errorf("filtered picker shows %q", shown)
		}
		if !slices.Contains(picks(d, true), incl) && d.Find(`[data-testid="path-tree"] input[type="hidden"][name="pick"][value="`+incl+`"]`).Length() != 1 {
			t.Error("a ticked path the filter hides is lost")
		}
		q.Set("filter", "no-such-thing")
		if got := testid(doc(t, ce.get("/restores/new/files?"+q.Encode(), creator)), "path-tree-note").Text(); !strings.Contains(got, "Nothing in the list matches") {
			t.Errorf("empty filter note %q", got)
		}
	})

	t.Run("one picked file, then a typed path outside the backup", func(t *testing.T) {
		q := url.Values{}
		for k, v := range plan {
			q[k] = v
		}
		q["pick"] = []string{secret}
		d := doc(t, ce.get("/restores/new/review?"+q.Encode(), creator))
		if got := testid(d, "restore-summary").Text(); !strings.Contains(got, secret) || strings.Contains(got, "Everything in the backup") {
			t.Errorf("review %q", got)
		}
		if testid(d, "path-warnings").Length() != 0 {
			t.Errorf("a warning for a path inside the backup: %q", testid(d, "path-warnings").Text())
		}
		if got := d.Find(`input[type="hidden"][name="include"]`).AttrOr("value", ""); got != secret {
			t.Errorf("the review carries include %q", got)
		}
		// Back on the files step the pick is ticked, not typed.
		d = doc(t, ce.get("/restores/new/files?"+q.Encode(), creator))
		if !slices.Equal(picks(d, true), []string{secret}) || d.Find(`textarea[name="include"]`).Text() != "" {
			t.Errorf("files step: ticked %q, typed %q", picks(d, true), d.Find(`textarea[name="include"]`).Text())
		}
		q.Set("include", "/home/someone/notes.txt")
		d = doc(t, ce.get("/restores/new/review?"+q.Encode(), creator))
		if got := testid(d, "path-warnings").Text(); !strings.Contains(got, "/home/someone/notes.txt is outside what this configuration backs up") {
			t.Errorf("warning %q", got)
		}
	})

	t.Run("a configuration deleted since is said in words", func(t *testing.T) {
		q := url.Values{"configuration": {"99999999"}, "backup": {"1"}}
		rec := ce.get("/restores/new/files?"+q.Encode(), creator)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if got := testid(doc(t, rec), "error-configuration").Text(); !strings.Contains(got, "no longer exists") {
			t.Errorf("message %q", got)
		}
	})
}

func folderOf(p rcbu.PathItem) string {
	if p.FileItemType == rcbu.ItemFolder && !strings.HasSuffix(p.FilePath, "/") {
		return p.FilePath + "/"
	}
	return p.FilePath
}
