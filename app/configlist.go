package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// ConfigFilter selects configurations in the list. Zero fields do not
// filter.
type ConfigFilter struct {
	Q         string // substring of the name, the agent's name or a path (case-insensitive)
	AgentID   rcbu.AgentID
	Enabled   *bool
	Frequency rcbu.Frequency
	Sort      string // one of ConfigSorts; "" sorts by agent, then name
	// Overdue keeps only the overdue configurations (ApplyOverdue).
	Overdue bool
	Page    int // 1-based
}

// ConfigSorts lists the orders of the configurations list: by name, by
// agent (the default), by next run (soonest first) and by last run (most
// recent first).
func ConfigSorts() []string { return []string{"name", "agent", "next", "last"} }

// ParseConfigFilter reads the list's query. A value that makes no sense is
// ignored, and a note in words says so: a shared or hand-edited URL never
// breaks the page.
func ParseConfigFilter(q map[string][]string) (ConfigFilter, []string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var f ConfigFilter
	var notes []string
	f.Q = SearchText(get("q"), &notes)
	if s := get("agent"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			notes = append(notes, fmt.Sprintf("The agent filter %.40q is not an agent id, so it was ignored.", s))
		} else {
			f.AgentID = rcbu.AgentID(id)
		}
	}
	switch s := get("enabled"); s {
	case "":
	case "yes", "true":
		t := true
		f.Enabled = &t
	case "no", "false":
		n := false
		f.Enabled = &n
	default:
		notes = append(notes, fmt.Sprintf("The state filter %.40q is not enabled or disabled, so it was ignored.", s))
	}
	if s := get("frequency"); s != "" {
		if fr := rcbu.Frequency(s); fr.Valid() {
			f.Frequency = fr
		} else {
			notes = append(notes, fmt.Sprintf("The frequency filter %.40q is not one of Manually, Hourly, Daily or Weekly, so it was ignored.", s))
		}
	}
	switch s := strings.ToLower(get("overdue")); s {
	case "", "0", "no", "false":
	case "1", "yes", "true":
		f.Overdue = true
	default:
		notes = append(notes, fmt.Sprintf("The overdue filter %.40q is not yes or no, so it was ignored.", s))
	}
	f.Page = parsePage(get("page"))
	if s := get("sort"); s != "" {
		if slices.Contains(ConfigSorts(), s) {
			f.Sort = s
		} else {
			notes = append(notes, fmt.Sprintf("The order %.40q is not one the list knows, so it is sorted by agent.", s))
		}
	}
	return f, notes
}

// matches reports whether c passes the filter.
func (f ConfigFilter) matches(c rcbu.Configuration) bool {
	if f.AgentID != 0 && c.AgentID != f.AgentID {
		return false
	}
	if f.Enabled != nil && c.Enabled() != *f.Enabled {
		return false
	}
	if f.Frequency != "" && !strings.EqualFold(string(c.Frequency), string(f.Frequency)) {
		return false
	}
	if f.Q == "" {
		return true
	}
	q := strings.ToLower(f.Q)
	if strings.Contains(strings.ToLower(c.Name), q) || strings.Contains(strings.ToLower(c.MachineName), q) {
		return true
	}
	for _, p := range slices.Concat(c.Inclusions, c.Exclusions) {
		if strings.Contains(strings.ToLower(p.FilePath), q) {
			return true
		}
	}
	return false
}

// ConfigItem is one configuration in the list, with what the list shows
// about its runs.
type ConfigItem struct {
	FleetConfiguration
	Schedule string         // in words
	Last     *rcbu.Activity // the newest backup run, nil if none is known
	Overdue  Overdue
}

// ConfigList is one page of the configurations list.
type ConfigList struct {
	Items    []ConfigItem
	Total    int // before filtering
	Agents   []FleetAgent
	Problems []AccountProblem
}

// sortItems orders the list; ties fall back to agent, then name.
func sortItems(items []ConfigItem, by string) {
	byAgent := func(a, b ConfigItem) int {
		if c := strings.Compare(strings.ToLower(a.Configuration.MachineName), strings.ToLower(b.Configuration.MachineName)); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Configuration.Name), strings.ToLower(b.Configuration.Name))
	}
	// nextRun is the next scheduled run of an enabled configuration; none
	// sorts last.
	nextRun := func(it ConfigItem) (time.Time, bool) {
		t, ok := it.Configuration.NextRun()
		return t, ok && it.Configuration.Enabled()
	}
	slices.SortStableFunc(items, func(a, b ConfigItem) int {
		switch by {
		case "name":
			if c := strings.Compare(strings.ToLower(a.Configuration.Name), strings.ToLower(b.Configuration.Name)); c != 0 {
				return c
			}
		case "next":
			ta, oka := nextRun(a)
			tb, okb := nextRun(b)
			switch {
			case oka && !okb:
				return -1
			case !oka && okb:
				return 1
			case oka && okb && !ta.Equal(tb):
				return ta.Compare(tb)
			}
		case "last":
			switch {
			case a.Last != nil && b.Last == nil:
				return -1
			case a.Last == nil && b.Last != nil:
				return 1
			case a.Last != nil && b.Last != nil && !a.Last.TimeOfActivity.Equal(b.Last.TimeOfActivity.Time):
				return b.Last.TimeOfActivity.Compare(a.Last.TimeOfActivity.Time)
			}
		}
		return byAgent(a, b)
	})
}

// ApplyOverdue sets each item's overdue verdict from od (the overview's,
// so that the list shows exactly what the overview counts) and, when only
// is set, keeps the overdue items alone.
func (l ConfigList) ApplyOverdue(od map[ConfigurationKey]Overdue, only bool) ConfigList {
	items := l.Items[:0:0]
	for _, it := range l.Items {
		it.Overdue = od[ConfigurationKey{AccountID: it.AccountID, ConfigID: it.Configuration.ID}]
		if only && !it.Overdue.Overdue {
			continue
		}
		items = append(items, it)
	}
	l.Items = items
	return l
}

// maxSearchRunes bounds a list's search text: longer text matches nothing a
// name could hold, and each character costs on every row.
const maxSearchRunes = 200

// SearchText is a list's search text from the query: trimmed, and cut to
// its first 200 characters with a note saying so.
func SearchText(raw string, notes *[]string) string {
	q := strings.TrimSpace(raw)
	if r := []rune(q); len(r) > maxSearchRunes {
		q = string(r[:maxSearchRunes])
		*notes = append(*notes, "The search was cut to its first 200 characters.")
	}
	return q
}
