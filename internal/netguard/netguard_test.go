package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/internal/netguard"
)

func TestCheck(t *testing.T) {
	strict, open := netguard.Policy{}, netguard.Policy{AllowPrivate: true}
	tests := []struct {
		addr             string
		strictOK, openOK bool
	}{
		{"169.254.169.254", false, false}, // AWS, GCP, Azure metadata
		{"169.254.10.1", false, false},
		{"fe80::1", false, false},
		{"::ffff:169.254.169.254", false, false}, // IPv4-mapped
		{"fd00:ec2::254", false, false},          // AWS IPv6 metadata
		{"100.100.100.200", false, false},        // Alibaba metadata
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"255.255.255.255", false, false},
		{"224.0.0.1", false, false},
		{"127.0.0.1", false, true},
		{"127.8.9.10", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"192.168.1.1", false, true},
		{"100.64.0.1", false, true},
		{"fd12:3456::1", false, true},
		{"93.184.215.14", true, true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			if err := strict.Check(ip); (err == nil) != tt.strictOK || (err != nil && !errors.Is(err, netguard.ErrRefused)) {
				t.Errorf("strict: %v, want allowed=%v", err, tt.strictOK)
			}
			if err := open.Check(ip); (err == nil) != tt.openOK {
				t.Errorf("allow private: %v, want allowed=%v", err, tt.openOK)
			}
		})
	}
}

func TestDialIsCheckedAtConnectTime(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx := context.Background()

	// "localhost" passes any check on the name; the resolved loopback
	// address is what the dialer refuses, as it would after a DNS rebind.
	for _, target := range []string{ln.Addr().String(), net.JoinHostPort("localhost", port)} {
		_, err := netguard.Policy{}.DialContext(ctx, "tcp", target)
		if !netguard.IsRefused(err) {
			t.Errorf("strict dial %s: %v, want refused", target, err)
		}
		c, err := netguard.Policy{AllowPrivate: true}.DialContext(ctx, "tcp", target)
		if err != nil {
			t.Errorf("allow-private dial %s: %v", target, err)
		} else {
			c.Close()
		}
	}
	// The metadata address is refused before any packet is sent, whatever
	// the policy.
	start := time.Now()
	_, err = netguard.Policy{AllowPrivate: true}.DialContext(ctx, "tcp", "169.254.169.254:80")
	if !netguard.IsRefused(err) {
		t.Errorf("metadata dial: %v, want refused", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("metadata refusal took %v: it was dialled", time.Since(start))
	}
}

func TestHTTPClient(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	_, err := netguard.Policy{}.HTTPClient(5 * time.Second).Get(srv.URL)
	if !netguard.IsRefused(err) {
		t.Errorf("strict client to loopback: %v, want refused", err)
	}
	if hits != 0 {
		t.Errorf("the refused request reached the server %d times", hits)
	}
	c := netguard.Policy{AllowPrivate: true}.HTTPClient(5 * time.Second)
	resp, err := c.Get(srv.URL)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("allowed client: %v", err)
	}
	resp.Body.Close()
	// A redirect is answered, not followed.
	resp, err = c.Get(srv.URL + "/redirect")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("redirect: %v %v", resp, err)
	}
	resp.Body.Close()
}
