package handlers

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/metrics"
	"github.com/rcbu-console/rcbu-console/notify"
	"github.com/rcbu-console/rcbu-console/openid"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
	"github.com/rcbu-console/rcbu-console/upstream"
	"github.com/rcbu-console/rcbu-console/web/static"
)

// clock is the tests' settable clock: the simulator's, so the console and a
// simulator can share one.
type clock = rcbusim.FakeClock

const testPassword = "a test password long enough"

// testEnv is the real HTTP stack over a temp SQLite file and a simulator.
type testEnv struct {
	t        testing.TB
	e        *echo.Echo
	routes   *routes
	store    *db.Store
	clock    *clock
	sim      *rcbusimtest.TestServer
	auth     *app.Auth
	users    *app.Users
	accounts *app.Accounts
	audit    *app.Audit
	history  *app.History // the server's, whose writes the overview sees
	byRole   map[app.Role]app.User
	demo     app.Account
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	te, _ := buildTestEnv(t, envOptions{})
	return te
}

// envOptions shape the stack buildTestEnv makes; the zero value is the
// console as cmd/web wires it over a bare simulator.
type envOptions struct {
	// sim are the simulator's options (on top of a fake clock at the test
	// start and no wake delay, as rcbusimtest.NewTestServer sets).
	sim []rcbusim.Option
	// wrapSim, if set, wraps the simulator's handler in the server the
	// console talks to (e.g. to count requests).
	wrapSim func(http.Handler) http.Handler
	// connect is the accounts' connector; nil is upstream.NewConnector with
	// its API calls timed by the metrics, as in cmd/web.
	connect app.Connector
	// clockAtSim starts the console's clock at the simulator's time rather
	// than at the test start.
	clockAtSim bool
	// dbPath, if set, is the SQLite file to open (e.g. a copy of a prepared
	// dataset) instead of a new one in the test's temp dir.
	dbPath string
	// fleetTTL is how long the Fleet caches API lists (0: its default).
	fleetTTL time.Duration
	// fleetMaxStale is how old a list the Fleet may serve while it
	// refreshes it (0: none past the TTL).
	fleetMaxStale time.Duration
	// metrics say who may read /metrics (the zero value: nobody, 404).
	metrics metrics.Options
	// change, if set, edits the Deps before the server is built (e.g. the
	// production argon2 cost, secure cookies).
	change func(*Deps)
	// oidc, if set, turns single sign-on on with these options (Now
	// defaults to the console's clock, Log to the env's).
	oidc *app.OIDCOptions
}

// testStart is when the console's and the simulator's clocks start.
var testStart = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

