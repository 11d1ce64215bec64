package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

func newTokens(t *testing.T) (*env, *app.Tokens) {
	t.Helper()
	e := newEnv(t)
	return e, app.NewTokens(e.store, e.audit, e.clock.Now, discard())
}

func TestTokenCreateAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	e, tokens := newTokens(t)
	tok, secret, err := tokens.Create(ctx, e.admin, app.TokenRequest{Name: "  grafana  ", ExpiresInDays: "30"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, app.TokenPrefix) || len(secret) != len(app.TokenPrefix)+43 {
		t.Fatalf("secret %q has the wrong shape", secret)
	}
	if tok.Name != "grafana" || tok.Hint != secret[len(secret)-4:] || tok.Hash != app.HashToken(secret) {
		t.Fatalf("token = %+v", tok)
	}
	if strings.Contains(tok.Hash, secret) {
		t.Fatal("the hash contains the secret")
	}
	if want := e.clock.Now().Add(30 * 24 * time.Hour); !tok.Expires.Equal(want) {
		t.Fatalf("Expires = %v, want %v", tok.Expires, want)
	}
	a := e.lastAudit(t)
	if a.Action != app.ActionTokenCreate || a.Outcome != app.OutcomeOK || !strings.Contains(a.Target, "grafana") || strings.Contains(a.Target+a.Message, secret) {
		t.Fatalf("audit = %+v", a)
	}

	u, got, err := tokens.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != e.admin.ID || u.Role != app.RoleAdmin || got.ID != tok.ID {
		t.Fatalf("Authenticate = %+v, %+v", u, got)
	}
	list, err := tokens.List(ctx, e.admin)
	if err != nil || len(list) != 1 || !list[0].LastUsed.Equal(e.clock.Now()) {
		t.Fatalf("List = %+v, %v; want last used now", list, err)
	}
}

func TestTokenLastUsedIsWrittenAtMostOnceAMinute(t *testing.T) {
	ctx := context.Background()
	e, tokens := newTokens(t)
	_, secret, err := tokens.Create(ctx, e.admin, app.TokenRequest{Name: "ci", ExpiresInDays: "0"})
	if err != nil {
		t.Fatal(err)
	}
	first := e.clock.Now()
	lastUsed := func() time.Time {
		t.Helper()
		l, err := tokens.List(ctx, e.admin)
		if err != nil || len(l) != 1 {
			t.Fatalf("List = %v, %v", l, err)
		}
		return l[0].LastUsed
	}
	if _, _, err := tokens.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Second)
	if _, _, err := tokens.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("after 30 s LastUsed = %v, want %v", got, first)
	}
	e.clock.Advance(31 * time.Second)
	if _, _, err := tokens.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(e.clock.Now()) {
		t.Fatalf("after 61 s LastUsed = %v, want %v", got, e.clock.Now())
	}
}

func TestTokenCreateValidation(t *testing.T) {
	ctx := context.Background()
	e, tokens := newTokens(t)
	if _, _, err := tokens.Create(ctx, e.admin, app.TokenRequest{Name: "dup", ExpiresInDays: "7"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		req   app.TokenRequest
		field string
	}{
		{"empty name", app.TokenRequest{Name: "  ", ExpiresInDays: "7"}, "name"},
		{"long name", app.TokenRequest{Name: strings.Repeat("x", 101), ExpiresInDays: "7"}, "name"},
		{"duplicate name", app.TokenRequest{Name: "dup", ExpiresInDays: "7"}, "name"},
		{"expiry not offered", app.TokenRequest{Name: "a", ExpiresInDays: "3"}, "expires"},
		{"expiry not a number", app.TokenRequest{Name: "a", ExpiresInDays: "soon"}, "expires"},
		{"negative expiry", app.TokenRequest{Name: "a", ExpiresInDays: "-7"}, "expires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, secret, err := tokens.Create(ctx, e.admin, tt.req)
			var ve *app.ValidationError
			if !errors.As(err, &ve) || ve.Fields[tt.field] == "" || secret != "" {
				t.Fatalf("Create = %q, %v; want a message for %q", secret, err, tt.field)
			}
		})
	}
	list, err := tokens.List(ctx, e.admin)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v; want only the first token", list, err)
	}
}

