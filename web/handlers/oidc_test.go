package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// ssoEnv is the console over real HTTP with single sign-on through a real
// OpenID Connect provider (mockoidc) on loopback.
type ssoEnv struct {
	*testEnv
	idp *mockoidc.MockOIDC
	url string // the console's address
	// ssoClock is single sign-on's clock: the real time, which the
	// provider stamps its tokens with.
	ssoClock *rcbusim.FakeClock
	mfa      *app.MFA
}

// testSSORules map the test groups to roles.
var testSSORules = []app.RoleRule{
	{Value: "ops-admins", Role: app.RoleAdmin},
	{Value: "ops", Role: app.RoleCreator},
	{Value: "viewers", Role: app.RoleObserver},
}

// startIdP runs a mockoidc provider on loopback for the test.
func startIdP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func newSSOEnv(t *testing.T, change func(*app.OIDCOptions)) *ssoEnv {
	t.Helper()
	idp := startIdP(t)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clk := rcbusim.NewFakeClock(time.Now())
	opts := app.OIDCOptions{
		Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: srv.URL + app.OIDCCallbackPath, Name: "Acme SSO", Scopes: []string{"email", "profile", "groups"},
		Rules: testSSORules, CreateUsers: true, Now: clk.Now,
	}
	if change != nil {
		change(&opts)
	}
	te, deps := buildTestEnv(t, envOptions{oidc: &opts})
	h = te.e
	return &ssoEnv{testEnv: te, idp: idp, url: srv.URL, ssoClock: clk, mfa: deps.MFA}
}

// browser is a fresh browser: a cookie jar, following redirects.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// page is a response read whole.
type page struct {
	status int
	url    *url.URL // where the browser ended up
	body   string
}

func (p page) doc(t *testing.T) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fetch(t *testing.T, c *http.Client, u string) page {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(b)}
}

// signIn clicks "Sign in with …" as the queued user and follows the whole
// flow, returning where the browser lands.
func (se *ssoEnv) signIn(t *testing.T, c *http.Client, u mockoidc.User) page {
	t.Helper()
	se.idp.QueueUser(u)
	return fetch(t, c, se.url+"/login/oidc")
}

// toCallback starts a sign-in as the queued user and stops at the
// provider's redirect back to the console: the callback URL, not yet visited.
func (se *ssoEnv) toCallback(t *testing.T, c *http.Client, u mockoidc.User) string {
	t.Helper()
	se.idp.QueueUser(u)
	stop := *c
	stop.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == app.OIDCCallbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := stop.Get(se.url + "/login/oidc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, app.OIDCCallbackPath) {
		t.Fatalf("want the provider's redirect to the callback, got %d %q", resp.StatusCode, loc)
	}
	return loc
}

// person is an ID token's subject as the provider describes it: claims
// straight from the fields, then tweak.
type person struct {
	sub, email string
	groups     []string
	verified   *bool
	tweak      func(jwt.MapClaims)
}

func (p person) ID() string { return p.sub }

func (p person) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": p.sub, "email": p.email, "groups": p.groups})
}

func (p person) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	rc := base.RegisteredClaims
	m := jwt.MapClaims{
		"iss": rc.Issuer, "sub": rc.Subject, "aud": []string(rc.Audience), "jti": rc.ID,
		"exp": rc.ExpiresAt.Unix(), "iat": rc.IssuedAt.Unix(), "nbf": rc.NotBefore.Unix(),
		"nonce": base.Nonce, "email": p.email, "name": "Pat Example", "groups": p.groups,
	}
	if p.verified != nil {
		m["email_verified"] = *p.verified
	}
	if p.tweak != nil {
		p.tweak(m)
	}
	return m, nil
}

