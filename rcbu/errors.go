package rcbu

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors matched with errors.Is against an *Error (by HTTP status)
// or a *ValidationError (ErrBadRequest).
var (
	ErrBadRequest   = errors.New("rcbu: bad request")         // 400, or a request rejected by Validate
	ErrUnauthorized = errors.New("rcbu: unauthorized")        // 401: bad credentials or a token that stayed invalid
	ErrForbidden    = errors.New("rcbu: forbidden")           // 403: role, tenant or agent state
	ErrNotFound     = errors.New("rcbu: not found")           // 404
	ErrConflict     = errors.New("rcbu: conflict")            // 409
	ErrUnavailable  = errors.New("rcbu: service unavailable") // 429, 502, 503, 504
)

// ErrNotDone is what a Backup or Restore handle's Report returns while the
// job is still running: there is no report yet, and asking again later is
// the remedy. It is not an API error (no call answered it).
var ErrNotDone = errors.New("rcbu: job not done yet")

// Error is a non-2xx answer from Cloud Backup or Identity.
type Error struct {
	Op         string // client operation, e.g. "get agent 42"
	Method     string // HTTP method
	Path       string // request path, never carrying a token
	Region     string // endpoint region ("" for single-endpoint clients)
	StatusCode int    // HTTP status
	Message    string // the service's message, or the start of the body
	RequestID  string // X-Request-Id / X-Compute-Request-Id when present
}

// Error formats the operation, status and message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("rcbu: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, statusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is matches the sentinel for the status code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == statusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == statusUnauthorized
	case ErrForbidden:
		return e.StatusCode == statusForbidden
	case ErrNotFound:
		return e.StatusCode == statusNotFound
	case ErrConflict:
		return e.StatusCode == statusConflict
	case ErrUnavailable:
		return retryable(e.StatusCode)
	}
	return false
}

// errorMessage extracts a human message from an error body: the simulator's
// {"Message": ...}, Identity's {"unauthorized": {"message": ...}} wrapper,
// or else the (trimmed, shortened) text.
func errorMessage(body []byte) string {
	const maxLen = 300
	var flat map[string]json.RawMessage
	if json.Unmarshal(body, &flat) == nil {
		if s, ok := messageOf(flat); ok {
			return clip(s, maxLen)
		}
		for _, v := range flat {
			var inner map[string]json.RawMessage
			if json.Unmarshal(v, &inner) != nil {
				continue
			}
			if s, ok := messageOf(inner); ok {
				return clip(s, maxLen)
			}
		}
	}
	var s string
	if json.Unmarshal(body, &s) == nil {
		return clip(s, maxLen)
	}
	return clip(strings.TrimSpace(string(body)), maxLen)
}

// messageOf returns the string under m's "message" key, in any case.
func messageOf(m map[string]json.RawMessage) (string, bool) {
	for k, v := range m {
		var s string
		if strings.EqualFold(k, "message") && json.Unmarshal(v, &s) == nil {
			return s, true
		}
	}
	return "", false
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// ValidationError lists the problems found in a request before sending it.
// Fields maps the API field name (e.g. "BackupConfigurationName") to a
// message. It matches ErrBadRequest with errors.Is.
type ValidationError struct {
	Op     string            // what was being validated, e.g. "invalid restore"
	Fields map[string]string // API field name → problem
}

// Error lists every field problem in a stable order.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	op := e.Op
	if op == "" {
		op = "invalid request"
	}
	return "rcbu: " + op + ": " + strings.Join(parts, "; ")
}

// Is matches ErrBadRequest.
func (e *ValidationError) Is(target error) bool { return target == ErrBadRequest }

// add records the first message for a field.
func (e *ValidationError) add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// orNil returns e when it holds problems, else nil.
func (e *ValidationError) orNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}
