package main

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestLoadConfigSSO(t *testing.T) {
	const secret = "s3cret-client-value"
	cfg, err := loadConfig([]string{"-oidc-name", "Keycloak"}, env(map[string]string{
		"RCBU_WEB_PUBLIC_URL":         "https://backup.example.com/",
		"RCBU_WEB_OIDC_ISSUER":        "https://sso.example.com/realms/ops/",
		"RCBU_WEB_OIDC_CLIENT_ID":     "rcbu-console",
		"RCBU_WEB_OIDC_CLIENT_SECRET": secret,
		"RCBU_WEB_OIDC_ROLES":         "ops-admins=admin; viewers = Observer ;",
		"RCBU_WEB_OIDC_SCOPES":        "openid email groups",
		"RCBU_WEB_OIDC_CREATE_USERS":  "true",
		"RCBU_WEB_PASSWORD_LOGIN":     "off",
		"RCBU_WEB_BREAK_GLASS":        "Root@Example.com, ops@example.com",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := &OIDCConfig{
		Issuer: "https://sso.example.com/realms/ops", ClientID: "rcbu-console", ClientSecret: secret,
		RedirectURL: "https://backup.example.com/login/oidc/callback", Name: "Keycloak", Claim: "groups", Scopes: []string{"email", "groups"},
		Roles:       []app.RoleRule{{Value: "ops-admins", Role: app.RoleAdmin}, {Value: "viewers", Role: app.RoleObserver}},
		CreateUsers: true,
	}
	if diff := cmp.Diff(want, cfg.OIDC); diff != "" {
		t.Errorf("OIDC (-want +got):\n%s", diff)
	}
	if !cfg.PasswordLoginOff || !cmp.Equal(cfg.BreakGlass, []string{"root@example.com", "ops@example.com"}) {
		t.Errorf("password off %v, break-glass %v", cfg.PasswordLoginOff, cfg.BreakGlass)
	}
	for _, dump := range []string{fmt.Sprint(*cfg.OIDC), fmt.Sprintf("%+v", *cfg.OIDC), fmt.Sprintf("%#v", *cfg.OIDC), fmt.Sprintf("%+v", cfg)} {
		if strings.Contains(dump, secret) {
			t.Errorf("a dump shows the client secret: %s", dump)
		}
	}
	if !strings.Contains(fmt.Sprint(*cfg.OIDC), "ClientSecret:[redacted]") {
		t.Errorf("dump %s", *cfg.OIDC)
	}
}

func TestLoadConfigSSOErrorsNameTheVariable(t *testing.T) {
	ok := map[string]string{"RCBU_WEB_OIDC_ISSUER": "https://sso.example.com", "RCBU_WEB_OIDC_CLIENT_ID": "c",
		"RCBU_WEB_OIDC_REDIRECT_URL": "https://backup.example.com/login/oidc/callback", "RCBU_WEB_OIDC_ROLES": "ops=creator"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
		says string
	}{
		{"issuer not https", with("RCBU_WEB_OIDC_ISSUER", "http://sso.example.com"), "RCBU_WEB_OIDC_ISSUER", "plain http only to a loopback address"},
		{"issuer not a URL", with("RCBU_WEB_OIDC_ISSUER", "sso"), "RCBU_WEB_OIDC_ISSUER", "https URL"},
		{"no client id", with("RCBU_WEB_OIDC_CLIENT_ID", ""), "RCBU_WEB_OIDC_CLIENT_ID", "client id"},
		{"no redirect and no public URL", with("RCBU_WEB_OIDC_REDIRECT_URL", ""), "RCBU_WEB_OIDC_REDIRECT_URL", "RCBU_WEB_PUBLIC_URL"},
		{"redirect to another path", with("RCBU_WEB_OIDC_REDIRECT_URL", "https://backup.example.com/callback"), "RCBU_WEB_OIDC_REDIRECT_URL", "/login/oidc/callback"},
		{"no roles", with("RCBU_WEB_OIDC_ROLES", " ; "), "RCBU_WEB_OIDC_ROLES", "at least one"},
		{"a bad role", with("RCBU_WEB_OIDC_ROLES", "ops=creator; viewers=boss"), "RCBU_WEB_OIDC_ROLES", `entry 2 "viewers=boss": role "boss"`},
		{"an entry without =", with("RCBU_WEB_OIDC_ROLES", "ops"), "RCBU_WEB_OIDC_ROLES", `entry 1 "ops"`},
		{"bad create flag", with("RCBU_WEB_OIDC_CREATE_USERS", "sometimes"), "RCBU_WEB_OIDC_CREATE_USERS", "true or false"},
		{"bad password login", with("RCBU_WEB_PASSWORD_LOGIN", "maybe"), "RCBU_WEB_PASSWORD_LOGIN", "on or off"},
		{"bad break-glass email", with("RCBU_WEB_BREAK_GLASS", "root"), "RCBU_WEB_BREAK_GLASS", "email"},
		{"password off without a provider", map[string]string{"RCBU_WEB_PASSWORD_LOGIN": "off"}, "RCBU_WEB_PASSWORD_LOGIN", "RCBU_WEB_OIDC_ISSUER"},
		{"client id without an issuer", map[string]string{"RCBU_WEB_OIDC_CLIENT_ID": "c"}, "RCBU_WEB_OIDC_CLIENT_ID", "RCBU_WEB_OIDC_ISSUER"},
		{"secret without an issuer", map[string]string{"RCBU_WEB_OIDC_CLIENT_SECRET": "hidden-value"}, "RCBU_WEB_OIDC_CLIENT_SECRET", "RCBU_WEB_OIDC_ISSUER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(nil, env(tt.env), io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want+": ") || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q, want %s saying %q", err, tt.want, tt.says)
			}
			if strings.Contains(err.Error(), "hidden-value") {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
	cfg, err := loadConfig(nil, env(with("RCBU_WEB_OIDC_ISSUER", "http://127.0.0.1:5556/dex")), io.Discard)
	if err != nil || cfg.OIDC == nil {
		t.Errorf("a loopback http issuer: %v", err)
	}
}