func (se *ssoEnv) audits(t *testing.T, action app.AuditAction) []app.AuditEntry {
	t.Helper()
	list, err := se.store.ListAudit(context.Background(), app.AuditFilter{Action: action, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func (se *ssoEnv) userCount(t *testing.T) int {
	t.Helper()
	n, err := se.store.CountUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSSOLoginPageOffersTheProvider(t *testing.T) {
	se := newSSOEnv(t, nil)
	p := fetch(t, browser(t), se.url+"/login?next=/agents")
	d := p.doc(t)
	a := d.Find(`[data-testid="sso-signin"]`)
	if got := strings.TrimSpace(a.Text()); got != "Sign in with Acme SSO" {
		t.Errorf("button reads %q", got)
	}
	if href, _ := a.Attr("href"); href != "/login/oidc?next=%2Fagents" {
		t.Errorf("button goes to %q", href)
	}
	if d.Find(`[data-testid="login-form"]`).Length() != 1 || d.Find(`[data-testid="break-glass"]`).Length() != 0 {
		t.Error("with passwords on, the password form shows unfolded")
	}
}

func TestSSOFirstSignInCreatesTheUserWithTheMappedRole(t *testing.T) {
	se := newSSOEnv(t, nil)
	c := browser(t)
	p := se.signIn(t, c, person{sub: "pat-1", email: "Pat@Example.com", groups: []string{"ops", "unrelated"}})
	if p.status != http.StatusOK || p.url.Path != "/" {
		t.Fatalf("landed on %d %s\n%s", p.status, p.url, p.body)
	}
	u, err := se.store.UserByEmail(context.Background(), "pat@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != app.RoleCreator || u.Name != "Pat Example" || u.PasswordHash != "" {
		t.Errorf("created %+v", u)
	}
	// Without a password but with an identity: signs in at the provider,
	// not waiting for an invitation (the users pages say Active).
	if !u.SingleSignOn || u.Invited() {
		t.Errorf("single sign-on %v, invited %v; want an SSO user who is not invited", u.SingleSignOn, u.Invited())
	}
	id, err := se.store.UserIdentityOf(context.Background(), u.ID, se.idp.Issuer())
	if err != nil || id.Subject != "pat-1" {
		t.Errorf("identity %+v, %v", id, err)
	}
	if a := se.audits(t, app.ActionSSOCreate); len(a) != 1 || a[0].Actor != app.SSOActor || !strings.Contains(a[0].Message, "created by single sign-on: Creator on all accounts (ops=creator)") {
		t.Errorf("create audit %+v", a)
	}
	if a := se.audits(t, app.ActionSSOLogin); len(a) != 1 || a[0].Outcome != app.OutcomeOK || a[0].ActorID != u.ID {
		t.Errorf("sign-in audit %+v", a)
	}
	// The session is the user's: a Creator page opens.
	if p := fetch(t, c, se.url+"/configurations/new"); p.status == http.StatusForbidden || p.url.Path == "/login" {
		t.Errorf("creator page: %d %s", p.status, p.url)
	}

	// The next sign-in, with the same subject, follows the claim's new role.
	c2 := browser(t)
	if p := se.signIn(t, c2, person{sub: "pat-1", email: "pat@example.com", groups: []string{"viewers"}}); p.url.Path != "/" {
		t.Fatalf("second sign-in landed on %s", p.url)
	}
	u, _ = se.store.UserByEmail(context.Background(), "pat@example.com")
	if u.Role != app.RoleObserver {
		t.Errorf("role after the claim changed: %s", u.Role)
	}
	if a := se.audits(t, app.ActionUserAccess); len(a) != 1 || !strings.Contains(a[0].Message, "Creator on all accounts → Observer on all accounts from claim groups") {
		t.Errorf("role audit %+v", a)
	}
	if n := se.userCount(t); n != 4 {
		t.Errorf("%d users, want the three seeded and one created", n)
	}
}

func TestSSOLinksAnExistingUserByEmailAndRefusesAnotherSubject(t *testing.T) {
	se := newSSOEnv(t, func(o *app.OIDCOptions) { o.CreateUsers = false })
	obs := se.byRole[app.RoleObserver]
	if p := se.signIn(t, browser(t), person{sub: "obs-1", email: obs.Email, groups: []string{"viewers"}}); p.url.Path != "/" {
		t.Fatalf("landed on %s\n%s", p.url, p.body)
	}
	if a := se.audits(t, app.ActionSSOLink); len(a) != 1 || a[0].Target != obs.Email {
		t.Errorf("link audit %+v", a)
	}
	p := se.signIn(t, browser(t), person{sub: "impostor", email: obs.Email, groups: []string{"ops-admins"}})
	if p.status != http.StatusForbidden || p.url.Path != app.OIDCCallbackPath {
		t.Fatalf("another subject: %d %s", p.status, p.url)
	}
	if msg := p.doc(t).Find(`[data-testid="sso-error"]`).Text(); !strings.Contains(msg, "linked to another account at Acme SSO") {
		t.Errorf("message %q", msg)
	}
	u, _ := se.store.UserByEmail(context.Background(), obs.Email)
	if u.Role != app.RoleObserver {
		t.Errorf("the refused sign-in changed the role to %s", u.Role)
	}
	// Without user creation, a stranger is sent to an admin.
	p = se.signIn(t, browser(t), person{sub: "new-1", email: "new@example.com", groups: []string{"ops"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "Ask an admin of the console to invite you") {
		t.Errorf("stranger: %d\n%s", p.status, p.body)
	}
	if n := se.userCount(t); n != 3 {
		t.Errorf("%d users after refusals, want 3", n)
	}
	failed := 0
	for _, a := range se.audits(t, app.ActionSSOLogin) {
		if a.Outcome == app.OutcomeFailed {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d refusals audited, want 2", failed)
	}
}

// refusal is one bad answer and what the person must read.
type refusal struct {
	name   string
	change func(*app.OIDCOptions)
	// run drives the browser and returns the callback's page.
	run    func(t *testing.T, se *ssoEnv, c *http.Client) page
	status int
	says   string
	reason string // in the audit log
}

func TestSSORefusals(t *testing.T) {
	// A seeded user, so that a sign-in that goes through (before a replay)
	// links rather than adds a user.
	ok := person{sub: "creator-1", email: "creator@example.com", groups: []string{"ops"}}
	tweaked := func(f func(jwt.MapClaims)) person { p := ok; p.tweak = f; return p }
	f := false
	cases := []refusal{
		{name: "replayed callback", status: http.StatusForbidden, says: "not started in this browser, or its answer was used already", reason: "without a pending sign-in",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				cb := se.toCallback(t, c, ok)
				if p := fetch(t, c, cb); p.url.Path != "/" {
					t.Fatalf("first use landed on %s", p.url)
				}
				return fetch(t, browser(t), cb) // the same answer, replayed from another browser
			}},
		{name: "replayed in the same browser", status: http.StatusForbidden, says: "not started in this browser", reason: "without a pending sign-in",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				cb := se.toCallback(t, c, ok)
				fetch(t, c, se.url+"/login") // no-op page view; the pending sign-in stays
				first := fetch(t, c, cb)
				if first.url.Path != "/" {
					t.Fatalf("first use landed on %s", first.url)
				}
				return fetch(t, c, cb)
			}},
		{name: "state mismatch", status: http.StatusForbidden, says: "does not belong to the sign-in this browser started", reason: "state mismatch",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				u, _ := url.Parse(se.toCallback(t, c, ok))
				q := u.Query()
				q.Set("state", "forged")
				u.RawQuery = q.Encode()
				return fetch(t, c, u.String())
			}},
		{name: "provider error access_denied", status: http.StatusForbidden, says: "Acme SSO refused the sign-in (access denied)", reason: `provider error "access_denied": "user said no"`,
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				u, _ := url.Parse(se.toCallback(t, c, ok))
				q := url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}, "error_description": {"user said no"}}
				return fetch(t, c, se.url+app.OIDCCallbackPath+"?"+q.Encode())
			}},
		{name: "token from another issuer", status: http.StatusForbidden, says: "could not be trusted", reason: "issued by a different provider",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				other := startIdP(t)
				return fetch(t, c, se.toCallback(t, c, tweaked(func(m jwt.MapClaims) { m["iss"] = other.Issuer() })))
			}},
		{name: "token for another client", status: http.StatusForbidden, says: "could not be trusted", reason: "expected audience",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				return fetch(t, c, se.toCallback(t, c, tweaked(func(m jwt.MapClaims) { m["aud"] = []string{"another-client"} })))
			}},
		{name: "expired token", status: http.StatusForbidden, says: "has expired", reason: "ID token expired",
			change: func(o *app.OIDCOptions) { o.PendingTTL = time.Hour },
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				cb := se.toCallback(t, c, ok)
				se.ssoClock.Advance(se.idp.AccessTTL + time.Minute)
				return fetch(t, c, cb)
			}},
		{name: "slow sign-in", status: http.StatusForbidden, says: "took longer than 10 minutes", reason: "pending sign-in expired",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				cb := se.toCallback(t, c, ok)
				se.ssoClock.Advance(app.DefaultOIDCPendingTTL)
				return fetch(t, c, cb)
			}},
		{name: "nonce of another sign-in", status: http.StatusForbidden, says: "its nonce does not match", reason: "nonce mismatch",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				return fetch(t, c, se.toCallback(t, c, tweaked(func(m jwt.MapClaims) { m["nonce"] = "other" })))
			}},
		{name: "claim maps to no role", status: http.StatusForbidden, says: "not in a group that has access", reason: `claim groups maps to no role (values "contractors")`,
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				return se.signIn(t, c, person{sub: "c-1", email: "c@example.com", groups: []string{"contractors"}})
			}},
		{name: "no claim at all", status: http.StatusForbidden, says: "not in a group that has access", reason: "values none",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				return se.signIn(t, c, person{sub: "c-1", email: "c@example.com"})
			}},
		{name: "unverified email", status: http.StatusForbidden, says: "has not verified the email address", reason: "email not verified",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				return se.signIn(t, c, person{sub: "c-1", email: "c@example.com", groups: []string{"ops"}, verified: &f})
			}},
		{name: "no email", status: http.StatusForbidden, says: "did not send a usable email address", reason: "without a valid email",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				return se.signIn(t, c, person{sub: "c-1", groups: []string{"ops"}})
			}},
		{name: "callback without a code", status: http.StatusForbidden, says: "holds no sign-in code", reason: "callback without a code",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				u, _ := url.Parse(se.toCallback(t, c, ok))
				return fetch(t, c, se.url+app.OIDCCallbackPath+"?state="+url.QueryEscape(u.Query().Get("state")))
			}},
		{name: "code used already at the provider", status: http.StatusForbidden, says: "did not accept the sign-in code", reason: "code exchange failed",
			run: func(t *testing.T, se *ssoEnv, c *http.Client) page {
				cb := se.toCallback(t, c, ok)
				if p := fetch(t, c, cb); p.url.Path != "/" {
					t.Fatalf("first use landed on %s", p.url)
				}
				// A new sign-in in another browser, answered with the old code.
				b := browser(t)
				fresh, _ := url.Parse(se.toCallback(t, b, ok))
				old, _ := url.Parse(cb)
				q := url.Values{"state": {fresh.Query().Get("state")}, "code": {old.Query().Get("code")}}
				return fetch(t, b, se.url+app.OIDCCallbackPath+"?"+q.Encode())
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			se := newSSOEnv(t, tc.change)
			before := se.userCount(t)
			p := tc.run(t, se, browser(t))
			if p.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", p.status, tc.status, p.body)
			}
			d := p.doc(t)
			if msg := d.Find(`[data-testid="sso-error"]`).Text(); !strings.Contains(msg, tc.says) {
				t.Errorf("message %q, want it to say %q", msg, tc.says)
			}
			if d.Find(`[data-testid="sso-signin"]`).Length() != 1 {
				t.Error("the refusal page offers no new start")
			}
			var found bool
			for _, a := range se.audits(t, app.ActionSSOLogin) {
				if a.Outcome == app.OutcomeFailed && strings.Contains(a.Message, tc.reason) {
					found = true
				}
			}
			if !found {
				t.Errorf("no refusal audited with %q: %+v", tc.reason, se.audits(t, app.ActionSSOLogin))
			}
			if n := se.userCount(t); n != before {
				t.Errorf("users %d → %d", before, n)
			}
			if _, err := se.store.UserByEmail(context.Background(), "c@example.com"); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("a refused person became a user: %v", err)
			}
		})
	}
}

