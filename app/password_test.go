package app_test

import (
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestPasswordHash(t *testing.T) {
	h, err := app.HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q does not carry its parameters", h)
	}
	h2, _ := app.HashPassword("correct horse battery", cheap)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt?")
	}
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"right password", h, "correct horse battery", true},
		{"wrong password", h, "correct horse batterY", false},
		{"empty password", h, "", false},
		{"malformed hash", "$argon2id$v=19$garbage", "x", false},
		{"other algorithm", strings.Replace(h, "argon2id", "argon2i", 1), "correct horse battery", false},
		{"absurd memory is refused", strings.Replace(h, "m=64", "m=99999999", 1), "correct horse battery", false},
		{"empty hash", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := app.CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		r, min app.Role
		want   bool
	}{
		{app.RoleObserver, app.RoleObserver, true},
		{app.RoleObserver, app.RoleCreator, false},
		{app.RoleCreator, app.RoleObserver, true},
		{app.RoleCreator, app.RoleAdmin, false},
		{app.RoleAdmin, app.RoleCreator, true},
		{app.RoleNone, app.RoleNone, false},
	}
	for _, tt := range tests {
		if got := tt.r.Allows(tt.min); got != tt.want {
			t.Errorf("%v.Allows(%v) = %v, want %v", tt.r, tt.min, got, tt.want)
		}
	}
	for _, r := range app.Roles() {
		got, err := app.ParseRole(r.String())
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v", r.String(), got, err)
		}
	}
	if _, err := app.ParseRole("root"); err == nil {
		t.Error("ParseRole(root) succeeded")
	}
}

func TestSealer(t *testing.T) {
	s, err := app.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("api-key-123"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "api-key-123") {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := s.Open(sealed, []byte("aad"))
	if err != nil || string(got) != "api-key-123" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("other")); err == nil {
		t.Error("Open with other AAD succeeded")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed, []byte("aad")); err == nil {
		t.Error("Open of a tampered value succeeded")
	}
	other, _ := app.NewSealer([]byte(strings.Repeat("z", 32)))
	sealed2, _ := s.Seal([]byte("x"), nil)
	if _, err := other.Open(sealed2, nil); err == nil {
		t.Error("another secret opened the value")
	}
	if _, err := s.Open([]byte{1, 2}, nil); err == nil {
		t.Error("Open of a short value succeeded")
	}
}