func TestTokenLimitPerUser(t *testing.T) {
	ctx := context.Background()
	e, tokens := newTokens(t)
	for i := range app.MaxTokensPerUser {
		if _, _, err := tokens.Create(ctx, e.admin, app.TokenRequest{Name: "t" + strings.Repeat("x", i), ExpiresInDays: "7"}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := tokens.Create(ctx, e.admin, app.TokenRequest{Name: "one too many", ExpiresInDays: "7"})
	if !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("Create past the limit = %v, want ErrInvalid", err)
	}
}

func TestTokenAuthenticateRefuses(t *testing.T) {
	ctx := context.Background()
	e, tokens := newTokens(t)
	obs, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "obs@example.com", Role: "observer", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(u app.User, name, days string) string {
		t.Helper()
		_, s, err := tokens.Create(ctx, u, app.TokenRequest{Name: name, ExpiresInDays: days})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	week := mk(e.admin, "week", "7")
	revoked := mk(e.admin, "revoked", "0")
	ofObserver := mk(obs, "obs", "0")
	list, _ := tokens.List(ctx, e.admin)
	for _, tk := range list {
		if tk.Name == "revoked" {
			if err := tokens.Revoke(ctx, e.admin, tk.ID); err != nil {
				t.Fatal(err)
			}
			if a := e.lastAudit(t); a.Action != app.ActionTokenRevoke || a.Outcome != app.OutcomeOK {
				t.Fatalf("audit = %+v", a)
			}
		}
	}
	if err := e.users.SetDisabled(ctx, e.admin, obs.ID, true); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(7 * 24 * time.Hour)

	tests := []struct{ name, secret string }{
		{"empty", ""},
		{"no prefix", strings.TrimPrefix(week, app.TokenPrefix)},
		{"wrong length", week + "x"},
		{"bad characters", week[:len(week)-1] + "!"},
		{"unknown", app.TokenPrefix + strings.Repeat("A", 43)},
		{"expired", week},
		{"revoked", revoked},
		{"user disabled", ofObserver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := tokens.Authenticate(ctx, tt.secret); !errors.Is(err, app.ErrUnauthorized) {
				t.Fatalf("Authenticate = %v, want ErrUnauthorized", err)
			}
		})
	}
	// Disabling revoked the token: enabling the user again does not bring
	// it back.
	if err := e.users.SetDisabled(ctx, e.admin, obs.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokens.Authenticate(ctx, ofObserver); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("after enable: %v, want ErrUnauthorized", err)
	}
}

// A token acts with its user's access as it is at each request, and a
// change of that access ends the token: a script holding it stops at once.
func TestTokenEndsWhenItsUsersRoleChanges(t *testing.T) {
	ctx := context.Background()
	e, tokens := newTokens(t)
	u, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "c@example.com", Role: "creator", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := tokens.Create(ctx, u, app.TokenRequest{Name: "script", ExpiresInDays: "90"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := tokens.Authenticate(ctx, secret); err != nil || got.Role != app.RoleCreator {
		t.Fatalf("before: %v, %v", got.Role, err)
	}
	if err := e.users.SetRole(ctx, e.admin, u.ID, "observer"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokens.Authenticate(ctx, secret); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("after demotion: %v; want ErrUnauthorized", err)
	}
}

func TestTokenRevokeOnlyOwn(t *testing.T) {
	ctx := context.Background()
	e, tokens := newTokens(t)
	other, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "o@example.com", Role: "observer", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := tokens.Create(ctx, e.admin, app.TokenRequest{Name: "mine", ExpiresInDays: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tokens.Revoke(ctx, other, tok.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("Revoke by another user = %v, want ErrNotFound", err)
	}
	if _, _, err := tokens.Authenticate(ctx, secret); err != nil {
		t.Fatalf("token was revoked by another user: %v", err)
	}
	if err := tokens.Revoke(ctx, e.admin, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := tokens.Revoke(ctx, e.admin, tok.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("second Revoke = %v, want ErrNotFound", err)
	}
}
