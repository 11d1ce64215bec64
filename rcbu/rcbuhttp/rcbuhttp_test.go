package rcbuhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"testing"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
)

func TestTransportSendsTheRequestAsGiven(t *testing.T) {
	type seen struct {
		method, path, token, ua string
		length                  int64
		body                    string
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.EscapedPath(), r.Header.Get("X-Auth-Token"), r.Header.Get("User-Agent"), r.ContentLength, string(b)}
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"Message": "busy"}`)
	}))
	t.Cleanup(srv.Close)
	tr := rcbuhttp.Transport(nil)
	u, _ := url.Parse(srv.URL + "/v1.0/1/agent/a%2Fb")
	for _, tc := range []struct {
		method string
		body   []byte
		length int64
	}{{"GET", nil, 0}, {"POST", []byte(`{"a":1}`), 7}} {
		h := textproto.MIMEHeader{}
		h.Set("X-Auth-Token", "tok")
		h.Set("User-Agent", "ua/1")
		resp, err := tr.RoundTrip(context.Background(), &rcbu.Request{Method: tc.method, URL: u, Header: h, Body: tc.body})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || resp.Header.Get("X-Request-Id") != "req-1" || string(b) != `{"Message": "busy"}` {
			t.Errorf("%s: response %d %v %q", tc.method, resp.StatusCode, resp.Header, b)
		}
		s := <-got
		if s.method != tc.method || s.path != "/v1.0/1/agent/a%2Fb" || s.token != "tok" || s.ua != "ua/1" || s.length != tc.length || s.body != string(tc.body) {
			t.Errorf("%s: server saw %+v", tc.method, s)
		}
	}
}

func TestTransportKeepsTheCallersRedirectPolicy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	stop := errors.New("no redirects here")
	var asked int
	tr := rcbuhttp.Transport(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { asked++; return stop }})
	u, _ := url.Parse(srv.URL + "/start")
	_, err := tr.RoundTrip(context.Background(), &rcbu.Request{Method: "GET", URL: u, Header: textproto.MIMEHeader{}})
	if !errors.Is(err, stop) || asked != 1 {
		t.Errorf("err %v after %d checks, want the caller's policy once", err, asked)
	}
}
