package app_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestConflictErrorCarriesItsReason(t *testing.T) {
	err := fmt.Errorf("stop backup 7: %w", app.Conflict("the backup has already finished (%s)", "Completed"))
	if !errors.Is(err, app.ErrConflict) {
		t.Fatalf("errors.Is(%v, ErrConflict) = false", err)
	}
	var ce *app.ConflictError
	if !errors.As(err, &ce) || ce.Reason != "the backup has already finished (Completed)" {
		t.Fatalf("errors.As = %+v", ce)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a conflict with a reason says it as a sentence", err, "The backup has already finished (Completed)."},
		{"a conflict without one says what to do", fmt.Errorf("channel %q: %w", "ops", app.ErrConflict), "It clashes with the current state. Reload the page and try again."},
		{"an empty reason is not an empty message", &app.ConflictError{}, "It clashes with the current state. Reload the page and try again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := app.Problem(tt.err, ""); got != tt.want {
				t.Errorf("Problem = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProblemNeverShowsAnInternalError(t *testing.T) {
	secret := errors.New("db: open /var/lib/rcbu/x.db: permission denied")
	if got := app.Problem(fmt.Errorf("sync: %w", secret), ""); got == "" || got == secret.Error() || strings.Contains(got, "/var/lib") {
		t.Errorf("Problem = %q", got)
	}
}
