package handlers

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
)

// TestClientAddress checks which address the audit log and the login
// throttle see: the TCP peer, unless the peer is a trusted proxy.
func TestClientAddress(t *testing.T) {
	te, deps := buildTestEnv(t, envOptions{})
	_, proxyNet, _ := net.ParseCIDR("192.0.2.0/24") // httptest's RemoteAddr is 192.0.2.1
	deps.TrustedProxies = []*net.IPNet{proxyNet}
	behindProxy, _, err := newServer(deps)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		serve   http.Handler
		xff     string
		wantIP  string
		wantNot string
	}{
		{"no proxy configured: the header is ignored", te.e, "203.0.113.50", "192.0.2.1", "203.0.113.50"},
		{"trusted proxy: the forwarded client", behindProxy, "203.0.113.50", "203.0.113.50", ""},
		{"trusted proxy: a spoofed hop before the client is skipped", behindProxy, "198.51.100.1, 203.0.113.77", "203.0.113.77", "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"email": {"nobody@example.com"}, "password": {"wrong password"}}
			r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Forwarded-For", tt.xff)
			tt.serve.ServeHTTP(httptest.NewRecorder(), r)
			page, err := te.audit.List(t.Context(), te.byRole[app.RoleAdmin], app.AuditFilter{Limit: 1})
			if err != nil || len(page.Entries) != 1 {
				t.Fatalf("audit: %v %v", page, err)
			}
			if got := page.Entries[0].IP; got != tt.wantIP {
				t.Errorf("audit IP %q, want %q", got, tt.wantIP)
			}
		})
	}
}
