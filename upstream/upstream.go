// Package upstream is the console's transport to Cloud Backup: the
// Connector that signs an account in with the rcbu binding, over an HTTP
// client whose transport holds background work to app's UpstreamBudget.
// app says what a budget and a connector are; this package says how they
// travel over HTTP, and cmd/web wires the two together.
package upstream

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
)

// Transport is the transport of the HTTP client rcbuhttp uses by default:
// a copy of http.DefaultTransport that keeps as many idle connections per
// host as the rcbu client fans out.
func Transport() http.RoundTripper { return rcbuhttp.DefaultClient().Transport }

// NewConnector returns the app.Connector that signs in with rcbuhttp.Connect. A
// region-less account uses every regional endpoint of the catalog.
//
// Every client it makes shares budget over hc's transport: each account
// keeps a single client (and token) for pages and background work alike,
// and the context of a call says which of the two it is (app.Background).
// A nil hc is Transport with a 30 s timeout.
func NewConnector(hc *http.Client, budget *app.UpstreamBudget, log *slog.Logger, userAgent string) app.Connector {
	if hc == nil {
		hc = rcbuhttp.DefaultClient()
	}
	budgeted := *hc
	budgeted.Transport = Budgeted(hc.Transport, budget)
	return func(ctx context.Context, c app.Credentials) (*rcbu.Client, error) {
		opts := []rcbu.Option{rcbu.WithIdentityURL(c.IdentityURL), rcbu.WithLogger(log), rcbu.WithUserAgent(userAgent), rcbuhttp.WithHTTPClient(&budgeted)}
		if c.Region == "" {
			opts = append(opts, rcbu.WithAllRegions())
		} else {
			opts = append(opts, rcbu.WithRegion(c.Region))
		}
		return rcbuhttp.Connect(ctx, rcbu.Credentials{Username: c.Username, APIKey: c.APIKey, Password: c.Password}, opts...)
	}
}

// Budgeted returns base (http.DefaultTransport when nil) with budget
// applied: a request whose context is marked app.Background waits for a
// slot (or for its context to end) and holds it until its response body is
// closed, so the read of a large body counts against the budget too.
// Interactive requests pass straight through.
func Budgeted(base http.RoundTripper, budget *app.UpstreamBudget) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &budgetTransport{base: base, budget: budget}
}

type budgetTransport struct {
	base   http.RoundTripper
	budget *app.UpstreamBudget
}

func (t *budgetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !app.IsBackground(ctx) {
		return t.base.RoundTrip(req)
	}
	release, err := t.budget.Acquire(ctx)
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper must close the body, even on error
		}
		return nil, err
	}
	once := sync.OnceFunc(release)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		once()
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: once}
	return resp, nil
}

// releaseBody gives the budget slot back when the body is closed.
type releaseBody struct {
	io.ReadCloser
	release func()
}

func (r *releaseBody) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}
