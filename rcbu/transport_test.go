package rcbu_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// handlerTransport hands each request to an http.Handler in memory: the
// binding needs no socket, only something that answers its requests.
type handlerTransport struct {
	h     http.Handler
	calls atomic.Int32
}

func (t *handlerTransport) RoundTrip(ctx context.Context, r *rcbu.Request) (*rcbu.Response, error) {
	t.calls.Add(1)
	req := httptest.NewRequestWithContext(ctx, r.Method, r.URL.String(), bytes.NewReader(r.Body))
	req.Header = http.Header(r.Header).Clone()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	res := rec.Result()
	return &rcbu.Response{StatusCode: res.StatusCode, Header: textproto.MIMEHeader(res.Header), ContentLength: res.ContentLength, Body: res.Body}, nil
}

func TestAnyTransportCarriesTheBinding(t *testing.T) {
	sim := rcbusim.New()
	web := sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Datacenter: "DFW", Online: true})
	tr := &handlerTransport{h: sim}
	ctx := context.Background()
	c, err := rcbu.Connect(ctx, rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		rcbu.WithTransport(tr), rcbu.WithIdentityURL("http://sim.test/v2.0/tokens"), rcbu.WithRegion("DFW"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Agents.Get(ctx, rcbu.AgentID(web))
	if err != nil || a.MachineName != "web-01" {
		t.Fatalf("agent = %+v, %v", a, err)
	}
	if _, err := c.Agents.Get(ctx, 999999); !errors.Is(err, rcbu.ErrNotFound) {
		t.Errorf("missing agent: %v, want ErrNotFound", err)
	}
	if n := tr.calls.Load(); n != 3 {
		t.Errorf("transport calls = %d, want 3 (authenticate, two gets)", n)
	}
}

func TestConnectNeedsATransport(t *testing.T) {
	_, err := rcbu.Connect(context.Background(), rcbu.Credentials{Username: "alice", APIKey: "k"})
	if err == nil || !strings.Contains(err.Error(), "WithTransport") {
		t.Errorf("Connect without a transport: %v", err)
	}
	_, err = rcbu.NewClient(rcbu.WithBaseURL("https://dfw.example/v1.0/1"), rcbu.WithToken("t"))
	if err == nil || !strings.Contains(err.Error(), "WithTransport") {
		t.Errorf("NewClient without a transport: %v", err)
	}
}

// sloppyTransport breaks the interface's promises: no answer and no error,
// or an answer without a body.
type sloppyTransport struct{ status int }

func (t sloppyTransport) RoundTrip(context.Context, *rcbu.Request) (*rcbu.Response, error) {
	if t.status == 0 {
		return nil, nil
	}
	return &rcbu.Response{StatusCode: t.status, ContentLength: -1}, nil
}

func TestASloppyTransportIsAnErrorNotAPanic(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		status int
		want   string
	}{
		{0, "neither an answer nor an error"},
		{404, "404 Not Found"},
	} {
		c, err := rcbu.NewClient(rcbu.WithTransport(sloppyTransport{tc.status}), rcbu.WithBaseURL("https://dfw.example/v1.0/1"), rcbu.WithToken("t"), rcbu.WithRetry(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Agents.Get(ctx, 7); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("status %d: err = %v, want one saying %q", tc.status, err, tc.want)
		}
	}
	// A 2xx without a body is an empty answer.
	c, _ := rcbu.NewClient(rcbu.WithTransport(sloppyTransport{204}), rcbu.WithBaseURL("https://dfw.example/v1.0/1"), rcbu.WithToken("t"))
	if err := c.Agents.Enable(ctx, 7); err != nil {
		t.Errorf("a 204 without a body: %v", err)
	}
}
