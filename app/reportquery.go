package app

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// ReportSort names a sortable column of the history table.
type ReportSort string

// The sort columns.
const (
	SortFinished ReportSort = "finished"
	SortStarted  ReportSort = "started"
	SortDuration ReportSort = "duration"
	SortAgent    ReportSort = "agent"
	SortConfig   ReportSort = "config"
	SortState    ReportSort = "state"
	SortKind     ReportSort = "kind"
	SortFiles    ReportSort = "files"
	SortBytes    ReportSort = "bytes"
	SortErrors   ReportSort = "errors"
)

// ReportSorts lists the sort columns.
func ReportSorts() []ReportSort {
	return []ReportSort{SortFinished, SortStarted, SortDuration, SortAgent, SortConfig, SortState, SortKind, SortFiles, SortBytes, SortErrors}
}

// sortSpec is everything about one sort but its SQL (which db keeps): its
// label and the key of a report under it, a number or a text.
type sortSpec struct {
	label string
	num   func(Report) int64
	text  func(Report) string
}

// spec defines each sort; an unknown one is SortFinished.
func (s ReportSort) spec() sortSpec {
	switch s {
	case SortStarted:
		return sortSpec{label: "Start time", num: func(r Report) int64 { return unixOrZero(r.Started) }}
	case SortDuration:
		return sortSpec{label: "Duration", num: func(r Report) int64 { return int64(r.Duration / time.Second) }}
	case SortAgent:
		return sortSpec{label: "Agent", text: func(r Report) string { return r.AgentName }}
	case SortConfig:
		return sortSpec{label: "Configuration", text: func(r Report) string { return r.ConfigName }}
	case SortState:
		return sortSpec{label: "State", text: func(r Report) string { return r.State }}
	case SortKind:
		return sortSpec{label: "Kind", text: func(r Report) string { return string(r.Kind) }}
	case SortFiles:
		return sortSpec{label: "Files", num: Report.Files}
	case SortBytes:
		return sortSpec{label: "Bytes", num: Report.Bytes}
	case SortErrors:
		return sortSpec{label: "Errors", num: func(r Report) int64 { return r.ErrorCount }}
	default:
		return sortSpec{label: "Finish time", num: func(r Report) int64 { return unixOrZero(r.Finished) }}
	}
}

// Label names the sort for people ("Finish time", "Bytes").
func (s ReportSort) Label() string { return s.spec().label }

// Textual reports whether the column sorts text (agent, config, state, kind).
func (s ReportSort) Textual() bool { return s.spec().text != nil }

// ReportCursor is a keyset position in a sorted history: the sort value of a
// row (Num or Text, per the column) and its snapshot id, the tie-breaker.
type ReportCursor struct {
	Num  int64
	Text string
	ID   SnapshotID
}

// Cursor returns r's keyset position under sort s.
func (r Report) Cursor(s ReportSort) ReportCursor {
	sp := s.spec()
	if sp.text != nil {
		return ReportCursor{Text: sp.text(r), ID: r.ID}
	}
	return ReportCursor{Num: sp.num(r), ID: r.ID}
}

