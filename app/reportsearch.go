package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// NameKind says whether a name is an agent's or a configuration's.
type NameKind string

// The name kinds.
const (
	NameAgent         NameKind = "agent"
	NameConfiguration NameKind = "configuration"
)

// NamedObject is an agent or configuration the history has seen, with its
// newest name (and, for a configuration, its agent's).
type NamedObject struct {
	Kind      NameKind
	AccountID AccountID
	ID        int64
	Name      string
	AgentName string
}

// Label is the name as a suggestion shows it: a configuration names its
// agent, since two agents may have configurations of the same name.
func (n NamedObject) Label() string {
	if n.Kind == NameConfiguration && n.AgentName != "" {
		return n.Name + " (on " + n.AgentName + ")"
	}
	return n.Name
}

// NameMatch says how a name search matches.
type NameMatch int

// The name matches.
const (
	MatchContains NameMatch = iota // the name contains the text, ignoring case
	MatchExact                     // the whole name, ignoring case
	MatchID                        // the id is the text
)

// maxSuggestions bounds the suggestions of one name search.
const maxSuggestions = 50

// Names returns up to 50 agents or configurations of the accounts whose
// name contains text (every one, by name, when text is empty), for the
// report filters' suggestions.
func (h *History) Names(ctx context.Context, accounts []AccountID, kind NameKind, text string) ([]NamedObject, error) {
	if len(accounts) == 0 {
		return nil, nil
	}
	list, err := h.store.ReportNames(ctx, accounts, kind, strings.TrimSpace(text), MatchContains, maxSuggestions)
	if err != nil {
		return nil, fmt.Errorf("names: %w", err)
	}
	return list, nil
}

// NameOf returns the newest name of an agent or configuration the history
// has seen ("" when none).
func (h *History) NameOf(ctx context.Context, accounts []AccountID, kind NameKind, id int64) (string, error) {
	if len(accounts) == 0 || id <= 0 {
		return "", nil
	}
	list, err := h.store.ReportNames(ctx, accounts, kind, strconv.FormatInt(id, 10), MatchID, 1)
	if err != nil || len(list) == 0 {
		return "", err
	}
	return list[0].Name, nil
}

// ResolveNames turns the agent and configuration names of f into ids: the
// one agent or configuration whose whole name it is (ignoring case), or
// else the one whose name contains it. A name that matches none makes f
// match nothing; one that matches several is ignored. Either way the
// problem says so in words, and names the choices.
func (h *History) ResolveNames(ctx context.Context, f *ReportFilter) ([]FilterProblem, error) {
	var ps []FilterProblem
	accounts := f.Accounts
	if f.Account != 0 {
		accounts = []AccountID{f.Account}
	}
	for _, n := range []struct {
		field string
		kind  NameKind
		name  *string
		set   func(int64)
	}{
		{"agent", NameAgent, &f.AgentName, func(id int64) { f.AgentID = rcbu.AgentID(id) }},
		{"config", NameConfiguration, &f.ConfigName, func(id int64) { f.ConfigID = rcbu.ConfigurationID(id) }},
	} {
		name := *n.name
		if name == "" {
			continue
		}
		var found []NamedObject
		for _, m := range []NameMatch{MatchExact, MatchContains} {
			list, err := h.store.ReportNames(ctx, accounts, n.kind, name, m, 6)
			if err != nil {
				return nil, fmt.Errorf("resolve names: %w", err)
			}
			if found = list; len(found) > 0 {
				break
			}
		}
		what := string(n.kind)
		switch len(found) {
		case 1:
			n.set(found[0].ID)
			*n.name = found[0].Name
		case 0:
			f.Nothing = true
			ps = append(ps, FilterProblem{Field: n.field, Ignored: "nothing matches",
				Message: fmt.Sprintf("no %s named like %q has reports", what, clip(name))})
		default:
			labels := make([]string, 0, len(found))
			for i, o := range found {
				if i == 5 {
					labels = append(labels, "…")
					break
				}
				labels = append(labels, o.Label())
			}
			*n.name = ""
			ps = append(ps, FilterProblem{Field: n.field, Ignored: "pick one from the suggestions; the " + what + " filter is ignored",
				Message: fmt.Sprintf("%q matches several %ss: %s", clip(name), what, strings.Join(labels, ", "))})
		}
	}
	return ps, nil
}

// Snippets returns, for each report of rs that the search q matches, its
// first matching error text with the matches marked: the text alternates
// between plain and matched runs, starting with plain.
func (h *History) Snippets(ctx context.Context, rs []Report, q string) (map[SnapshotID][]string, error) {
	if strings.TrimSpace(q) == "" || len(rs) == 0 {
		return nil, nil
	}
	ids := make([]SnapshotID, 0, len(rs))
	for _, r := range rs {
		if r.ErrorCount > 0 {
			ids = append(ids, r.ID)
		}
	}
	raw, err := h.store.ReportSnippets(ctx, ids, q)
	if err != nil {
		return nil, fmt.Errorf("snippets: %w", err)
	}
	out := make(map[SnapshotID][]string, len(raw))
	for id, s := range raw {
		out[id] = SplitSnippet(s)
	}
	return out, nil
}

// Snippet markers: the store's snippet() puts SnippetOpen before and
// SnippetClose after each match. They are control characters that error
// text does not carry (and that SplitSnippet drops if it does).
const (
	SnippetOpen  = "\x02"
	SnippetClose = "\x03"
)

// SplitSnippet splits a marked snippet into runs that alternate between
// plain and matched text, starting with plain (possibly empty).
func SplitSnippet(s string) []string {
	var out []string
	var cur strings.Builder
	inMatch := false
	for _, r := range s {
		switch {
		case string(r) == SnippetOpen && !inMatch, string(r) == SnippetClose && inMatch:
			out = append(out, cur.String())
			cur.Reset()
			inMatch = !inMatch
		case string(r) == SnippetOpen, string(r) == SnippetClose:
			// A stray marker: drop it.
		default:
			cur.WriteRune(r)
		}
	}
	out = append(out, cur.String())
	return out
}

// FilteredRate returns the daily success rate over the last days of the
// backups that f selects (its account, agent, configuration, state, dates,
// errors and search; its kind only when that is restores, which makes it
// empty), the days being calendar days in loc ending today.
func (h *History) FilteredRate(ctx context.Context, f ReportFilter, days int, loc *time.Location) ([]DayRate, error) {
	days = min(max(days, 1), 366)
	if loc == nil {
		loc = time.UTC
	}
	now := h.now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -(days - 1))
	out := make([]DayRate, days)
	for d := range out {
		out[d].Day = from.AddDate(0, 0, d)
	}
	if len(f.Accounts) == 0 || f.Nothing || f.Kind == KindRestore {
		return out, nil
	}
	f.Kind = KindBackup
	if f.From.Before(from) {
		f.From = from
	}
	f.After, f.Before = nil, nil
	err := h.store.EachOutcome(ctx, f, func(finished time.Time, state string) {
		t := finished.In(loc)
		d := int(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc).Sub(from).Hours()+12) / 24 // +12 h: a DST day is 23 or 25 h
		if d < 0 || d >= days {
			return
		}
		out[d].Total++
		switch {
		case stateIs(state, "Completed", "CompletedWithErrors"):
			out[d].Success++
		case stateIs(state, "Failed", "Missed"):
			out[d].Failure++
		}
	})
	if err != nil {
		return nil, fmt.Errorf("success rate: %w", err)
	}
	return out, nil
}
