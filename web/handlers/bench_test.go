package handlers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/a-h/templ"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// Run with: go test -run '^$' -bench . -benchmem ./web/...

// BenchmarkLoginPage serves GET /login through the whole stack (router,
// middleware, session lookup, render).
func BenchmarkLoginPage(b *testing.B) {
	te := newTestEnv(b)
	benchGet(b, te, "/login", nil)
}

// BenchmarkAuthenticatedPage serves GET /admin, a page with no API call:
// the cost of a signed-in request (cookie check, session and user rows from
// SQLite, the account switcher) plus the layout.
func BenchmarkAuthenticatedPage(b *testing.B) {
	te := newTestEnv(b)
	benchGet(b, te, "/admin", te.loginRole(app.RoleAdmin))
}

// benchGet serves GET path (with the cookie, if any) once an iteration.
func benchGet(b *testing.B, te *testEnv, path string, ck *http.Cookie) {
	b.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if ck != nil {
		r.AddCookie(ck)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		te.e.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkRender measures templ rendering alone.
func BenchmarkRender(b *testing.B) {
	meta := templates.PageMeta{
		Title: "Admin", ActiveNav: templates.NavAdmin, Demo: true, AssetTag: "0123456789ab", Path: "/admin",
		User:     &templates.UserView{Name: "Administrator", Email: "admin@example.com", RoleLabel: "Admin", IsAdmin: true, CanCreate: true},
		Accounts: templates.AccountSwitcher{Options: []templates.AccountOption{{Value: "1", Label: "Demo account (demo)", Selected: true}}},
	}
	pages := map[string]templ.Component{
		"login":      templates.LoginPage(templates.LoginView{Meta: templates.PageMeta{Title: "Sign in", Demo: true}}),
		"empty_page": templates.AdminIndexPage(templates.AdminIndexView{Meta: meta}),
	}
	for name, c := range pages {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Render(context.Background(), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