// compareCursors orders two positions under sort s, ascending (text sorts
// compare bytes, as SQLite's BINARY collation does).
func compareCursors(s ReportSort, a, b ReportCursor) int {
	c := cmp.Compare(a.Num, b.Num)
	if s.Textual() {
		c = strings.Compare(a.Text, b.Text)
	}
	if c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// SortReports sorts rs in place by s and then by snapshot id, ascending or
// descending, the order the store returns them in.
func SortReports(rs []Report, s ReportSort, asc bool) {
	slices.SortFunc(rs, func(a, b Report) int {
		c := compareCursors(s, a.Cursor(s), b.Cursor(s))
		if !asc {
			c = -c
		}
		return c
	})
}

// cursorToken is a cursor as it travels in a URL: the position and the
// ordering it belongs to.
type cursorToken struct {
	Sort ReportSort `json:"s"`
	Asc  bool       `json:"a,omitempty"`
	Num  int64      `json:"n,omitempty"`
	Text string     `json:"t,omitempty"`
	ID   int64      `json:"i"`
}

// maxCursorLen bounds a cursor token: a long agent name fits easily.
const maxCursorLen = 2048

// EncodeReportCursor writes c, a position under f's sort and direction, as
// an opaque URL-safe token. The pages, the exports' links and the API use
// this one format.
func EncodeReportCursor(f ReportFilter, c ReportCursor) string {
	b, _ := json.Marshal(cursorToken{Sort: sortOrDefault(f.Sort), Asc: f.Asc, Num: c.Num, Text: c.Text, ID: int64(c.ID)}) // plain fields: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeReportCursor reads a token of EncodeReportCursor made for f's sort
// and direction.
func DecodeReportCursor(raw string, f ReportFilter) (ReportCursor, error) {
	var t cursorToken
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(raw) > maxCursorLen || json.Unmarshal(b, &t) != nil || t.ID <= 0 {
		return ReportCursor{}, fmt.Errorf("the page position is not one this console made: %w", ErrInvalid)
	}
	if t.Sort != sortOrDefault(f.Sort) || t.Asc != f.Asc {
		return ReportCursor{}, fmt.Errorf("the page position belongs to another sort or direction: %w", ErrInvalid)
	}
	if t.Sort.Textual() && t.Num != 0 || !t.Sort.Textual() && t.Text != "" {
		return ReportCursor{}, fmt.Errorf("the page position does not fit its sort: %w", ErrInvalid)
	}
	return ReportCursor{Num: t.Num, Text: t.Text, ID: SnapshotID(t.ID)}, nil
}

func sortOrDefault(s ReportSort) ReportSort {
	if s == "" {
		return SortFinished
	}
	return s
}

// ReportFilter selects report snapshots. Accounts is required: it is the
// caller's scope, and nothing outside it is ever returned. Zero fields of
// the rest do not filter.
type ReportFilter struct {
	Accounts   []AccountID
	Account    AccountID // narrows to one account of Accounts
	AgentID    rcbu.AgentID
	ConfigID   rcbu.ConfigurationID
	Kind       ReportKind
	State      string
	From       time.Time // finished at or after
	To         time.Time // finished before
	ErrorsOnly bool
	Query      string // full text over error paths and messages
	// AgentName and ConfigName are names typed where an id goes: History
	// resolves them to AgentID and ConfigID (ResolveNames).
	AgentName  string
	ConfigName string
	// Nothing: a name matched nothing, so no report can match.
	Nothing bool

	Sort ReportSort // SortFinished when empty
	Asc  bool       // ascending; the default is descending (newest first)
	// After pages forwards (the rows after the cursor in sort order);
	// Before pages backwards. At most one is set.
	After  *ReportCursor
	Before *ReportCursor
	Limit  int
}

// ReportQueryOptions says how ParseReportQuery reads a query string.
type ReportQueryOptions struct {
	// Accounts is the caller's scope: the filter's Accounts, and the
	// accounts "account" may name.
	Accounts []Account
	// Location is the zone of date-only values (a user's; UTC for the API).
	Location *time.Location
	// Limit reads "limit" (1 to 500); without it the page size is
	// DefaultReportPageSize and "limit" is not read.
	Limit bool
}

// FilterProblem is a query value that cannot be used. Field is the
// parameter, Message says in words what is wrong, and Ignored what is done
// instead by a reader that carries on (the page notes it and ignores it;
// the API refuses the request).
type FilterProblem struct {
	Field   string
	Message string
	Ignored string
}

// ReportQueryProblems is the problems as a ValidationError (field →
// message), for callers that refuse a bad query; nil when there are none.
func ReportQueryProblems(ps []FilterProblem) error {
	if len(ps) == 0 {
		return nil
	}
	v := validation{}
	for _, p := range ps {
		v.add(p.Field, p.Message)
	}
	return v.err()
}

// maxNameLen bounds an agent or configuration name typed as a filter.
const maxNameLen = 200

// maxReportQueryLen bounds the full-text search, in characters.
const maxReportQueryLen = 200

// ParseReportQuery reads the history filters from a query string: account,
// agent, config, kind, state, from, to, errors, q, sort, dir, the cursors
// after (or cursor) and before, and with o.Limit, limit. A date-only from
// is the start of that day and a date-only to the end of it, in
// o.Location; RFC 3339 times are exact. Every value that cannot be used is
// left out of the filter and reported as a problem. The /reports page, its
// exports and /api/v1/reports all read their filters here.
func ParseReportQuery(q url.Values, o ReportQueryOptions) (ReportFilter, []FilterProblem) {
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	f := ReportFilter{Sort: SortFinished, Limit: DefaultReportPageSize}
	for _, a := range o.Accounts {
		f.Accounts = append(f.Accounts, a.ID)
	}
	var ps []FilterProblem
	bad := func(field, ignored, format string, a ...any) {
		for _, p := range ps {
			if p.Field == field {
				return
			}
		}
		ps = append(ps, FilterProblem{Field: field, Message: fmt.Sprintf(format, a...), Ignored: ignored})
	}
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	if raw := get("account"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if i := slices.IndexFunc(o.Accounts, func(a Account) bool { return a.ID == AccountID(id) }); err == nil && i >= 0 {
			f.Account = AccountID(id)
		} else {
			bad("account", "showing every account in scope", "account %q is not one of yours", clip(raw))
		}
	}
	// An agent or configuration is its id, or else its name (resolved by
	// History.ResolveNames).
	id := func(field, what string, name *string) int64 {
		raw := get(field)
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err == nil && n > 0 {
			return n
		}
		if err == nil {
			bad(field, "the "+what+" filter is ignored", "%s id %q is not a positive number", what, clip(raw))
			return 0
		}
		if len([]rune(raw)) > maxNameLen {
			bad(field, "the "+what+" filter is ignored", "the %s name is longer than %d characters", what, maxNameLen)
			return 0
		}
		*name = raw
		return 0
	}
	f.AgentID = rcbu.AgentID(id("agent", "agent", &f.AgentName))
	f.ConfigID = rcbu.ConfigurationID(id("config", "configuration", &f.ConfigName))
	if raw := get("kind"); raw != "" {
		if k, err := ParseReportKind(strings.ToLower(raw)); err == nil {
			f.Kind = k
		} else {
			bad("kind", "showing both", "kind %q is neither backup nor restore", clip(raw))
		}
	}
	if raw := get("state"); raw != "" {
		i := slices.IndexFunc(ReportStates(), func(s string) bool { return strings.EqualFold(s, strings.ReplaceAll(raw, " ", "")) })
		if i >= 0 {
			f.State = ReportStates()[i]
		} else {
			bad("state", "showing every state", "state %q is not one of %s", clip(raw), strings.Join(ReportStates(), ", "))
		}
	}
	f.From = parseFilterTime(get("from"), loc, false, func(raw string) {
		bad("from", "it is ignored", "the start %q is not a date like 2026-01-31 or a time like 2026-01-31T15:04:05Z", clip(raw))
	})
	f.To = parseFilterTime(get("to"), loc, true, func(raw string) {
		bad("to", "it is ignored", "the end %q is not a date like 2026-01-31 or a time like 2026-01-31T15:04:05Z", clip(raw))
	})
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		bad("to", "it is ignored", "the end (to) is not after the start (from)")
		f.To = time.Time{}
	}
	switch raw := strings.ToLower(get("errors")); raw {
	case "":
	case "1", "t", "true", "on", "yes":
		f.ErrorsOnly = true
	case "0", "f", "false", "off", "no":
	default:
		bad("errors", "it is ignored", "%q is not a yes/no value for errors (only runs with errors)", clip(raw))
	}
	if raw := get("q"); len([]rune(raw)) > maxReportQueryLen {
		bad("q", "it is ignored", "the search (q) is longer than %d characters", maxReportQueryLen)
	} else {
		f.Query = raw
	}
	if raw := get("sort"); raw != "" {
		if i := slices.Index(ReportSorts(), ReportSort(strings.ToLower(raw))); i >= 0 {
			f.Sort = ReportSorts()[i]
		} else {
			names := make([]string, 0, 10)
			for _, s := range ReportSorts() {
				names = append(names, string(s))
			}
			bad("sort", "sorting by finish time", "cannot sort by %q (sort is one of %s)", clip(raw), strings.Join(names, ", "))
		}
	}
	switch raw := strings.ToLower(get("dir")); raw {
	case "", "desc":
	case "asc":
		f.Asc = true
	default:
		bad("dir", "descending", "order (dir) %q is neither asc nor desc", clip(raw))
	}
	if o.Limit {
		if raw := get("limit"); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > maxReportPageSize {
				bad("limit", "50 a page", "limit %q is not a number from 1 to %d", clip(raw), maxReportPageSize)
			} else {
				f.Limit = n
			}
		}
	}
	for _, c := range []struct {
		field string
		dst   **ReportCursor
	}{{"after", &f.After}, {"cursor", &f.After}, {"before", &f.Before}} {
		raw := get(c.field)
		if raw == "" || *c.dst != nil {
			continue
		}
		cur, err := DecodeReportCursor(raw, f)
		if err != nil {
			bad(c.field, "showing the first page", "%s", strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error()))
			continue
		}
		*c.dst = &cur
	}
	if f.After != nil && f.Before != nil {
		f.Before = nil
	}
	return f, ps
}

// parseFilterTime reads a date (the start of that day in loc, or with
// endOfDay the start of the next day, so that "to" takes in the whole day)
// or an RFC 3339 time. A bad value calls bad and gives the zero time.
func parseFilterTime(raw string, loc *time.Location, endOfDay bool, bad func(string)) time.Time {
	if raw == "" {
		return time.Time{}
	}
	if t, err := time.ParseInLocation(time.DateOnly, raw, loc); err == nil {
		if endOfDay {
			return t.AddDate(0, 0, 1)
		}
		return t
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t
	}
	bad(raw)
	return time.Time{}
}

// clip shortens a value quoted back in a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}
