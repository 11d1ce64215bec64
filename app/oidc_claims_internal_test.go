package app

import "testing"

// email_verified arrives as a boolean, or from some providers as a string;
// anything else present counts as not verified, and absent says nothing.
func TestEmailVerifiedClaim(t *testing.T) {
	t.Parallel()
	tests := []struct {
		claims           map[string]any
		verified, stated bool
	}{
		{map[string]any{"email_verified": true}, true, true},
		{map[string]any{"email_verified": false}, false, true},
		{map[string]any{"email_verified": "true"}, true, true},
		{map[string]any{"email_verified": "False"}, false, true},
		{map[string]any{"email_verified": 1.0}, false, true},
		{map[string]any{"email_verified": nil}, false, false},
		{map[string]any{}, false, false},
	}
	for _, tc := range tests {
		if v, ok := emailVerified(tc.claims); v != tc.verified || ok != tc.stated {
			t.Errorf("emailVerified(%v) = %v, %v; want %v, %v", tc.claims, v, ok, tc.verified, tc.stated)
		}
	}
}