func TestSSOProviderDownKeepsPasswordSignIn(t *testing.T) {
	idp := startIdP(t)
	issuer := idp.Issuer()
	if err := idp.Shutdown(); err != nil {
		t.Fatal(err)
	}
	te, _ := buildTestEnv(t, envOptions{oidc: &app.OIDCOptions{Issuer: issuer, ClientID: "console", RedirectURL: "http://127.0.0.1/login/oidc/callback", Rules: testSSORules}})
	rec := te.get("/login/oidc", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	d := doc(t, rec)
	if msg := testid(d, "sso-error").Text(); !strings.Contains(msg, "127.0.0.1 cannot be reached just now") {
		t.Errorf("message %q", msg)
	}
	if testid(d, "login-form").Length() != 1 {
		t.Error("no password form while the provider is down")
	}
	te.login("admin@example.com")
}

func TestSSOPasswordOffLeavesOnlyBreakGlass(t *testing.T) {
	te, _ := buildTestEnv(t, envOptions{oidc: &app.OIDCOptions{Issuer: "http://127.0.0.1:1/", ClientID: "console", RedirectURL: "http://127.0.0.1/login/oidc/callback",
		Name: "Acme SSO", Rules: testSSORules, PasswordOff: true, BreakGlass: []string{"Admin@example.com", "observer@example.com"}}})
	d := doc(t, te.get("/login", nil))
	if testid(d, "break-glass").Length() != 1 || testid(d, "break-glass").Find(`[data-testid="login-form"]`).Length() != 1 {
		t.Error("the password form is not folded under break-glass")
	}
	if _, open := testid(d, "break-glass").Attr("open"); open {
		t.Error("the break-glass fold starts open")
	}

	rec := te.post("/login", url.Values{"email": {"creator@example.com"}, "password": {testPassword}}, nil)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("creator with a password: %d", rec.Code)
	}
	d = doc(t, rec)
	if msg := testid(d, "login-error").Text(); !strings.Contains(msg, "Password sign-in is off here: use “Sign in with Acme SSO”") {
		t.Errorf("message %q", msg)
	}
	if _, open := testid(d, "break-glass").Attr("open"); !open {
		t.Error("the fold is closed over its own error")
	}
	// A break-glass email that is no admin's is refused after the
	// password, with the generic message.
	rec = te.post("/login", url.Values{"email": {"observer@example.com"}, "password": {testPassword}}, nil)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(testid(doc(t, rec), "login-error").Text(), app.LoginFailedMessage) {
		t.Fatalf("observer listed as break-glass: %d", rec.Code)
	}
	te.login("admin@example.com")
	list, err := te.store.ListAudit(context.Background(), app.AuditFilter{Action: app.ActionBreakGlass, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Outcome != app.OutcomeOK || list[1].Outcome != app.OutcomeFailed {
		t.Errorf("break-glass audit %+v", list)
	}
}

func TestSSORoutesAreAbsentWithoutAProvider(t *testing.T) {
	te := newTestEnv(t)
	for _, p := range []string{"/login/oidc", app.OIDCCallbackPath + "?code=x&state=y"} {
		if rec := te.get(p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	if testid(doc(t, te.get("/login", nil)), "sso").Length() != 0 {
		t.Error("the sign-in page offers single sign-on without a provider")
	}
}

func TestSSOPerAccountEntriesGrantOnlyThoseAccounts(t *testing.T) {
	se := newSSOEnv(t, func(o *app.OIDCOptions) {
		o.Rules = append(slices.Clone(testSSORules),
			app.RoleRule{Value: "acme-ops", Role: app.RoleCreator, Account: "ZETA"},
			app.RoleRule{Value: "gone-ops", Role: app.RoleCreator, Account: "Nowhere"})
	})
	admin := se.byRole[app.RoleAdmin]
	zeta, err := se.accounts.Create(t.Context(), admin, app.AccountRequest{Name: "Zeta", Username: rcbusim.OtherUser, Kind: "api_key", Secret: rcbusim.OtherAPIKey, IdentityURL: se.sim.IdentityURL})
	if err != nil {
		t.Fatal(err)
	}
	p := se.signIn(t, browser(t), person{sub: "z-1", email: "zed@example.com", groups: []string{"acme-ops", "gone-ops"}})
	if p.url.Path != "/" {
		t.Fatalf("landed on %d %s\n%s", p.status, p.url, p.body)
	}
	u, err := se.store.UserByEmail(t.Context(), "zed@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Access().Equal(app.OnlyAccounts(app.Grant{Account: zeta.ID, Role: app.RoleCreator})) || u.Sees(se.demo.ID) {
		t.Errorf("access %+v", u.Access())
	}
	if a := se.audits(t, app.ActionSSOCreate); len(a) != 1 || !strings.Contains(a[0].Message, `Creator on Zeta (acme-ops=creator@ZETA; gone-ops=creator@Nowhere); no Rackspace account is named "Nowhere"`) {
		t.Errorf("create audit %+v", a)
	}

	// A global entry wins over the per-account ones.
	if p := se.signIn(t, browser(t), person{sub: "z-1", email: "zed@example.com", groups: []string{"acme-ops", "viewers"}}); p.url.Path != "/" {
		t.Fatalf("second sign-in landed on %s", p.url)
	}
	u, _ = se.store.UserByEmail(t.Context(), "zed@example.com")
	if !u.Access().Equal(app.AllAccounts(app.RoleObserver)) {
		t.Errorf("access with a global entry %+v", u.Access())
	}
	// Only unknown accounts: no access, refused.
	p = se.signIn(t, browser(t), person{sub: "n-1", email: "nobody@example.com", groups: []string{"gone-ops"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "not in a group that has access") {
		t.Errorf("unknown account only: %d", p.status)
	}
}

func TestSSOGoesThroughTheSecondStep(t *testing.T) {
	se := newSSOEnv(t, nil)
	if _, err := se.mfa.SetRequiredRoles(t.Context(), se.byRole[app.RoleAdmin], []string{"creator", "admin"}); err != nil {
		t.Fatal(err)
	}
	c := browser(t)
	p := se.signIn(t, c, person{sub: "pat-1", email: "pat@example.com", groups: []string{"ops"}})
	if p.status != http.StatusOK || p.url.Path != "/login/enrol" {
		t.Fatalf("a Creator whose role requires two-factor landed on %d %s", p.status, p.url)
	}
	// The half sign-in opens nothing else.
	if p := fetch(t, c, se.url+"/"); p.url.Path != "/login" {
		t.Errorf("the overview before the second step: %s", p.url)
	}
	// An Observer, whose role requires none, signs straight in.
	if p := se.signIn(t, browser(t), person{sub: "v-1", email: "vic@example.com", groups: []string{"viewers"}}); p.url.Path != "/" {
		t.Errorf("an Observer landed on %s", p.url)
	}
}
