package app

import (
	"cmp"
	"slices"
	"strings"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// GraceFilter selects and pages the rows of the overdue grace table: the
// rows whose configuration or agent name contains Query (any case), in
// name order, Limit a page. After and Before anchor a page on a row (the
// last row of the page before, or the first of the page after).
type GraceFilter struct {
	Query  string
	After  rcbu.ConfigurationID
	Before rcbu.ConfigurationID
	Limit  int
}

// GracePage is one page of grace rows with whether pages come before and
// after it, and how many rows match in all.
type GracePage struct {
	Rows    []GraceRow
	HasPrev bool
	HasNext bool
	Total   int
	// AnchorLost is set when After or Before named a row that is not in the
	// selection (deleted, or filtered out); the page is then the first.
	AnchorLost bool
}

// DefaultGracePageSize is the most grace rows a page shows.
const DefaultGracePageSize = 50

// PageGraces filters rows (as Alerts.Graces returns them) by f and returns
// the page f asks for, in name order with the configuration id breaking
// ties.
func PageGraces(rows []GraceRow, f GraceFilter) GracePage {
	limit := f.Limit
	if limit <= 0 || limit > DefaultGracePageSize {
		limit = DefaultGracePageSize
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	sel := make([]GraceRow, 0, len(rows))
	for _, r := range rows {
		c := r.Configuration.Configuration
		if q == "" || strings.Contains(strings.ToLower(c.Name), q) || strings.Contains(strings.ToLower(c.MachineName), q) {
			sel = append(sel, r)
		}
	}
	slices.SortStableFunc(sel, func(x, y GraceRow) int {
		a, b := x.Configuration.Configuration, y.Configuration.Configuration
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	p := GracePage{Total: len(sel)}
	at := func(id rcbu.ConfigurationID) int {
		return slices.IndexFunc(sel, func(r GraceRow) bool { return r.Configuration.Configuration.ID == id })
	}
	start, end := 0, min(limit, len(sel))
	switch {
	case f.After != 0:
		if i := at(f.After); i >= 0 {
			start, end = i+1, min(i+1+limit, len(sel))
		} else {
			p.AnchorLost = true
		}
	case f.Before != 0:
		if i := at(f.Before); i >= 0 {
			start, end = max(0, i-limit), i
		} else {
			p.AnchorLost = true
		}
	}
	p.Rows = sel[start:end]
	p.HasPrev, p.HasNext = start > 0, end < len(sel)
	return p
}
