package rcbu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// Transport carries one HTTP exchange with Identity or Cloud Backup. The
// binding decides what to send (paths, JSON, headers, the token), when to
// retry and how to read the answer; a Transport only moves the bytes, the
// way database/sql leaves the wire to its driver. rcbuhttp provides the
// one over net/http, so that code using the binding's types and Client
// need not link an HTTP stack of its own.
//
// A Transport must be safe for concurrent use. It must not forward
// X-Auth-Token to a host other than the request's (after a redirect, say).
type Transport interface {
	// RoundTrip sends req and returns the answer, whatever its status. An
	// error means no answer arrived (or ctx ended). The caller closes the
	// response's Body.
	RoundTrip(ctx context.Context, req *Request) (*Response, error)
}

// Request is one HTTP request of the binding.
type Request struct {
	Method string
	URL    *url.URL
	Header textproto.MIMEHeader
	Body   []byte // nil: no body; the same bytes are sent again on a replay
}

// Response is a Transport's answer to a Request.
type Response struct {
	StatusCode    int
	Header        textproto.MIMEHeader
	ContentLength int64 // -1 when unknown
	Body          io.ReadCloser
}

// roundTrip is t.RoundTrip, held to the interface's promises: an answer
// with a body, or an error.
func roundTrip(ctx context.Context, t Transport, req *Request) (*Response, error) {
	resp, err := t.RoundTrip(ctx, req)
	switch {
	case err != nil:
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, err
	case resp == nil:
		return nil, errors.New("the transport returned neither an answer nor an error")
	case resp.Body == nil:
		resp.Body = io.NopCloser(bytes.NewReader(nil))
	}
	return resp, nil
}

// WithTransport sets how requests travel (required by Connect and
// NewClient; rcbuhttp's Connect and NewClient supply net/http's).
func WithTransport(t Transport) Option { return func(o *options) { o.transport = t } }

// The HTTP status codes the binding tells apart.
const (
	statusBadRequest      = 400
	statusUnauthorized    = 401
	statusForbidden       = 403
	statusNotFound        = 404
	statusConflict        = 409
	statusTooManyRequests = 429
	statusBadGateway      = 502
	statusUnavailable     = 503
	statusGatewayTimeout  = 504
)

// statusText is the reason phrase of the codes the API answers with (the
// contract's §1.4 and the proxies in front of it); "" for others.
func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 204:
		return "No Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case statusBadRequest:
		return "Bad Request"
	case statusUnauthorized:
		return "Unauthorized"
	case statusForbidden:
		return "Forbidden"
	case statusNotFound:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case statusConflict:
		return "Conflict"
	case 413:
		return "Request Entity Too Large"
	case 415:
		return "Unsupported Media Type"
	case statusTooManyRequests:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case statusBadGateway:
		return "Bad Gateway"
	case statusUnavailable:
		return "Service Unavailable"
	case statusGatewayTimeout:
		return "Gateway Timeout"
	}
	return ""
}

// parseHTTPDate reads an HTTP date in the three formats HTTP
// allows (RFC 9110, section 5.6.7; what net/http's ParseTime accepts).
func parseHTTPDate(s string) (time.Time, bool) {
	for _, layout := range [...]string{
		"Mon, 02 Jan 2006 15:04:05 GMT", // IMF-fixdate
		time.RFC850,
		time.ANSIC,
	} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
