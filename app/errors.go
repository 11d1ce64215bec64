// Package app holds the domain of the RCBU Console: typed ids, roles, users,
// sessions, Rackspace accounts and the audit log, and the services that carry
// their rules. It declares the narrow store interfaces it needs; package db
// implements them over SQLite.
package app

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Error kinds. Services wrap them with %w so that callers (the HTTP error
// handler above all) can map them to a status with errors.Is.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means the input was malformed; see ValidationError for details.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict means the request clashes with the current state.
	ErrConflict = errors.New("conflict")
	// ErrCorrupt means the database failed its integrity check.
	ErrCorrupt = errors.New("database damaged")
	// ErrUnavailable means the database did not answer (a PostgreSQL server
	// that is down or unreachable); trying again later may work.
	ErrUnavailable = errors.New("database unavailable")
	// ErrUnauthorized means the caller is not signed in (or failed to sign in).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means the caller is signed in but lacks the role.
	ErrForbidden = errors.New("forbidden")
)

// ConflictError says why a request clashes with the current state, in words
// for the person who made it. It wraps ErrConflict.
type ConflictError struct {
	// Reason is a lower-case clause without a final dot: "the backup has
	// already finished (Completed)".
	Reason string
}

// Conflict returns a ConflictError with the reason formatted as fmt.Sprintf does.
func Conflict(format string, args ...any) *ConflictError {
	return &ConflictError{Reason: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *ConflictError) Error() string { return e.Reason + ": " + ErrConflict.Error() }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Message is the reason as a sentence.
func (e *ConflictError) Message() string {
	if e.Reason == "" {
		return conflictFallback
	}
	return strings.ToUpper(e.Reason[:1]) + e.Reason[1:] + "."
}

// conflictFallback is what a conflict without a stated reason says.
const conflictFallback = "It clashes with the current state. Reload the page and try again."

// ValidationError reports which fields of a form are wrong and why. It wraps
// ErrInvalid. The keys of Fields are form field names; the key "" holds a
// message about the form as a whole.
type ValidationError struct {
	Fields map[string]string
}

// Error implements error with a stable, sorted summary of the fields.
func (e *ValidationError) Error() string {
	keys := slices.Sorted(maps.Keys(e.Fields))
	var b strings.Builder
	b.WriteString("invalid input")
	for i, k := range keys {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if k != "" {
			b.WriteString(k)
			b.WriteString(": ")
		}
		b.WriteString(e.Fields[k])
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Invalid returns a ValidationError with one field message.
func Invalid(field, msg string) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: msg}}
}

// validation collects field messages; err returns nil when there are none.
type validation map[string]string

func (v validation) add(field, msg string) {
	if _, ok := v[field]; !ok {
		v[field] = msg
	}
}

func (v validation) err() error {
	if len(v) == 0 {
		return nil
	}
	return &ValidationError{Fields: map[string]string(v)}
}
