package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "127.0.0.1:8080", DBPath: "data/rcbu-web.db", AdminEmail: "admin@example.com", DemoSpeed: 1,
		SyncInterval:    5 * time.Minute,
		AuditKeepDays:   400,
		LinkTTL:         72 * time.Hour,
		LeaseTTL:        time.Minute,
		BreakGlass:      []string{"admin@example.com"},
		RCBUIdentityURL: "https://identity.api.rackspacecloud.com/v2.0/tokens"}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLoadConfigFlagsOverrideEnv(t *testing.T) {
	cfg, err := loadConfig([]string{"-addr", "127.0.0.1:9999", "-demo-speed", "50", "-demo-region-ports", "true"}, env(map[string]string{
		"RCBU_WEB_ADDR": "127.0.0.1:1234", "RCBU_DEMO_SPEED": "2", "RCBU_WEB_SECURE_COOKIES": "true",
		"RCBU_USERNAME": "alice", "RCBU_API_KEY": "k", "RCBU_REGION": "lon",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.DemoSpeed != 50 || !cfg.DemoRegionPorts || !cfg.SecureCookies || cfg.RCBUUsername != "alice" || cfg.RCBURegion != "LON" {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestLoadConfigLeaseTTL(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want time.Duration
	}{
		{"the shortest", nil, map[string]string{"RCBU_WEB_LEASE_TTL": "5s"}, 5 * time.Second},
		{"the longest", nil, map[string]string{"RCBU_WEB_LEASE_TTL": " 10m "}, 10 * time.Minute},
		{"the flag over the environment", []string{"-lease-ttl", "15s"}, map[string]string{"RCBU_WEB_LEASE_TTL": "2m"}, 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LeaseTTL != tt.want {
				t.Errorf("LeaseTTL = %v; want %v", cfg.LeaseTTL, tt.want)
			}
		})
	}
}

func TestLoadConfigTrustedProxies(t *testing.T) {
	cfg, err := loadConfig(nil, env(map[string]string{"RCBU_WEB_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range cfg.TrustedProxies {
		got = append(got, n.String())
	}
	if diff := cmp.Diff([]string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::1/128"}, got); diff != "" {
		t.Errorf("TrustedProxies (-want +got):\n%s", diff)
	}
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"bad address", map[string]string{"RCBU_WEB_ADDR": "localhost"}, []string{"RCBU_WEB_ADDR"}},
		{"short secret", map[string]string{"RCBU_WEB_SECRET": "short"}, []string{"RCBU_WEB_SECRET"}},
		{"short admin password", map[string]string{"RCBU_WEB_ADMIN_PASSWORD": "short"}, []string{"RCBU_WEB_ADMIN_PASSWORD"}},
		{"bad bool", map[string]string{"RCBU_WEB_SECURE_COOKIES": "yes please"}, []string{"RCBU_WEB_SECURE_COOKIES"}},
		{"bad speed", map[string]string{"RCBU_DEMO_SPEED": "fast"}, []string{"RCBU_DEMO_SPEED"}},
		{"bad region ports", map[string]string{"RCBU_DEMO_REGION_PORTS": "per region"}, []string{"RCBU_DEMO_REGION_PORTS"}},
		{"bad sync interval", map[string]string{"RCBU_WEB_SYNC_INTERVAL": "often"}, []string{"RCBU_WEB_SYNC_INTERVAL"}},
		{"too short a sync interval", map[string]string{"RCBU_WEB_SYNC_INTERVAL": "1s"}, []string{"RCBU_WEB_SYNC_INTERVAL"}},
		{"negative keep days", map[string]string{"RCBU_WEB_HISTORY_KEEP_DAYS": "-1"}, []string{"RCBU_WEB_HISTORY_KEEP_DAYS"}},
		{"zero audit keep days", map[string]string{"RCBU_WEB_AUDIT_KEEP_DAYS": "0"}, []string{"RCBU_WEB_AUDIT_KEEP_DAYS"}},
		{"a public URL that is not http(s)", map[string]string{"RCBU_WEB_PUBLIC_URL": "ftp://backup.example.com"}, []string{"RCBU_WEB_PUBLIC_URL"}},
		{"a public URL with a query", map[string]string{"RCBU_WEB_PUBLIC_URL": "https://backup.example.com/?x=1"}, []string{"RCBU_WEB_PUBLIC_URL"}},
		{"a link lifetime out of range", map[string]string{"RCBU_WEB_LINK_TTL": "1m"}, []string{"RCBU_WEB_LINK_TTL"}},
		{"a lease lifetime that is not a duration", map[string]string{"RCBU_WEB_LEASE_TTL": "a minute"}, []string{"RCBU_WEB_LEASE_TTL"}},
		{"too short a lease lifetime", map[string]string{"RCBU_WEB_LEASE_TTL": "4s"}, []string{"RCBU_WEB_LEASE_TTL"}},
		{"too long a lease lifetime", map[string]string{"RCBU_WEB_LEASE_TTL": "11m"}, []string{"RCBU_WEB_LEASE_TTL"}},
		{"username without key", map[string]string{"RCBU_USERNAME": "alice"}, []string{"RCBU_API_KEY"}},
		{"key without username", map[string]string{"RCBU_API_KEY": "k"}, []string{"RCBU_USERNAME"}},
		{"key and password", map[string]string{"RCBU_USERNAME": "a", "RCBU_API_KEY": "k", "RCBU_PASSWORD": "p"}, []string{"RCBU_PASSWORD"}},
		{"bad region", map[string]string{"RCBU_REGION": "MOON"}, []string{"RCBU_REGION"}},
		{"bad identity URL", map[string]string{"RCBU_IDENTITY_URL": "identity"}, []string{"RCBU_IDENTITY_URL"}},
		{"bad log level", map[string]string{"RCBU_WEB_LOG_LEVEL": "loud"}, []string{"RCBU_WEB_LOG_LEVEL"}},
		{"bad proxy range", map[string]string{"RCBU_WEB_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, []string{"RCBU_WEB_TRUSTED_PROXIES"}},
		{"short metrics token", map[string]string{"RCBU_WEB_METRICS_TOKEN": "short"}, []string{"RCBU_WEB_METRICS_TOKEN"}},
		{"bad metrics allow list", map[string]string{"RCBU_WEB_METRICS_ALLOW": "127.0.0.1, prometheus.local"}, []string{"RCBU_WEB_METRICS_ALLOW"}},
		{"PostgreSQL without a shared secret", map[string]string{"RCBU_WEB_DB": "postgres://app:pw-secret@db.example.com/rcbu"}, []string{"RCBU_WEB_SECRET"}},
		{"a PostgreSQL URL without a host", map[string]string{"RCBU_WEB_DB": "postgres:///rcbu", "RCBU_WEB_SECRET": strings.Repeat("s", 40)}, []string{"RCBU_WEB_DB"}},
		{"several at once", map[string]string{"RCBU_WEB_ADDR": ":", "RCBU_DEMO_SPEED": "0"}, []string{"RCBU_WEB_ADDR", "RCBU_DEMO_SPEED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(nil, env(tt.env), io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w+":") {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "pw-secret") {
				t.Errorf("error %q repeats the database password", err)
			}
			for _, v := range tt.env {
				if len(v) > 3 && strings.Contains(err.Error(), v) && (strings.Contains(v, "short") || v == "k" || v == "p") {
					t.Errorf("error %q repeats a secret", err)
				}
			}
		})
	}
}

func TestLoadConfigFlags(t *testing.T) {
	if _, err := loadConfig([]string{"-help"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: %v", err)
	}
	if _, err := loadConfig([]string{"-nope"}, env(nil), io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := loadConfig([]string{"extra"}, env(nil), io.Discard); err == nil {
		t.Error("stray argument accepted")
	}
	cfg, err := loadConfig([]string{"-version"}, env(map[string]string{"RCBU_WEB_ADDR": "bad"}), io.Discard)
	if err != nil || !cfg.ShowVersion {
		t.Errorf("-version with a bad env: %+v, %v", cfg, err)
	}
}
