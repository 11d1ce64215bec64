package app_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/notify"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
	"github.com/rcbu-console/rcbu-console/upstream"
)

// alertsEnv is the alerts service over a real SQLite file and a simulator
// account.
type alertsEnv struct {
	*env
	alerts  *app.Alerts
	account app.Account
	sim     *rcbusimtest.TestServer
	roots   *x509.CertPool
	cert    tls.Certificate
	// newAlerts builds another alerts service on the same store, accounts
	// and fleet with other options.
	newAlerts func(app.AlertsOptions) *app.Alerts
}

func newAlertsEnv(t *testing.T) *alertsEnv {
	t.Helper()
	return newAlertsEnvOn(t, newEnv(t))
}

// newAlertsEnvOn is newAlertsEnv over the env e.
func newAlertsEnvOn(t *testing.T, e *env) *alertsEnv {
	t.Helper()
	sealer, err := app.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	accounts := app.NewAccounts(e.store, sealer, upstream.NewConnector(nil, app.NewUpstreamBudget(app.DefaultBackgroundCalls), discard(), "test"), e.audit, e.clock.Now, discard())
	sim := rcbusimtest.NewTestServer(t)
	acct, err := accounts.EnsureDemo(t.Context(), sim.IdentityURL, rcbusim.DemoUser, rcbusim.DemoAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	fleet := app.NewFleet(accounts, app.FleetOptions{Now: e.clock.Now, Log: discard(), TTL: time.Nanosecond})
	cert, roots := selfSigned(t)
	senders := notify.New(notify.Options{Now: e.clock.Now, SMTPRootCAs: roots, SMTPTimeout: 10 * time.Second})
	alerts := app.NewAlerts(e.store, sealer, fleet, accounts, e.audit, senders, app.AlertsOptions{Now: e.clock.Now, Log: discard()})
	newAlerts := func(o app.AlertsOptions) *app.Alerts {
		return app.NewAlerts(e.store, sealer, fleet, accounts, e.audit, senders, o)
	}
	return &alertsEnv{env: e, alerts: alerts, account: acct, sim: sim, roots: roots, cert: cert, newAlerts: newAlerts}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// receiver is an httptest webhook receiver that records every request and
// answers with the next status of its script (200 once the script is done).
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	fail []int
}

type received struct {
	Header http.Header
	Body   []byte
}

func newReceiver(t *testing.T, fail ...int) *receiver {
	t.Helper()
	r := &receiver{fail: fail}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Header: req.Header.Clone(), Body: body})
		status := http.StatusOK
		if len(r.fail) > 0 {
			status, r.fail = r.fail[0], r.fail[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// payloads decodes the webhook bodies received.
func (r *receiver) payloads(t *testing.T) []notify.WebhookPayload {
	t.Helper()
	var out []notify.WebhookPayload
	for _, q := range r.requests() {
		var p notify.WebhookPayload
		if err := json.Unmarshal(q.Body, &p); err != nil {
			t.Fatalf("webhook body %q: %v", q.Body, err)
		}
		out = append(out, p)
	}
	return out
}

const hookSecret = "a webhook secret of some length"

func (ae *alertsEnv) webhook(t *testing.T, url string, rules ...app.RuleKind) app.Channel {
	t.Helper()
	req := app.ChannelRequest{Name: "hook " + url, Kind: "webhook", Enabled: true, URL: url, Secret: hookSecret}
	for _, r := range rules {
		req.Rules = append(req.Rules, string(r))
	}
	c, err := ae.alerts.CreateChannel(t.Context(), ae.admin, ae.account.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// report stores a backup snapshot of configuration cfg that ended at.
func (ae *alertsEnv) report(t *testing.T, job int64, cfg int64, state string, at time.Time, bytes int64) {
	t.Helper()
	r := app.Report{AccountID: ae.account.ID, Kind: app.KindBackup, JobID: job, AgentID: 7, AgentName: "web-01", ConfigID: rcbu.ConfigurationID(cfg),
		ConfigName: "nightly", BackupID: rcbu.BackupID(job), State: state, Started: at.Add(-time.Minute), Finished: at, BytesBackedUp: bytes,
		Raw: []byte(`{}`), Fetched: at}
	if _, err := ae.store.InsertReports(t.Context(), []app.Report{r}); err != nil {
		t.Fatal(err)
	}
}

func (ae *alertsEnv) evaluate(t *testing.T) app.EvalResult {
	t.Helper()
	res, err := ae.alerts.Evaluate(t.Context(), ae.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (ae *alertsEnv) dispatch(t *testing.T) int {
	t.Helper()
	n, err := ae.alerts.DispatchDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (ae *alertsEnv) log(t *testing.T, c app.Channel) []app.Delivery {
	t.Helper()
	p, err := ae.alerts.Deliveries(t.Context(), ae.admin, ae.account.ID, c.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return p.Deliveries
}

func events(ps []notify.WebhookPayload) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.Event)+" "+p.Object)
	}
	return out
}

func TestWebhookIsSignedAndVerifiable(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	c := ae.webhook(t, rcv.srv.URL+"/hook")
	d, err := ae.alerts.SendTest(t.Context(), ae.admin, ae.account, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != app.DeliverySent || d.Attempts != 1 || d.LastStatus != 200 {
		t.Fatalf("delivery %+v", d)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	sig := q.Header.Get(notify.HeaderSignature)
	if !strings.HasPrefix(sig, "sha256=") || !notify.VerifyWebhook([]byte(hookSecret), q.Body, sig) {
		t.Errorf("signature %q does not verify", sig)
	}
	if notify.VerifyWebhook([]byte("another secret of some length"), q.Body, sig) {
		t.Error("the signature verifies under another key")
	}
	tampered := append([]byte(nil), q.Body...)
	tampered[len(tampered)-2] ^= 1
	if notify.VerifyWebhook([]byte(hookSecret), tampered, sig) {
		t.Error("the signature verifies a changed body")
	}
	var p notify.WebhookPayload
	if err := json.Unmarshal(q.Body, &p); err != nil {
		t.Fatal(err)
	}
	if ts := q.Header.Get(notify.HeaderTimestamp); ts != strconv.FormatInt(p.SentAt, 10) || p.SentAt != ae.clock.Now().Unix() {
		t.Errorf("timestamp header %q, sent_at %d", ts, p.SentAt)
	}
	if p.Event != app.EventTest || p.DeliveryID != d.ID || q.Header.Get(notify.HeaderDelivery) != d.ID.String() || p.Account != ae.account.Name {
		t.Errorf("payload %+v, headers %v", p, q.Header)
	}
	if e := ae.lastAudit(t); e.Action != app.ActionChannelTest || e.Outcome != app.OutcomeOK {
		t.Errorf("audit %+v", e)
	}
}

func TestSendTestFailureIsLoggedNotRetried(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusInternalServerError)
	c := ae.webhook(t, rcv.srv.URL)
	d, err := ae.alerts.SendTest(t.Context(), ae.admin, ae.account, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != app.DeliveryFailed || d.LastStatus != 500 || !strings.Contains(d.LastError, "500") {
		t.Errorf("delivery %+v", d)
	}
	ae.clock.Advance(48 * time.Hour)
	if n := ae.dispatch(t); n != 0 {
		t.Errorf("a failed test was retried (%d)", n)
	}
	if e := ae.lastAudit(t); e.Action != app.ActionChannelTest || e.Outcome != app.OutcomeFailed {
		t.Errorf("audit %+v", e)
	}
}

func TestWebhookRedirectIsNotFollowed(t *testing.T) {
	ae := newAlertsEnv(t)
	elsewhere := newReceiver(t)
	srv := httptest.NewServer(http.RedirectHandler(elsewhere.srv.URL, http.StatusFound))
	t.Cleanup(srv.Close)
	c := ae.webhook(t, srv.URL)
	d, err := ae.alerts.SendTest(t.Context(), ae.admin, ae.account, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != app.DeliveryFailed || d.LastStatus != http.StatusFound || len(elsewhere.requests()) != 0 {
		t.Errorf("delivery %+v; the redirect target got %d requests", d, len(elsewhere.requests()))
	}
}

func TestSlackMessage(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	slackURL := rcv.srv.URL + "/services/T000/B000/secretpart"
	c, err := ae.alerts.CreateChannel(t.Context(), ae.admin, ae.account.ID, app.ChannelRequest{Name: "ops", Kind: "slack", Enabled: true, URL: slackURL, Rules: []string{"backup_failed"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "" || strings.Contains(c.Target(), "secretpart") || !c.HasSecret() {
		t.Errorf("the Slack URL is kept in the clear: %+v", c)
	}
	stored, err := ae.store.Channel(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.SecretSealed), "secretpart") {
		t.Error("the Slack URL is stored unsealed")
	}
	if _, err := ae.alerts.SendTest(t.Context(), ae.admin, ae.account, c.ID); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(reqs[0].Body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Text != "Test notice from RCBU Console" || len(msg.Blocks) != 2 {
		t.Errorf("message %s", reqs[0].Body)
	}
}

func TestChannelValidation(t *testing.T) {
	ae := newAlertsEnv(t)
	ctx := t.Context()
	tests := []struct {
		name   string
		req    app.ChannelRequest
		fields []string
	}{
		{"empty", app.ChannelRequest{}, []string{"kind", "name"}},
		{"webhook without URL or secret", app.ChannelRequest{Name: "x", Kind: "webhook"}, []string{"secret", "url"}},
		{"webhook with a short secret and a bad URL", app.ChannelRequest{Name: "x", Kind: "webhook", URL: "ftp://h/x", Secret: "short"}, []string{"secret", "url"}},
		{"webhook with credentials in the URL", app.ChannelRequest{Name: "x", Kind: "webhook", URL: "https://u:p@h/x", Secret: hookSecret}, []string{"url"}},
		{"unknown rule", app.ChannelRequest{Name: "x", Kind: "webhook", URL: "https://h/x", Secret: hookSecret, Rules: []string{"nope"}}, []string{"rules"}},
		{"email with nothing", app.ChannelRequest{Name: "x", Kind: "email"}, []string{"smtp_from", "smtp_host", "smtp_security", "smtp_to"}},
		{"email with bad port, sender and recipient", app.ChannelRequest{Name: "x", Kind: "email", SMTPHost: "smtp.example.com", SMTPSecurity: "starttls", SMTPPort: "99999", SMTPFrom: "nope", SMTPTo: "a@example.com, not-an-address"}, []string{"smtp_from", "smtp_port", "smtp_to"}},
		{"email user without password", app.ChannelRequest{Name: "x", Kind: "email", SMTPHost: "smtp.example.com", SMTPSecurity: "tls", SMTPFrom: "a@example.com", SMTPTo: "b@example.com", SMTPUsername: "u"}, []string{"secret"}},
		{"a name with a line break", app.ChannelRequest{Name: "a\nb", Kind: "slack", URL: "https://hooks.example.com/x"}, []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ae.alerts.CreateChannel(ctx, ae.admin, ae.account.ID, tt.req)
			var ve *app.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v", err)
			}
			var got []string
			for f := range ve.Fields {
				got = append(got, f)
			}
			if diff := cmp.Diff(tt.fields, got, cmpopts.SortSlices(strings.Compare)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	if list, _ := ae.alerts.Channels(ctx, ae.admin, ae.account.ID); len(list) != 0 {
		t.Errorf("bad input saved %d channels", len(list))
	}
	t.Run("a taken name is a message under the name", func(t *testing.T) {
		req := app.ChannelRequest{Name: "Ops", Kind: "webhook", URL: "https://h/x", Secret: hookSecret}
		if _, err := ae.alerts.CreateChannel(ctx, ae.admin, ae.account.ID, req); err != nil {
			t.Fatal(err)
		}
		_, err := ae.alerts.CreateChannel(ctx, ae.admin, ae.account.ID, req)
		var ve *app.ValidationError
		if !errors.As(err, &ve) || ve.Fields["name"] == "" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("only admins change channels", func(t *testing.T) {
		creator := ae.admin
		creator.Role = app.RoleCreator
		_, err := ae.alerts.CreateChannel(ctx, creator, ae.account.ID, app.ChannelRequest{Name: "y", Kind: "webhook", URL: "https://h/x", Secret: hookSecret})
		if !errors.Is(err, app.ErrForbidden) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("editing keeps the secret when left empty and never changes the kind", func(t *testing.T) {
		list, _ := ae.alerts.Channels(ctx, ae.admin, ae.account.ID)
		c := list[0]
		req := app.ChannelRequestOf(c)
		req.Name = "Ops renamed"
		got, err := ae.alerts.UpdateChannel(ctx, ae.admin, ae.account.ID, c.ID, req)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.SecretSealed) != string(c.SecretSealed) || got.Name != "Ops renamed" {
			t.Errorf("updated %+v", got)
		}
		req.Kind = "slack"
		if _, err := ae.alerts.UpdateChannel(ctx, ae.admin, ae.account.ID, c.ID, req); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("kind change: err = %v", err)
		}
		if _, err := ae.alerts.UpdateChannel(ctx, ae.admin, ae.account.ID+1, c.ID, req); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("another account's channel: err = %v", err)
		}
	})
}

func TestDeduplicationAndResolution(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	c := ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	other := newReceiver(t)
	ae.webhook(t, other.srv.URL, app.RuleOverdue) // not routed to backup_failed
	now := ae.clock.Now()
	ae.report(t, 80, 1, "Failed", now.Add(-25*time.Hour), 0) // before the first evaluation and the alert window: history
	ae.report(t, 90, 1, "Failed", now.Add(-time.Hour), 0)    // before the first evaluation, inside the window: an incident
	if res := ae.evaluate(t); res.Opened != 1 || res.Summaries != 1 {
		t.Fatalf("first evaluation %+v", res)
	}

	ae.clock.Advance(time.Hour)
	ae.report(t, 100, 1, "Failed", ae.clock.Now(), 0)
	if res := ae.evaluate(t); res.Opened != 1 {
		t.Fatalf("opened %d", res.Opened)
	}
	ae.dispatch(t)
	t.Run("the first notice is one summary, then one alert per incident", func(t *testing.T) {
		if diff := cmp.Diff([]string{"alert.summary ", "alert.opened backup:100"}, events(rcv.payloads(t))); diff != "" {
			t.Error(diff)
		}
		if n := len(other.requests()); n != 0 {
			t.Errorf("an unrouted channel got %d", n)
		}
	})
	t.Run("no repeat while it stays open", func(t *testing.T) {
		for range 3 {
			ae.clock.Advance(10 * time.Minute)
			if res := ae.evaluate(t); res.Opened != 0 || res.Resolved != 0 {
				t.Errorf("evaluation %+v", res)
			}
			ae.dispatch(t)
		}
		if n := len(rcv.requests()); n != 2 {
			t.Errorf("%d requests", n)
		}
	})
	t.Run("a later completed run resolves both with one notice each", func(t *testing.T) {
		ae.clock.Advance(time.Hour)
		ae.report(t, 101, 1, "Completed", ae.clock.Now(), 1000)
		if res := ae.evaluate(t); res.Resolved != 2 { // 90 (told in the summary) and 100 (told in its own alert)
			t.Errorf("evaluation %+v", res)
		}
		ae.evaluate(t)
		ae.dispatch(t)
		ae.dispatch(t)
		want := []string{"alert.summary ", "alert.opened backup:100", "alert.resolved backup:100", "alert.resolved backup:90"}
		if diff := cmp.Diff(want, events(rcv.payloads(t))); diff != "" {
			t.Error(diff)
		}
		got := rcv.payloads(t)
		if p := got[2]; p.IncidentID == 0 || p.IncidentID != got[1].IncidentID || p.ResolvedAt.IsZero() {
			t.Errorf("resolution %+v", p)
		}
		if p := got[3]; p.IncidentID == 0 || !slices.Equal(got[0].IncidentIDs, []app.IncidentID{p.IncidentID}) || p.ResolvedAt.IsZero() {
			t.Errorf("resolution of what the summary told %+v", p)
		}
	})
	t.Run("a resolved backup incident is never reopened", func(t *testing.T) {
		ae.clock.Advance(time.Hour)
		if res := ae.evaluate(t); res.Opened != 0 {
			t.Errorf("evaluation %+v", res)
		}
	})
	t.Run("a new failure later is a new alert", func(t *testing.T) {
		ae.clock.Advance(time.Hour)
		ae.report(t, 102, 1, "Missed", ae.clock.Now(), 0)
		if res := ae.evaluate(t); res.Opened != 1 {
			t.Errorf("evaluation %+v", res)
		}
		ae.dispatch(t)
		want := []string{"alert.summary ", "alert.opened backup:100", "alert.resolved backup:100", "alert.resolved backup:90", "alert.opened backup:102"}
		if diff := cmp.Diff(want, events(rcv.payloads(t))); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("the delivery log shows every notice", func(t *testing.T) {
		log := ae.log(t, c)
		if len(log) != 5 {
			t.Fatalf("%d log rows", len(log))
		}
		for _, d := range log {
			if d.Status != app.DeliverySent || d.Attempts != 1 || d.LastStatus != 200 || (d.IncidentID == 0) != (d.Event == app.EventSummary) {
				t.Errorf("delivery %+v", d)
			}
		}
	})
}

func TestOfflineAgentOpensAndResolves(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	ae.webhook(t, rcv.srv.URL, app.RuleAgentOffline)
	id := ae.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "db-01"})
	ae.sim.SetAgentOnline(id, false)
	ae.evaluate(t) // first seen offline now
	ae.clock.Advance(23 * time.Hour)
	if res := ae.evaluate(t); res.Opened != 0 {
		t.Fatalf("opened after 23 h: %+v", res)
	}
	ae.clock.Advance(2 * time.Hour)
	if res := ae.evaluate(t); res.Opened != 1 {
		t.Fatalf("not opened after 25 h: %+v", res)
	}
	ae.dispatch(t)
	ae.sim.SetAgentOnline(id, true)
	ae.clock.Advance(time.Second) // past the fleet's cache
	if res := ae.evaluate(t); res.Resolved != 1 {
		t.Fatalf("not resolved when back: %+v", res)
	}
	ae.dispatch(t)
	want := []string{"alert.opened agent:" + strconv.FormatInt(id, 10), "alert.resolved agent:" + strconv.FormatInt(id, 10)}
	if diff := cmp.Diff(want, events(rcv.payloads(t))); diff != "" {
		t.Error(diff)
	}
	t.Run("a new stretch offline counts from when it was seen again", func(t *testing.T) {
		ae.sim.SetAgentOnline(id, false)
		ae.clock.Advance(time.Second)
		ae.evaluate(t)
		ae.clock.Advance(2 * time.Hour)
		if res := ae.evaluate(t); res.Opened != 0 {
			t.Errorf("opened after 2 h: %+v", res)
		}
	})
}

func TestRetryWithBackoff(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t, http.StatusServiceUnavailable, http.StatusBadGateway)
	c := ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	ae.evaluate(t)
	ae.clock.Advance(time.Minute)
	ae.report(t, 100, 1, "Failed", ae.clock.Now(), 0)
	ae.evaluate(t)

	if n := ae.dispatch(t); n != 1 {
		t.Fatalf("first dispatch attempted %d", n)
	}
	d := ae.log(t, c)[0]
	if d.Status != app.DeliveryPending || d.Attempts != 1 || d.LastStatus != 503 || !d.NextAttempt.Equal(ae.clock.Now().Add(30*time.Second)) {
		t.Fatalf("after one failure: %+v", d)
	}
	if n := ae.dispatch(t); n != 0 {
		t.Errorf("retried before the backoff: %d", n)
	}
	ae.clock.Advance(30 * time.Second)
	ae.dispatch(t)
	d = ae.log(t, c)[0]
	if d.Status != app.DeliveryPending || d.Attempts != 2 || d.LastStatus != 502 || !d.NextAttempt.Equal(ae.clock.Now().Add(time.Minute)) {
		t.Fatalf("after two failures (the delay doubles): %+v", d)
	}
	ae.clock.Advance(59 * time.Second)
	if n := ae.dispatch(t); n != 0 {
		t.Errorf("retried before the doubled backoff: %d", n)
	}
	ae.clock.Advance(time.Second)
	ae.dispatch(t)
	d = ae.log(t, c)[0]
	if d.Status != app.DeliverySent || d.Attempts != 3 || d.LastStatus != 200 || d.LastError != "" {
		t.Fatalf("after the third attempt: %+v", d)
	}
	ps := rcv.payloads(t)
	if len(ps) != 3 || ps[0].DeliveryID != ps[2].DeliveryID || ps[0].Title != ps[2].Title {
		t.Errorf("the retries differ: %+v", ps)
	}
}

func TestDisabledChannel(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	c := ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	ae.evaluate(t)
	ae.clock.Advance(time.Minute)
	ae.report(t, 100, 1, "Failed", ae.clock.Now(), 0)
	ae.evaluate(t) // queued while enabled
	req := app.ChannelRequestOf(c)
	req.Enabled = false
	if _, err := ae.alerts.UpdateChannel(t.Context(), ae.admin, ae.account.ID, c.ID, req); err != nil {
		t.Fatal(err)
	}
	ae.dispatch(t)
	d := ae.log(t, c)[0]
	if d.Status != app.DeliveryFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "disabled") || len(rcv.requests()) != 0 {
		t.Errorf("a pending alert to a disabled channel: %+v", d)
	}
	ae.clock.Advance(time.Minute)
	ae.report(t, 101, 2, "Failed", ae.clock.Now(), 0)
	if res := ae.evaluate(t); res.Opened != 1 {
		t.Fatalf("evaluation %+v", res)
	}
	if n := len(ae.log(t, c)); n != 1 {
		t.Errorf("a disabled channel was queued a new alert (%d log rows)", n)
	}
}

func TestRunLoopEvaluatesOnTriggerAndDelivers(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	ae.evaluate(t) // the console starts watching
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); ae.alerts.Run(ctx) }()
	for i, job := range []int64{100, 101} {
		ae.report(t, job, int64(i+1), "Failed", ae.clock.Now(), 0)
		// The sync hook; the clock does not move, so only the trigger evaluates.
		ae.alerts.AfterSync(ctx, ae.account.ID, 1, nil)
		poll.Until(t, fmt.Sprintf("delivery %d", i+1), func() bool { return len(rcv.requests()) > i })
	}
	cancel()
	<-done
	if diff := cmp.Diff([]string{"alert.opened backup:100", "alert.opened backup:101"}, events(rcv.payloads(t))); diff != "" {
		t.Error(diff)
	}
}

func TestRetryGivesUp(t *testing.T) {
	ae := newAlertsEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(srv.Close)
	c := ae.webhook(t, srv.URL, app.RuleBackupFailed)
	ae.evaluate(t)
	ae.report(t, 100, 1, "Failed", ae.clock.Now().Add(time.Second), 0)
	ae.clock.Advance(time.Minute)
	ae.evaluate(t)
	for range 20 {
		ae.dispatch(t)
		ae.clock.Advance(2 * time.Hour)
	}
	d := ae.log(t, c)[0]
	if d.Status != app.DeliveryFailed || d.Attempts != 8 {
		t.Errorf("delivery %+v", d)
	}
}

// smtpServer is a tiny SMTP server for tests: EHLO, STARTTLS (unless the
// whole connection is TLS), AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config
	implicit bool
	user     string
	pass     string

	mu   sync.Mutex
	msgs []smtpMessage
	wg   sync.WaitGroup
}

type smtpMessage struct {
	From string
	To   []string
	Data string
	TLS  bool
	User string
}

func newSMTPServer(t *testing.T, cert tls.Certificate, implicit bool) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, tls: &tls.Config{Certificates: []tls.Certificate{cert}}, implicit: implicit, user: "mailer", pass: "mail password"}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() string {
	_, p, _ := net.SplitHostPort(s.ln.Addr().String())
	return p
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	secure := false
	if s.implicit {
		c = tls.Server(c, s.tls)
		secure = true
	}
	tp := textproto.NewConn(c)
	var msg smtpMessage
	reply := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	if !reply("220 127.0.0.1 ESMTP test") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-127.0.0.1"}
			if !secure {
				lines = append(lines, "250-STARTTLS")
			} else {
				lines = append(lines, "250-AUTH PLAIN")
			}
			lines = append(lines, "250 8BITMIME")
			for _, l := range lines {
				reply(l)
			}
		case "STARTTLS":
			reply("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure = tc, true
			tp = textproto.NewConn(c)
		case "AUTH":
			mech, b64, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(b64)
			parts := strings.Split(string(raw), "\x00")
			if !secure || mech != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			msg.User = parts[1]
			reply("235 2.7.0 authenticated")
		case "MAIL":
			msg.From = angleAddr(arg)
			reply("250 ok")
		case "RCPT":
			msg.To = append(msg.To, angleAddr(arg))
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			b, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			msg.Data, msg.TLS = string(b), secure
			s.mu.Lock()
			s.msgs = append(s.msgs, msg)
			s.mu.Unlock()
			msg = smtpMessage{User: msg.User}
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// angleAddr returns the address between < and > of a MAIL or RCPT argument.
func angleAddr(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

func TestEmailChannel(t *testing.T) {
	for _, tc := range []struct {
		name     string
		security string
		implicit bool
	}{
		{"STARTTLS", "starttls", false},
		{"implicit TLS", "tls", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := newAlertsEnv(t)
			srv := newSMTPServer(t, ae.cert, tc.implicit)
			req := app.ChannelRequest{Name: "mail", Kind: "email", Enabled: true, SMTPHost: "127.0.0.1", SMTPPort: srv.port(), SMTPSecurity: tc.security,
				SMTPUsername: srv.user, Secret: srv.pass, SMTPFrom: "backups@example.com", SMTPTo: "ops@example.com, boss@example.com",
				Rules: []string{"backup_failed"}}
			c, err := ae.alerts.CreateChannel(t.Context(), ae.admin, ae.account.ID, req)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(c.SecretSealed), srv.pass) {
				t.Fatal("the SMTP password is stored in the clear")
			}
			ae.evaluate(t)
			ae.clock.Advance(time.Minute)
			ae.report(t, 100, 1, "Failed", ae.clock.Now(), 0)
			ae.evaluate(t)
			ae.dispatch(t)
			msgs := srv.messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages; log %+v", len(msgs), ae.log(t, c))
			}
			m := msgs[0]
			if !m.TLS || m.User != "mailer" || m.From != "backups@example.com" {
				t.Errorf("message %+v", m)
			}
			if diff := cmp.Diff([]string{"ops@example.com", "boss@example.com"}, m.To); diff != "" {
				t.Error(diff)
			}
			hdr, err := textproto.NewReader(bufio.NewReader(strings.NewReader(m.Data))).ReadMIMEHeader()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(hdr.Get("Subject"), "nightly") || hdr.Get(notify.HeaderEvent) != "alert.opened" || hdr.Get("Content-Transfer-Encoding") != "quoted-printable" {
				t.Errorf("headers %v", hdr)
			}
			if !strings.Contains(m.Data, "The backup 100 of nightly on web-01 failed") {
				t.Errorf("body %q", m.Data)
			}
			if d := ae.log(t, c)[0]; d.Status != app.DeliverySent || d.LastStatus != 250 {
				t.Errorf("delivery %+v", d)
			}
		})
	}
	t.Run("a wrong password fails with the server's code and is retried", func(t *testing.T) {
		ae := newAlertsEnv(t)
		srv := newSMTPServer(t, ae.cert, false)
		c, err := ae.alerts.CreateChannel(t.Context(), ae.admin, ae.account.ID, app.ChannelRequest{Name: "mail", Kind: "email", Enabled: true,
			SMTPHost: "127.0.0.1", SMTPPort: srv.port(), SMTPSecurity: "starttls", SMTPUsername: srv.user, Secret: "wrong password",
			SMTPFrom: "backups@example.com", SMTPTo: "ops@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := ae.alerts.SendTest(t.Context(), ae.admin, ae.account, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != app.DeliveryFailed || d.LastStatus != 535 || strings.Contains(d.LastError, "wrong password") {
			t.Errorf("delivery %+v", d)
		}
	})
	t.Run("a server whose certificate is not trusted is refused", func(t *testing.T) {
		ae := newAlertsEnv(t)
		other, _ := selfSigned(t)
		srv := newSMTPServer(t, other, false)
		c, err := ae.alerts.CreateChannel(t.Context(), ae.admin, ae.account.ID, app.ChannelRequest{Name: "mail", Kind: "email", Enabled: true,
			SMTPHost: "127.0.0.1", SMTPPort: srv.port(), SMTPSecurity: "starttls", SMTPFrom: "backups@example.com", SMTPTo: "ops@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := ae.alerts.SendTest(t.Context(), ae.admin, ae.account, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != app.DeliveryFailed || !strings.Contains(d.LastError, "STARTTLS") || len(srv.messages()) != 0 {
			t.Errorf("delivery %+v", d)
		}
	})
}

func TestDigest(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	c := ae.webhook(t, rcv.srv.URL)
	now := ae.clock.Now()
	ae.report(t, 1, 1, "Completed", now.Add(-30*time.Hour), 100) // the day before
	ae.report(t, 2, 1, "Completed", now.Add(-3*time.Hour), 500)
	ae.report(t, 3, 1, "Failed", now.Add(-2*time.Hour), 0)
	ae.report(t, 4, 2, "CompletedWithErrors", now.Add(-time.Hour), 50)
	ctx := t.Context()
	t.Run("send now needs a channel", func(t *testing.T) {
		if _, err := ae.alerts.SendDigestNow(ctx, ae.admin, ae.account); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("err = %v", err)
		}
	})
	_, err := ae.alerts.UpdateSettings(ctx, ae.admin, ae.account.ID, app.AlertSettingsRequest{OfflineHours: "24", GrowthFactor: "5",
		DigestFrequency: "daily", DigestHour: "8", DigestWeekday: "1", DigestChannel: c.ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("send now", func(t *testing.T) {
		if _, err := ae.alerts.SendDigestNow(ctx, ae.admin, ae.account); err != nil {
			t.Fatal(err)
		}
		ae.dispatch(t)
		ps := rcv.payloads(t)
		if len(ps) != 1 || ps[0].Event != app.EventDigest || ps[0].Digest == nil {
			t.Fatalf("payloads %+v", ps)
		}
		d := ps[0].Digest
		if d.Runs != 3 || d.Completed != 1 || d.WithErrors != 1 || d.Failed != 1 || d.Bytes != 550 || d.PrevBytes != 100 {
			t.Errorf("digest %+v", d.DigestStats)
		}
		if len(d.Failures) != 1 || d.Failures[0].JobID != 3 || len(d.Growth) != 2 || d.Growth[0].Bytes != 500 || d.Growth[0].PrevBytes != 100 {
			t.Errorf("failures %+v growth %+v", d.Failures, d.Growth)
		}
		if e := ae.lastAudit(t); e.Action != app.ActionDigestSend || e.Outcome != app.OutcomeOK {
			t.Errorf("audit %+v", e)
		}
	})
	t.Run("the scheduled digest goes once per day at its hour", func(t *testing.T) {
		// Saved at 15:04: the first is due tomorrow at 08:00 UTC.
		if n, err := ae.alerts.SendDueDigests(ctx); err != nil || n != 0 {
			t.Fatalf("due now: %d, %v", n, err)
		}
		ae.clock.Advance(16*time.Hour + 50*time.Minute) // 07:54
		if n, _ := ae.alerts.SendDueDigests(ctx); n != 0 {
			t.Fatalf("due before the hour: %d", n)
		}
		ae.clock.Advance(10 * time.Minute) // 08:04
		if n, _ := ae.alerts.SendDueDigests(ctx); n != 1 {
			t.Fatalf("not due at the hour: %d", n)
		}
		if n, _ := ae.alerts.SendDueDigests(ctx); n != 0 {
			t.Fatalf("sent twice: %d", n)
		}
		ae.dispatch(t)
		ps := rcv.payloads(t)
		if len(ps) != 2 || !ps[1].Digest.To.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("payloads %+v", ps)
		}
	})
	t.Run("bad settings change nothing", func(t *testing.T) {
		_, err := ae.alerts.UpdateSettings(ctx, ae.admin, ae.account.ID, app.AlertSettingsRequest{OfflineHours: "0", GrowthFactor: "x",
			DigestFrequency: "hourly", DigestHour: "24", DigestWeekday: "9", DigestChannel: "999"})
		var ve *app.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 6 {
			t.Fatalf("err = %v", err)
		}
		st, _, err := ae.alerts.Settings(ctx, ae.admin, ae.account.ID)
		if err != nil || st.OfflineHours != 24 || st.DigestFrequency != app.DigestDaily || st.DigestChannel != c.ID {
			t.Errorf("settings %+v, %v", st, err)
		}
	})
}

func TestDigestSlot(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		st   app.AlertSettings
		now  string
		want string
	}{
		{app.AlertSettings{DigestFrequency: app.DigestDaily, DigestHour: 8}, "2026-03-04T09:00:00Z", "2026-03-04T08:00:00Z"},
		{app.AlertSettings{DigestFrequency: app.DigestDaily, DigestHour: 8}, "2026-03-04T07:59:00Z", "2026-03-03T08:00:00Z"},
		// 2026-03-04 is a Wednesday.
		{app.AlertSettings{DigestFrequency: app.DigestWeekly, DigestHour: 8, DigestWeekday: time.Monday}, "2026-03-04T09:00:00Z", "2026-03-02T08:00:00Z"},
		{app.AlertSettings{DigestFrequency: app.DigestWeekly, DigestHour: 8, DigestWeekday: time.Wednesday}, "2026-03-04T07:00:00Z", "2026-02-25T08:00:00Z"},
		{app.AlertSettings{DigestFrequency: app.DigestWeekly, DigestHour: 8, DigestWeekday: time.Wednesday}, "2026-03-04T08:00:00Z", "2026-03-04T08:00:00Z"},
	}
	for _, tt := range tests {
		if got := app.DigestSlot(tt.st, at(tt.now)); !got.Equal(at(tt.want)) {
			t.Errorf("DigestSlot(%v %d:00 day %d, %s) = %s, want %s", tt.st.DigestFrequency, tt.st.DigestHour, tt.st.DigestWeekday, tt.now, got, tt.want)
		}
	}
}

func TestOverdueGrace(t *testing.T) {
	ae := newAlertsEnv(t)
	ctx := context.Background()
	agent := ae.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01"})
	cfgID, err := ae.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "nightly", Frequency: "Daily", Hour: 2, Minute: 0, AmPm: "AM"})
	if err != nil {
		t.Fatal(err)
	}
	rows, probs, err := ae.alerts.Graces(ctx, ae.admin, ae.account)
	if err != nil || len(probs) != 0 || len(rows) != 1 {
		t.Fatalf("rows %+v probs %+v err %v", rows, probs, err)
	}
	if rows[0].Interval != 24*time.Hour || rows[0].DefaultGrace != 6*time.Hour || rows[0].HasGrace {
		t.Errorf("row %+v", rows[0])
	}
	if err := ae.alerts.SetGrace(ctx, ae.admin, ae.account, rcbu.ConfigurationID(cfgID), "90"); err != nil {
		t.Fatal(err)
	}
	rows, _, _ = ae.alerts.Graces(ctx, ae.admin, ae.account)
	if !rows[0].HasGrace || rows[0].Grace != 90*time.Minute {
		t.Errorf("row %+v", rows[0])
	}
	if e := ae.lastAudit(t); e.Action != app.ActionOverdueGrace || !strings.Contains(e.Message, "90 min") {
		t.Errorf("audit %+v", e)
	}
	if err := ae.alerts.SetGrace(ctx, ae.admin, ae.account, rcbu.ConfigurationID(cfgID), "-1"); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("negative grace: %v", err)
	}
	if err := ae.alerts.SetGrace(ctx, ae.admin, ae.account, rcbu.ConfigurationID(cfgID+999), "5"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("unknown configuration: %v", err)
	}
	if err := ae.alerts.SetGrace(ctx, ae.admin, ae.account, rcbu.ConfigurationID(cfgID), ""); err != nil {
		t.Fatal(err)
	}
	rows, _, _ = ae.alerts.Graces(ctx, ae.admin, ae.account)
	if rows[0].HasGrace {
		t.Errorf("override not cleared: %+v", rows[0])
	}
}
