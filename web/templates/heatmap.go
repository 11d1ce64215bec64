package templates

// HeatLink is a day of the heatmap with problems, as a link to its reports.
type HeatLink struct {
	Label string // "web-01, Mon Nov 30: 1 failed"
	Href  string
}

// ProblemDays lists the days that link to their reports (those with
// failures or errors), row by row.
func (h HeatmapView) ProblemDays() []HeatLink {
	var out []HeatLink
	for _, r := range h.Rows {
		for _, c := range r.Cells {
			if c.Href != "" {
				out = append(out, HeatLink{Label: c.Title, Href: c.Href})
			}
		}
	}
	return out
}
