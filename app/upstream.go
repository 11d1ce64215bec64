package app

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// ErrAgentOffline means an action needs the agent awake and it is not. The
// service checks the agent's live status first instead of letting the API's
// transient 403 stand for it.
var ErrAgentOffline = errors.New("agent offline")

// ErrAgentDisabled means an action needs an enabled agent.
var ErrAgentDisabled = errors.New("agent disabled")

// UpstreamError is a Cloud Backup call that failed, with what it was about,
// so that pages can say in words what went wrong (Message) while the error
// chain keeps the cause for errors.Is.
type UpstreamError struct {
	Op   string // what the console was doing: "start backup 12"
	Noun string // the object, for "This configuration no longer exists"
	Err  error
}

// Error implements error.
func (e *UpstreamError) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *UpstreamError) Unwrap() error { return e.Err }

// Message explains the failure in words a person understands.
func (e *UpstreamError) Message() string { return Problem(e.Err, e.Noun) }

// upstream wraps err (when not nil) as an *UpstreamError.
func upstream(op, noun string, err error) error {
	if err == nil {
		return nil
	}
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return err
	}
	return &UpstreamError{Op: op, Noun: noun, Err: err}
}

// Problem says in words what an error means for the person who met it: the
// one place the console turns a failed Cloud Backup call, a conflict or a
// timeout into a sentence, so pages, flashes, the report sync's state and
// the error page all say the same. noun names the object acted on
// ("configuration", "agent", "backup") for the "no longer exists" case; ""
// reads "item". Texts from the API are included only where they help, and
// are escaped by the templates like any other untrusted text. The text of an
// internal error is never shown.
func Problem(err error, noun string) string {
	if err == nil {
		return ""
	}
	if noun == "" {
		noun = "item"
	}
	var rerr *rcbu.Error
	hasAPI := errors.As(err, &rerr)
	var nerr net.Error
	var cerr *ConflictError
	switch {
	case errors.As(err, &cerr):
		return cerr.Message()
	case errors.Is(err, ErrConflict):
		return conflictFallback
	case errors.Is(err, ErrAgentOffline):
		return "The agent is offline; wake it and try again."
	case errors.Is(err, ErrAgentDisabled):
		return "The agent is disabled; enable it and try again."
	case errors.Is(err, rcbu.ErrForbidden):
		return "Your Rackspace account role does not allow this."
	case errors.Is(err, rcbu.ErrNotFound), errors.Is(err, ErrNotFound):
		return "This " + noun + " no longer exists."
	case errors.Is(err, rcbu.ErrUnavailable), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &nerr), hasAPI && rerr.StatusCode >= 500:
		return "Cloud Backup is not answering right now; try again."
	case errors.Is(err, rcbu.ErrUnauthorized):
		return "Rackspace did not accept the account's credentials; an admin can update them in Admin → Accounts."
	case errors.Is(err, rcbu.ErrConflict):
		return withAPIMessage("Cloud Backup refused this because of the "+noun+"'s current state", rerr)
	case errors.Is(err, rcbu.ErrBadRequest):
		var verr *rcbu.ValidationError
		if errors.As(err, &verr) {
			return "Cloud Backup would reject this request: " + strings.TrimSuffix(verr.Error(), ".") + "."
		}
		return withAPIMessage("Cloud Backup rejected the request", rerr)
	case errors.Is(err, context.Canceled):
		return "The request was cancelled before Cloud Backup answered; try again."
	default:
		return "The Cloud Backup request failed; try again."
	}
}

// withAPIMessage appends the API's own message, when there is one.
func withAPIMessage(s string, rerr *rcbu.Error) string {
	if rerr == nil || strings.TrimSpace(rerr.Message) == "" {
		return s + "."
	}
	msg := strings.TrimSpace(rerr.Message)
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	return s + ": " + strings.TrimSuffix(msg, ".") + "."
}
