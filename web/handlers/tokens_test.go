package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
)

// TestTokensPageLifecycle creates a token on the profile page, uses it on
// the API, sees its last use, and revokes it: the token is shown once and
// stops working once revoked.
func TestTokensPageLifecycle(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	ck := ae.loginRole(app.RoleObserver)

	if href, _ := testid(doc(t, ae.get("/profile", ck)), "api-tokens-link").Attr("href"); href != "/profile/tokens" {
		t.Fatalf("the profile page links to %q, want /profile/tokens", href)
	}
	rec := ae.get("/profile/tokens", ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("page: %d", rec.Code)
	}
	d := doc(t, rec)
	if testid(d, "no-tokens").Length() != 1 || testid(d, "token-form").Length() != 1 {
		t.Fatal("empty page: no empty note or no form")
	}
	if sel, _ := d.Find(`select[name="expires"] option[selected]`).Attr("value"); sel != "90" {
		t.Errorf("preselected expiry %q, want 90", sel)
	}

	rec = ae.post("/profile/tokens", url.Values{"name": {"grafana"}, "expires": {"30"}}, ck)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d\n%s", rec.Code, rec.Body.String())
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	d = doc(t, rec)
	secret, _ := testid(d, "token-secret").Attr("value")
	if !strings.HasPrefix(secret, app.TokenPrefix) {
		t.Fatalf("token shown: %q", secret)
	}
	if testid(d, "token-row").Length() != 1 || !strings.Contains(testid(d, "token-row").Text(), "grafana") {
		t.Fatal("the new token is not listed")
	}
	if a := ae.lastAuditEntry(t); a.Action != app.ActionTokenCreate || strings.Contains(a.Target+a.Message, secret) {
		t.Errorf("audit %+v", a)
	}

	// Used on the API, then listed with its last use, and never shown again.
	ae.clock.Advance(time.Minute)
	if rec := ae.apiGet("/api/v1/agents", secret); rec.Code != http.StatusOK {
		t.Fatalf("API with the new token: %d", rec.Code)
	}
	ae.clock.Advance(time.Hour)
	rec = ae.get("/profile/tokens", ck)
	if strings.Contains(rec.Body.String(), secret) {
		t.Fatal("the token is shown a second time")
	}
	d = doc(t, rec)
	if used := strings.TrimSpace(testid(d, "token-last-used").Text()); used == "Never" || used == "" {
		t.Errorf("last used %q after a request", used)
	}
	id, _ := testid(d, "token-row").Attr("data-token-id")

	// Another user cannot revoke it.
	other := ae.loginRole(app.RoleAdmin)
	if rec := ae.post("/profile/tokens/"+id+"/revoke", nil, other); rec.Code != http.StatusNotFound {
		t.Fatalf("revoke by another user: %d, want 404", rec.Code)
	}
	rec = ae.post("/profile/tokens/"+id+"/revoke", nil, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/profile/tokens" {
		t.Fatalf("revoke: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	d = doc(t, ae.get("/profile/tokens", ck))
	if testid(d, "no-tokens").Length() != 1 || !strings.Contains(testid(d, "flash").Text(), "revoked") {
		t.Fatal("after revoking: the token is still listed or no flash")
	}
	if rec := ae.apiGet("/api/v1/agents", secret); rec.Code != http.StatusUnauthorized {
		t.Fatalf("API with a revoked token: %d, want 401", rec.Code)
	}
}

func TestTokensPageRefusesBadInput(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	ck := ae.loginRole(app.RoleCreator)
	for _, tc := range []struct {
		name string
		form url.Values
		err  string
	}{
		{"no name", url.Values{"name": {" "}, "expires": {"7"}}, "error-name"},
		{"odd expiry", url.Values{"name": {"x"}, "expires": {"12"}}, "error-expires"},
		{"no expiry", url.Values{"name": {"x"}}, "error-expires"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ae.post("/profile/tokens", tc.form, ck)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", rec.Code)
			}
			d := doc(t, rec)
			if d.Find("#"+tc.err).Length() != 1 || testid(d, "token-secret").Length() != 0 {
				t.Fatalf("no #%s, or a token shown:\n%s", tc.err, rec.Body.String())
			}
			if v, _ := d.Find(`input[name="name"]`).Attr("value"); v != strings.TrimSpace(tc.form.Get("name")) && v != tc.form.Get("name") {
				t.Errorf("the name was not kept: %q", v)
			}
		})
	}
	list, err := ae.tokens.List(context.Background(), ae.byRole[app.RoleCreator])
	if err != nil || len(list) != 0 {
		t.Fatalf("tokens after bad input: %v, %v", list, err)
	}
	// A form from another site is refused before it reaches the handler.
	rec := ae.do(req{method: http.MethodPost, path: "/profile/tokens", form: url.Values{"name": {"x"}, "expires": {"7"}}, cookie: ck,
		headers: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", rec.Code)
	}
	if ct, body := rec.Header().Get("Content-Type"), rec.Body.String(); !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "<title>Forbidden") {
		t.Errorf("the refusal is %s without a page's language and title:\n%s", ct, body)
	}
	if rec := ae.post("/profile/tokens/abc/revoke", nil, ck); rec.Code != http.StatusNotFound {
		t.Fatalf("revoke with a bad id: %d, want 404", rec.Code)
	}
}

// lastAuditEntry returns the newest audit entry.
func (ae *apiEnv) lastAuditEntry(t *testing.T) app.AuditEntry {
	t.Helper()
	p, err := ae.audit.List(context.Background(), ae.byRole[app.RoleAdmin], app.AuditFilter{Limit: 1})
	if err != nil || len(p.Entries) == 0 {
		t.Fatalf("audit: %v, %v", p, err)
	}
	return p.Entries[0]
}
