// Package rcbuhttp carries the rcbu binding over net/http: Connect and
// NewClient are rcbu's with an HTTP transport, and Transport adapts any
// *http.Client.
//
//	client, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: "alice", APIKey: key})
//
// The binding itself (rcbu) holds the API's types, its rules for retries
// and tokens, and the Client; it links no HTTP stack, so a program's core
// can use rcbu.Client while its main decides how requests travel.
package rcbuhttp

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/textproto"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// Connect is rcbu.Connect over net/http: one shared DefaultClient unless
// WithHTTPClient is among opts. It makes a call (to Identity).
func Connect(ctx context.Context, cr rcbu.Credentials, opts ...rcbu.Option) (*rcbu.Client, error) {
	return rcbu.Connect(ctx, cr, withDefault(opts)...)
}

// NewClient is rcbu.NewClient over net/http, like Connect. It makes no call.
func NewClient(opts ...rcbu.Option) (*rcbu.Client, error) {
	return rcbu.NewClient(withDefault(opts)...)
}

// withDefault puts the default transport first, so that a WithHTTPClient or
// rcbu.WithTransport in opts replaces it.
func withDefault(opts []rcbu.Option) []rcbu.Option {
	return append([]rcbu.Option{rcbu.WithTransport(defaultTransport())}, opts...)
}

// defaultTransport is Transport(nil), built once and shared by every client
// made without WithHTTPClient (as net/http shares http.DefaultClient), so
// their connections are pooled together and a client given its own HTTP
// client costs no unused one.
var defaultTransport = sync.OnceValue(func() rcbu.Transport { return Transport(nil) })

// WithHTTPClient makes the binding send its requests with hc: its
// Transport, Timeout and Jar apply.
func WithHTTPClient(hc *http.Client) rcbu.Option { return rcbu.WithTransport(Transport(hc)) }

// DefaultClient returns the client Connect uses without WithHTTPClient: a
// 30 s timeout, over a copy of http.DefaultTransport that keeps as many idle
// connections per host as the binding runs calls at once
// (rcbu.DefaultConcurrency) instead of net/http's 2, so fan-outs reuse
// their connections.
func DefaultClient() *http.Client {
	var t http.RoundTripper = http.DefaultTransport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		c := dt.Clone()
		c.MaxIdleConnsPerHost = rcbu.DefaultConcurrency
		t = c
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// Transport adapts hc (DefaultClient when nil) to rcbu.Transport. A
// redirect to another host does not carry the X-Auth-Token header.
func Transport(hc *http.Client) rcbu.Transport {
	if hc == nil {
		hc = DefaultClient()
	}
	c := *hc
	check := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host {
			req.Header.Del("X-Auth-Token")
		}
		if check != nil {
			return check(req, via)
		}
		if len(via) >= 10 { // net/http's own limit
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &transport{hc: &c}
}

type transport struct{ hc *http.Client }

// RoundTrip implements rcbu.Transport.
func (t *transport) RoundTrip(ctx context.Context, r *rcbu.Request) (*rcbu.Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	if r.Body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	req.Header = http.Header(r.Header).Clone()
	resp, err := t.hc.Do(req)
	if err != nil {
		return nil, err
	}
	return &rcbu.Response{
		StatusCode:    resp.StatusCode,
		Header:        textproto.MIMEHeader(resp.Header),
		ContentLength: resp.ContentLength,
		Body:          resp.Body,
	}, nil
}
