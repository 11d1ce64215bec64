package rcbusim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	auth := func(inner obj) obj { return obj{"auth": inner} }
	apiKey := func(u, k string) obj {
		return obj{"RAX-KSKEY:apiKeyCredentials": obj{"username": u, "apiKey": k}}
	}
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantKey    string // top-level key of the body
		wantTenant string
		wantMethod string
	}{
		{"api key", auth(apiKey(DemoUser, DemoAPIKey)), 200, "access", DemoTenant, "APIKEY"},
		{"password", auth(obj{"passwordCredentials": obj{"username": ObserverUser, "password": ObserverPassword}}), 200, "access", DemoTenant, "PASSWORD"},
		{"other tenant user", auth(apiKey(OtherUser, OtherAPIKey)), 200, "access", OtherTenant, "APIKEY"},
		{"user name is case-insensitive", auth(apiKey("DEMO", DemoAPIKey)), 200, "access", DemoTenant, "APIKEY"},
		{"matching tenantId", auth(obj{"RAX-KSKEY:apiKeyCredentials": obj{"username": DemoUser, "apiKey": DemoAPIKey}, "tenantId": DemoTenant}), 200, "access", DemoTenant, "APIKEY"},
		{"wrong api key is 401", auth(apiKey(DemoUser, "nope")), 401, "unauthorized", "", ""},
		{"unknown user is 401", auth(apiKey("mallory", DemoAPIKey)), 401, "unauthorized", "", ""},
		{"wrong password is 401", auth(obj{"passwordCredentials": obj{"username": DemoUser, "password": "x"}}), 401, "unauthorized", "", ""},
		{"foreign tenantId is 401", auth(obj{"RAX-KSKEY:apiKeyCredentials": obj{"username": DemoUser, "apiKey": DemoAPIKey}, "tenantId": OtherTenant}), 401, "unauthorized", "", ""},
		{"tenantId and tenantName is 400", auth(obj{"RAX-KSKEY:apiKeyCredentials": obj{"username": DemoUser, "apiKey": DemoAPIKey}, "tenantId": DemoTenant, "tenantName": DemoTenant}), 400, "badRequest", "", ""},
		{"malformed JSON is 400", `{"auth": {`, 400, "badRequest", "", ""},
		{"no auth object is 400", obj{"other": 1}, 400, "badRequest", "", ""},
		{"no credentials is 400", auth(obj{}), 400, "badRequest", "", ""},
		{"credentials of the wrong type are 400", auth(obj{"RAX-KSKEY:apiKeyCredentials": obj{"username": 7, "apiKey": true}}), 400, "badRequest", "", ""},
		{"unknown token in re-scope is 401", auth(obj{"tenantId": DemoTenant, "token": obj{"id": "deadbeef"}}), 401, "unauthorized", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, raw := send(t, http.MethodPost, ts.IdentityURL, "", tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, raw)
			}
			var body map[string]obj
			mustUnmarshal(t, raw, &body)
			inner, ok := body[tt.wantKey]
			if !ok {
				t.Fatalf("body %s has no %q", raw, tt.wantKey)
			}
			if status != 200 {
				if num(inner["code"]) != int64(status) || inner["message"] == "" {
					t.Fatalf("error body %s: want code %d and a message", raw, status)
				}
				return
			}
			tok := inner["token"].(obj)
			if got := tok["tenant"].(obj)["id"]; got != tt.wantTenant {
				t.Errorf("tenant %v, want %s", got, tt.wantTenant)
			}
			if got := tok["RAX-AUTH:authenticatedBy"].([]any)[0]; got != tt.wantMethod {
				t.Errorf("authenticatedBy %v, want %s", got, tt.wantMethod)
			}
			if id, _ := tok["id"].(string); len(id) != 32 {
				t.Errorf("token id %q, want 32 hex chars", id)
			}
		})
	}
}

