package app_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// catcher is an HTTP server that records what it is sent and answers 500
// with an internal-looking body.
func catcher(t *testing.T) (*httptest.Server, *atomic.Value) {
	var got atomic.Value
	got.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		http.Error(w, `{"internal":"db-password=hunter2 on 10.0.0.7"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestAccountEditNeedsTheSecretForANewDestination(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	a, err := e.accounts.Create(ctx, e.admin, e.request(rcbusim.DemoAPIKey))
	if err != nil {
		t.Fatal(err)
	}
	evil, got := catcher(t)
	for _, tc := range []struct {
		name string
		edit func(*app.AccountRequest)
	}{
		{"new identity URL", func(r *app.AccountRequest) { r.IdentityURL = evil.URL + "/v2.0/tokens" }},
		{"new username", func(r *app.AccountRequest) { r.Username = "someone-else" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := e.request("") // empty secret: "keep the stored one"
			tc.edit(&req)
			_, err := e.accounts.Update(ctx, e.admin, a.ID, req)
			var ve *app.ValidationError
			if !errors.As(err, &ve) || ve.Fields["secret"] == "" {
				t.Fatalf("err = %v, want a message on the secret", err)
			}
			if s := got.Load().(string); s != "" {
				t.Fatalf("the stored key was sent to the new destination: %q", s)
			}
		})
	}
	// Keeping the destination keeps the stored secret, as before.
	req := e.request("")
	req.Name = "Production (renamed)"
	if _, err := e.accounts.Update(ctx, e.admin, a.ID, req); err != nil {
		t.Fatalf("rename with the stored secret: %v", err)
	}
}

func TestAccountSignInProblemIsNotEchoed(t *testing.T) {
	e := newAccountsEnv(t)
	evil, _ := catcher(t)
	req := e.request("some-key")
	req.IdentityURL = evil.URL + "/v2.0/tokens"
	_, err := e.accounts.Create(context.Background(), e.admin, req)
	var ve *app.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	msg := ve.Fields[""]
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "10.0.0.7") || strings.Contains(msg, "internal") {
		t.Errorf("the upstream body reached the form: %q", msg)
	}
	if !strings.Contains(msg, "500") {
		t.Errorf("message %q does not give the status", msg)
	}
}

func TestAccountIdentityURLMustBeHTTPS(t *testing.T) {
	e := newAccountsEnv(t)
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://identity.example.com/v2.0/tokens", false},
		{"http://10.0.0.7/v2.0/tokens", false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"https://identity.example.com/v2.0/tokens", true},
		{"http://127.0.0.1:1/v2.0/tokens", true}, // the simulator and tests
		{"http://localhost:1/v2.0/tokens", true},
		{"http://[::1]:1/v2.0/tokens", true},
	} {
		req := e.request("some-key")
		req.IdentityURL = tc.url
		_, err := e.accounts.Create(context.Background(), e.admin, req)
		var ve *app.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: err = %v", tc.url, err)
		}
		if (ve.Fields["identity_url"] == "") != tc.ok {
			t.Errorf("%s: identity_url message %q, want accepted=%v", tc.url, ve.Fields["identity_url"], tc.ok)
		}
	}
}