// buildTestEnv makes the real HTTP stack over a temp SQLite file and a
// simulator: a demo account, an admin, an observer and a creator. It is the
// one place the handler tests build the console, with every service wired as
// cmd/web does, and it returns the Deps the server was built with.
func buildTestEnv(t testing.TB, o envOptions) (*testEnv, Deps) {
	t.Helper()
	ctx := context.Background()
	path := o.dbPath
	if path == "" {
		path = filepath.Join(t.TempDir(), "web.db")
	}
	store, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sim := newTestSim(t, o.sim, o.wrapSim)
	clk := rcbusim.NewFakeClock(testStart)
	if o.clockAtSim {
		clk = rcbusim.NewFakeClock(sim.Now())
	}
	log := quietLog()
	cheap := app.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	audit := app.NewAudit(store, clk.Now, log)
	cfg := app.DefaultAuthConfig()
	cfg.Password = cheap
	cfg.DeviceKey = []byte(strings.Repeat("d", 32))
	auth, err := app.NewAuth(store, audit, cfg, clk.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	users := app.NewUsers(store, audit, cheap, clk.Now, log)
	sealer, err := app.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	prom, err := metrics.New(o.metrics)
	if err != nil {
		t.Fatal(err)
	}
	connect := o.connect
	if connect == nil {
		connect = upstream.NewConnector(&http.Client{Transport: prom.Transport(nil), Timeout: 30 * time.Second}, app.NewUpstreamBudget(app.DefaultBackgroundCalls), log, "test")
	}
	accounts := app.NewAccounts(store, sealer, connect, audit, clk.Now, log)
	demo, err := accounts.EnsureDemo(ctx, sim.IdentityURL, rcbusim.DemoUser, rcbusim.DemoAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := users.EnsureAdmin(ctx, "admin@example.com", testPassword); err != nil {
		t.Fatal(err)
	}
	admin, err := store.UserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	byRole := map[app.Role]app.User{app.RoleAdmin: admin}
	for _, r := range []app.Role{app.RoleObserver, app.RoleCreator} {
		u, err := users.Create(ctx, admin, app.NewUserRequest{Email: r.String() + "@example.com", Name: r.Label() + " User", Role: r.String(), Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		byRole[r] = u
	}
	staticFS, err := fs.Sub(static.Files, ".")
	if err != nil {
		t.Fatal(err)
	}
	// The services are wired as cmd/web's run wires them.
	fleet := app.NewFleet(accounts, app.FleetOptions{Now: clk.Now, Log: log, TTL: o.fleetTTL, MaxStale: o.fleetMaxStale})
	history := app.NewHistory(store, accounts, audit, clk.Now, log)
	alerts := app.NewAlerts(store, sealer, fleet, accounts, audit, notify.New(notify.Options{Now: clk.Now}), app.AlertsOptions{Now: clk.Now, Log: log})
	snapshotter := alerts.SnapshotHook(history)
	ops := app.NewOps(fleet, audit, app.OpsOptions{Now: clk.Now, Log: log, Snapshotter: snapshotter})
	health := app.NewHealth(fleet, store, ops.OverduePolicy(), clk.Now)
	if err := prom.Register(metrics.NewStateCollector(accounts, health, store, metrics.StateCollectorOptions{Now: clk.Now, Log: log})); err != nil {
		t.Fatal(err)
	}
	deps := Deps{
		Log: log, Auth: auth, Users: users, Accounts: accounts, Audit: audit, DB: store,
		Fleet: fleet, Overviews: app.NewOverviews(fleet, store, app.OverviewOptions{Policy: ops.OverduePolicy(), Now: clk.Now, Log: log, Generation: history.Generation}),
		Ops: ops, History: history, Alerts: alerts, Health: health, Metrics: prom,
		Configurations: app.NewConfigurations(fleet, audit, ops.OverduePolicy(), clk.Now),
		Restores:       app.NewRestores(fleet, audit, snapshotter, store, clk.Now, log),
		Syncer:         app.NewSyncer(history, accounts, app.SyncOptions{AfterSync: alerts.AfterSync}),
		Tokens:         app.NewTokens(store, audit, clk.Now, log),
		Links:          app.NewLinks(store, audit, alerts, cheap, app.LinkOptions{Now: clk.Now, Log: log}),
		MFA:            app.NewMFA(store, auth, audit, sealer, app.MFAOptions{Now: clk.Now, Log: log}),
		OIDC:           app.OIDCOff(),
		Leases:         app.NewLeases(store, 0, clk.Now),
		SessionKey:     []byte(strings.Repeat("s", 64)), Static: staticFS, Now: clk.Now, Version: "test",
	}
	if o.oidc != nil {
		opts := *o.oidc
		if opts.Now == nil {
			opts.Now = clk.Now
		}
		opts.Log, opts.Connect = log, openid.New
		if deps.OIDC, err = app.NewOIDC(store, audit, opts); err != nil {
			t.Fatal(err)
		}
	}
	if o.change != nil {
		o.change(&deps)
	}
	e, r, err := newServer(deps)
	if err != nil {
		t.Fatal(err)
	}
	te := &testEnv{t: t, e: e, routes: r, store: store, clock: clk, sim: sim, auth: auth, users: users, accounts: accounts, audit: audit, history: history, byRole: byRole, demo: demo}
	return te, deps
}

// newTestSim is rcbusimtest.NewTestServer with the handler optionally wrapped.
func newTestSim(t testing.TB, opts []rcbusim.Option, wrap func(http.Handler) http.Handler) *rcbusimtest.TestServer {
	t.Helper()
	if wrap == nil {
		return rcbusimtest.NewTestServer(t, opts...)
	}
	fc := rcbusim.NewFakeClock(testStart)
	sim := rcbusim.New(append([]rcbusim.Option{rcbusim.WithClock(fc), rcbusim.WithWakeDelay(0)}, opts...)...)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(wrap(sim))
	t.Cleanup(hs.Close)
	return &rcbusimtest.TestServer{Server: sim, URL: hs.URL, IdentityURL: hs.URL + "/v2.0/tokens", Clock: fc}
}

// req is one request to the echo router.
type req struct {
	method  string
	path    string
	form    url.Values
	cookie  *http.Cookie
	headers map[string]string
}

func (te *testEnv) do(r req) *httptest.ResponseRecorder {
	te.t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	te.e.ServeHTTP(rec, hr)
	return rec
}

func (te *testEnv) get(path string, ck *http.Cookie) *httptest.ResponseRecorder {
	te.t.Helper()
	return te.do(req{path: path, cookie: ck})
}

func (te *testEnv) post(path string, form url.Values, ck *http.Cookie) *httptest.ResponseRecorder {
	te.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return te.do(req{method: http.MethodPost, path: path, form: form, cookie: ck})
}

// sessionCookieOf returns the session cookie a response sets, or nil.
func sessionCookieOf(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

// login signs in as email and returns the session cookie.
func (te *testEnv) login(email string) *http.Cookie {
	te.t.Helper()
	rec := te.post("/login", url.Values{"email": {email}, "password": {testPassword}}, nil)
	if rec.Code != http.StatusSeeOther {
		te.t.Fatalf("login %s: status %d\n%s", email, rec.Code, rec.Body.String())
	}
	ck := sessionCookieOf(rec)
	if ck == nil {
		te.t.Fatalf("login %s: no session cookie", email)
	}
	return ck
}

func (te *testEnv) loginRole(r app.Role) *http.Cookie {
	te.t.Helper()
	return te.login(te.byRole[r].Email)
}

// doc parses a response body.
func doc(t testing.TB, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testid selects elements by data-testid.
func testid(d *goquery.Document, id string) *goquery.Selection {
	return d.Find(`[data-testid="` + id + `"]`)
}

// redirectsToLogin reports whether rec sends the browser to the sign-in page.
func redirectsToLogin(rec *httptest.ResponseRecorder) bool {
	loc := rec.Header().Get("Location")
	return rec.Code == http.StatusSeeOther && (loc == "/login" || strings.HasPrefix(loc, "/login?"))
}

// wantFieldErrors checks that rec is the form again (422) with a message
// under each of the fields, and returns the page.
func wantFieldErrors(t *testing.T, rec *httptest.ResponseRecorder, fields ...string) *goquery.Document {
	t.Helper()
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", rec.Code)
	}
	d := doc(t, rec)
	for _, f := range fields {
		if testid(d, "error-"+f).Length() != 1 {
			t.Errorf("no message under %s", f)
		}
	}
	return d
}