func TestAuthenticateCatalog(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	status, raw := send(t, http.MethodPost, ts.IdentityURL, "", obj{"auth": obj{"RAX-KSKEY:apiKeyCredentials": obj{"username": DemoUser, "apiKey": DemoAPIKey}}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	var resp struct {
		Access struct {
			Token struct {
				Expires string `json:"expires"`
			} `json:"token"`
			ServiceCatalog []struct {
				Name, Type string
				Endpoints  []map[string]string
			} `json:"serviceCatalog"`
			User struct {
				Name  string `json:"name"`
				Roles []map[string]string
			} `json:"user"`
		} `json:"access"`
	}
	mustUnmarshal(t, raw, &resp)
	exp, err := time.Parse(time.RFC3339, resp.Access.Token.Expires)
	if err != nil {
		t.Fatal(err)
	}
	if want := ts.Clock.Now().Add(24 * time.Hour); !exp.Equal(want) {
		t.Errorf("expires %v, want %v (default TTL 24h)", exp, want)
	}
	var backup, files bool
	for _, svc := range resp.Access.ServiceCatalog {
		switch {
		case svc.Name == "cloudBackup" && svc.Type == "rax:backup":
			backup = true
			regions := map[string]string{}
			for _, ep := range svc.Endpoints {
				regions[ep["region"]] = ep["publicURL"]
			}
			for _, r := range Regions() {
				want := ts.URL + "/" + strings.ToLower(r) + "/v1.0/" + DemoTenant
				if regions[r] != want {
					t.Errorf("region %s publicURL %q, want %q", r, regions[r], want)
				}
			}
			if regions[""] != ts.URL+"/v1.0/"+DemoTenant {
				t.Errorf("region-less publicURL %q", regions[""])
			}
		case svc.Name == "cloudFiles" && svc.Type == "object-store":
			files = true
		}
	}
	if !backup || !files {
		t.Errorf("catalog lacks cloudBackup (%v) or cloudFiles (%v): %s", backup, files, raw)
	}
	if resp.Access.User.Name != DemoUser || len(resp.Access.User.Roles) == 0 {
		t.Errorf("user %+v", resp.Access.User)
	}
}

func TestTokenRescopeAndExpiry(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithTokenTTL(time.Hour))
	c := demo(t, ts)
	c.call(http.MethodGet, "/user/agents", nil, 200, nil)

	// The token re-scope form gives a new token for the same user.
	status, raw := send(t, http.MethodPost, ts.IdentityURL, "", obj{"auth": obj{"tenantId": DemoTenant, "token": obj{"id": c.token}}})
	if status != 200 {
		t.Fatalf("re-scope: %d %s", status, raw)
	}
	// Re-scope to a foreign tenant fails.
	status, _ = send(t, http.MethodPost, ts.IdentityURL, "", obj{"auth": obj{"tenantId": OtherTenant, "token": obj{"id": c.token}}})
	if status != 401 {
		t.Fatalf("re-scope to another tenant: %d, want 401", status)
	}

	ts.Advance(59 * time.Minute)
	c.call(http.MethodGet, "/user/agents", nil, 200, nil)
	ts.Advance(time.Minute)
	status, raw = c.do(http.MethodGet, "/user/agents", nil)
	expectError(t, status, raw, 401, "expired")

	// ExpireTokens expires every token at once.
	c2 := demo(t, ts)
	c2.call(http.MethodGet, "/user/agents", nil, 200, nil)
	ts.ExpireTokens()
	status, raw = c2.do(http.MethodGet, "/backup-configuration", nil)
	expectError(t, status, raw, 401, "expired")
	demo(t, ts).call(http.MethodGet, "/user/agents", nil, 200, nil)
}

func TestMissingToken(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for _, tok := range []string{"", "not-a-token"} {
		status, raw := send(t, http.MethodGet, ts.URL+"/v1.0/123456/user/agents", tok, nil)
		expectError(t, status, raw, 401, "X-Auth-Token")
	}
	status, raw := send(t, http.MethodGet, ts.IdentityURL, "", nil)
	expectError(t, status, raw, 405, "POST")
}
