package handlers

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
)

// concretePath fills a route's parameters with values that exist nowhere, so
// that a state-changing route run with enough role changes nothing real.
func concretePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		switch {
		case strings.HasPrefix(s, ":"):
			parts[i] = "999999"
		case s == "*":
			parts[i] = "app.css"
		}
	}
	return strings.Join(parts, "/")
}

// TestEveryRouteEnforcesItsRole walks every route echo knows × every role:
// nobody signed in is sent to /login (htmx: 401), a too-low role gets 403,
// enough role gets neither. Routes added later are covered automatically,
// and a route registered without a policy fails the test.
func TestEveryRouteEnforcesItsRole(t *testing.T) {
	te := newTestEnv(t)
	roles := []app.Role{app.RoleNone, app.RoleObserver, app.RoleCreator, app.RoleAdmin}
	seen := 0
	for _, rt := range te.e.Routes() {
		if rt.Method == "echo_route_not_found" || strings.HasSuffix(rt.Name, "echo_route_not_found") {
			continue
		}
		pol, ok := te.routes.policy(rt.Method, rt.Path)
		if !ok {
			t.Errorf("%s %s is registered without a role policy (use routes.get/post)", rt.Method, rt.Path)
			continue
		}
		seen++
		for _, role := range roles {
			t.Run(rt.Method+" "+rt.Path+" as "+role.String(), func(t *testing.T) {
				var r req
				r.method, r.path = rt.Method, concretePath(rt.Path)
				if rt.Method == http.MethodPost {
					r.form = map[string][]string{}
				}
				if role != app.RoleNone {
					r.cookie = te.loginRole(role) // a fresh session: some routes end it
				}
				rec := te.do(r)
				switch {
				case pol.Auth == authBearer:
					// Token routes ignore the session cookie: with none, every role gets a
					// 401 JSON error, never a redirect (api_test.go walks them with tokens).
					if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
						t.Errorf("bearer route without a token: status %d, Content-Type %q; want 401 JSON", rec.Code, rec.Header().Get("Content-Type"))
					}
				case pol.Auth == authMetrics:
					// /metrics has its own access policy (metrics_test.go); not configured here, it is 404.
					if rec.Code != http.StatusNotFound {
						t.Errorf("/metrics while off: status %d, want 404", rec.Code)
					}
				case pol.Min == public:
					if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden || redirectsToLogin(rec) && rt.Path != "/login" {
						t.Errorf("public route: status %d, Location %q", rec.Code, rec.Header().Get("Location"))
					}
				case role == app.RoleNone:
					if !redirectsToLogin(rec) {
						t.Errorf("anonymous: status %d, Location %q; want 303 to /login", rec.Code, rec.Header().Get("Location"))
					}
					r.headers = map[string]string{"HX-Request": "true"}
					if rec := te.do(r); rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("HX-Redirect"), "/login") {
						t.Errorf("anonymous htmx: status %d, HX-Redirect %q; want 401 + /login", rec.Code, rec.Header().Get("HX-Redirect"))
					}
				case !role.Allows(pol.Min):
					if rec.Code != http.StatusForbidden {
						t.Errorf("%s below %s: status %d, want 403", role, pol.Min, rec.Code)
					}
				default:
					if rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized || redirectsToLogin(rec) && !strings.Contains(rt.Path, "logout") && !strings.Contains(rt.Path, "sign-out") {
						t.Errorf("%s with enough role: status %d, Location %q", role, rec.Code, rec.Header().Get("Location"))
					}
					if rec.Code >= 500 {
						t.Errorf("%s: status %d\n%s", role, rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
	if seen != len(te.routes.list()) {
		t.Errorf("echo lists %d routes with policies, the table has %d", seen, len(te.routes.list()))
	}
	if seen < 25 {
		t.Errorf("only %d routes walked", seen)
	}
}

// TestNewNamesAMissingDependency: every service is built in one place (cmd/web's
// run), so a server missing one is refused by name instead of registering
// fewer routes. It walks every field of Deps, so a field added later is
// required unless it joins the few settings whose zero means something.
func TestNewNamesAMissingDependency(t *testing.T) {
	_, deps := buildTestEnv(t, envOptions{})
	if _, _, err := newServer(deps); err != nil {
		t.Fatalf("with every dependency: %v", err)
	}
	optional := map[string]bool{"HistoryKeepDays": true, "PublicURL": true, "SecureCookies": true, "TrustedProxies": true}
	fields := reflect.TypeFor[Deps]()
	for i := range fields.NumField() {
		name := fields.Field(i).Name
		t.Run(name, func(t *testing.T) {
			d := deps
			reflect.ValueOf(&d).Elem().Field(i).SetZero()
			_, _, err := newServer(d)
			switch {
			case optional[name] && err != nil:
				t.Errorf("without the optional %s: %v", name, err)
			case !optional[name] && (err == nil || !strings.Contains(err.Error(), "Deps."+name+" is missing")):
				t.Errorf("without %s: err = %v", name, err)
			}
		})
	}
}
