package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// AuditAction names what was done. The values are stable: they are stored.
type AuditAction string

// Actions recorded by the foundation. Other features add their own
// (backup.start, configuration.update, ...) with the same dotted shape.
const (
	ActionLogin             AuditAction = "auth.login"
	ActionLogout            AuditAction = "auth.logout"
	ActionSignOutEverywhere AuditAction = "auth.sign_out_everywhere"
	ActionPasswordChange    AuditAction = "user.password_change"
	ActionProfileUpdate     AuditAction = "user.profile_update"
	ActionUserCreate        AuditAction = "user.create"
	ActionUserRole          AuditAction = "user.role"
	ActionUserDisable       AuditAction = "user.disable"
	ActionUserEnable        AuditAction = "user.enable"
	ActionUserResetPassword AuditAction = "user.reset_password"
	ActionAccountCreate     AuditAction = "account.create"
	ActionAccountUpdate     AuditAction = "account.update"
	ActionAccountDelete     AuditAction = "account.delete"
)

// Outcome says whether an audited action succeeded.
type Outcome string

// The outcomes.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeFailed Outcome = "failed"
)

// AuditEntry is one row of the audit log: who did what to which target, when,
// and how it went.
type AuditEntry struct {
	ID      AuditID
	Time    time.Time // set by Record
	ActorID UserID    // 0 for the system or an unknown user
	Actor   string    // the actor's email (or the email tried at a failed login, or "system")
	Action  AuditAction
	Target  string // what was acted on, in words: "agent 401122 (web-01)", "alice@example.com"
	Outcome Outcome
	Message string // the reason of a failure, or a short detail
	IP      string // the client address; Record fills it from the request context when empty
	// Count is how many occurrences the row stands for: 1, or more for an
	// aggregated row.
	Count int
	// Aggregate, when set, counts entries with the same key on one row
	// (its time, actor, message and address are the latest occurrence's),
	// so that a flood of failures cannot grow the log row by row.
	Aggregate string
}

// AuditFilter selects audit entries. Zero fields do not filter. Before and
// After are keyset cursors (entry ids): Before pages to older entries, After
// to newer ones.
type AuditFilter struct {
	Actor   string // substring of the actor's email
	Action  AuditAction
	Outcome Outcome
	From    time.Time // inclusive
	To      time.Time // exclusive
	Before  AuditID
	After   AuditID
	Limit   int
}

// AuditPage is one page of audit entries, newest first.
type AuditPage struct {
	Entries  []AuditEntry
	HasOlder bool
	HasNewer bool
}

// AuditStore is the persistence Audit needs.
type AuditStore interface {
	// InsertAudit appends an entry and returns it with its id.
	InsertAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// PruneAudit deletes the entries older than before and returns how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
	// ListAudit returns up to f.Limit entries matching f: with f.After set,
	// the oldest entries newer than After in ascending id order; otherwise the
	// newest entries (older than Before when set) in descending id order.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// Audit records and lists the audit log.
type Audit struct {
	store AuditStore
	now   func() time.Time
	log   *slog.Logger
}

// NewAudit returns the audit service.
func NewAudit(store AuditStore, now func() time.Time, log *slog.Logger) *Audit {
	return &Audit{store: store, now: now, log: log}
}

// Record appends an entry to the audit log, stamping the time (and the client
// address from ctx when e.IP is empty). Recording must not undo the action it
// describes, so a failure to write is logged, not returned.
func (a *Audit) Record(ctx context.Context, e AuditEntry) {
	e.Time = a.now().UTC()
	if e.IP == "" {
		e.IP = ClientIP(ctx)
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	// Writing the audit row should not be cut short by a client that went away.
	if _, err := a.store.InsertAudit(context.WithoutCancel(ctx), e); err != nil {
		a.log.ErrorContext(ctx, "audit_record_failed", slog.String("action", string(e.Action)), slog.Any("err", err))
	}
}

// DefaultAuditKeepDays is how long audit entries are kept by default.
const DefaultAuditKeepDays = 400

// Prune deletes the entries older than days days; the program runs it
// hourly (RCBU_WEB_AUDIT_KEEP_DAYS).
func (a *Audit) Prune(ctx context.Context, days int) (int64, error) {
	n, err := a.store.PruneAudit(ctx, a.now().UTC().Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	return n, nil
}

// DefaultAuditPageSize is the page size when the filter does not set one.
const DefaultAuditPageSize = 50

// List returns one page of entries matching f, newest first. Only admins may
// read the audit log.
func (a *Audit) List(ctx context.Context, actor User, f AuditFilter) (AuditPage, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return AuditPage{}, fmt.Errorf("list audit: %w", ErrForbidden)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = DefaultAuditPageSize
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return AuditPage{}, fmt.Errorf("list audit: %w", Invalid("to", "The end must be after the start."))
	}
	rows, more, err := fetchPage(f.Limit, func(n int) ([]AuditEntry, error) {
		f.Limit = n
		return a.store.ListAudit(ctx, f)
	})
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit: %w", err)
	}
	var p AuditPage
	if f.After != 0 {
		// Ascending from the cursor: flip to newest first.
		slices.Reverse(rows)
		p.HasNewer, p.HasOlder = more, true
	} else {
		p.HasOlder, p.HasNewer = more, f.Before != 0
	}
	p.Entries = rows
	return p, nil
}

// fetchPage fetches up to limit rows through fetch, asking it for one
// more than limit: more reports whether that extra row existed, i.e.
// whether there is a further page. The extra row is dropped.
func fetchPage[T any](limit int, fetch func(n int) ([]T, error)) (rows []T, more bool, err error) {
	rows, err = fetch(limit + 1)
	if err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// auditedFail returns the failure path of an audited action: it records
// err as the action's failed outcome against the target *target names at
// that moment (callers refine it once they know more), and returns the
// zero T with err wrapped as "op: err".
func auditedFail[T any](ctx context.Context, a *Audit, actor User, action AuditAction, target *string, op string) func(error) (T, error) {
	return func(err error) (T, error) {
		a.Record(ctx, actorEntry(actor, action, *target, err))
		var zero T
		return zero, fmt.Errorf("%s: %w", op, err)
	}
}

// actorEntry builds an entry for an action by actor; err decides the outcome.
func actorEntry(actor User, action AuditAction, target string, err error, detail ...string) AuditEntry {
	e := AuditEntry{ActorID: actor.ID, Actor: actor.Email, Action: action, Target: target, Outcome: OutcomeOK}
	if err != nil {
		e.Outcome = OutcomeFailed
		e.Message = AuditMessage(err)
	} else {
		e.Message = strings.Join(detail, "; ")
	}
	return e
}

// AuditMessage turns an error into the short message stored with a failed
// entry: the field messages of a validation error, the kind of a known error,
// else the error text.
func AuditMessage(err error) string {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		return strings.TrimPrefix(ve.Error(), "invalid input: ")
	case errors.Is(err, ErrNotFound):
		return "not found"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	default:
		return err.Error()
	}
}

type ctxKey int

const clientIPKey ctxKey = iota

// WithClientIP returns a context carrying the client's address, which Record
// stores with entries. The HTTP layer sets it for every request.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey, ip)
}

// ClientIP returns the client address stored by WithClientIP, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey).(string)
	return ip
}
