package app

import (
	"errors"
	"testing"
)

// TestOIDCOff: with no provider configured, single sign-on is a state of the
// service rather than a missing one; each way into a sign-on says it is not
// there (ErrNotFound) instead of reaching for a provider.
func TestOIDCOff(t *testing.T) {
	o := OIDCOff()
	if o.Enabled() || o.Name() != "" || o.PasswordOff() || len(o.BreakGlass()) != 0 {
		t.Errorf("off: enabled %v, name %q, password off %v, break-glass %v", o.Enabled(), o.Name(), o.PasswordOff(), o.BreakGlass())
	}
	if _, _, err := o.Start(t.Context(), "/"); !errors.Is(err, ErrNotFound) {
		t.Errorf("start: %v", err)
	}
	p := &OIDCPending{State: "s", Nonce: "n", Verifier: "v"}
	if _, err := o.Finish(t.Context(), p, OIDCCallback{State: "s", Code: "c"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("finish: %v", err)
	}
	if err := o.Discover(t.Context()); !errors.Is(err, ErrNotFound) {
		t.Errorf("discover: %v", err)
	}
}
