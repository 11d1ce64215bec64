package templates

// ProductName is the console's name, shown in the header and every title.
const ProductName = "RCBU Console"

// StoreAwayBannerText is shown on every page served while the database is
// not answering.
const StoreAwayBannerText = "The database is not answering. This page shows what Cloud Backup answers; the report history, the audit log, alerts and charts are left out, and nothing can be changed until the database is back."

// DemoBannerText is shown on every page while the built-in simulator serves
// the data.
const DemoBannerText = "Demo data from the built-in Cloud Backup simulator. Connect a Rackspace account in Admin → Accounts."

// Nav identifies a navigation entry, to mark the current one.
type Nav string

// The navigation entries, in UX order.
const (
	NavNone           Nav = ""
	NavOverview       Nav = "overview"
	NavAgents         Nav = "agents"
	NavConfigurations Nav = "configurations"
	NavActivity       Nav = "activity"
	NavReports        Nav = "reports"
	NavAlerts         Nav = "alerts"
	NavAdmin          Nav = "admin"
	NavProfile        Nav = "profile"
)

// NavItem is one navigation link.
type NavItem struct {
	Key   Nav
	Label string
	Href  string
}

// NavItems returns the navigation in UX order; Admin only for admins.
func NavItems(admin bool) []NavItem {
	items := []NavItem{
		{NavOverview, "Overview", "/"},
		{NavAgents, "Agents", "/agents"},
		{NavConfigurations, "Configurations", "/configurations"},
		{NavActivity, "Activity", "/activity"},
		{NavReports, "Reports", "/reports"},
		{NavAlerts, "Alerts", "/alerts"},
	}
	if admin {
		items = append(items, NavItem{NavAdmin, "Admin", "/admin"})
	}
	return items
}

// PageMeta is what the layout needs on every page. Every page's view model
// carries one.
type PageMeta struct {
	Title     string // the page's own title; the layout appends " · RCBU Console"
	ActiveNav Nav
	User      *UserView // nil when nobody is signed in
	Accounts  AccountSwitcher
	Demo      bool
	Flashes   []Flash
	AssetTag  string // cache-busting version of the static files
	Path      string // the current path, used as the switcher's return address
	// StoreAway says the database is not answering: the page shows what
	// Cloud Backup answered, and a banner says what is missing.
	StoreAway bool
}

// FullTitle returns "Title · RCBU Console".
func (m PageMeta) FullTitle() string {
	if m.Title == "" {
		return ProductName
	}
	return m.Title + " · " + ProductName
}

// Asset returns the URL of a static file with the cache-busting tag.
func (m PageMeta) Asset(name string) string {
	if m.AssetTag == "" {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + m.AssetTag
}

// UserView is the signed-in user as the header shows them.
type UserView struct {
	Name      string
	Email     string
	RoleLabel string
	IsAdmin   bool
	CanCreate bool // Creator or Admin: may run backups and edit configurations
	// HasPassword: the user has a console password to change (not one who
	// signs in only through single sign-on).
	HasPassword bool
}

// AccountSwitcher is the header's account select.
type AccountSwitcher struct {
	Options []AccountOption
}

// Show reports whether there is anything to switch between or show.
func (s AccountSwitcher) Show() bool { return len(s.Options) > 0 }

// AccountOption is one entry of the switcher: an account id, or "all".
type AccountOption struct {
	Value    string
	Label    string
	Selected bool
}

// FlashKind is the tone of a flash message.
type FlashKind string

// The flash kinds.
const (
	FlashSuccess FlashKind = "success"
	FlashError   FlashKind = "error"
	FlashInfo    FlashKind = "info"
)

// Flash is a one-time message shown after a redirect.
type Flash struct {
	Kind FlashKind
	Text string
}

// FormErrors maps field names to messages; the key "" is a form-level message.
type FormErrors map[string]string

// Any reports whether there is any error.
func (e FormErrors) Any() bool { return len(e) > 0 }

// FieldOrder lists field names for the error summary, in form order, so
// that the summary reads top to bottom.
type FieldOrder []FieldRef

// FieldRef names a field and its label for the error summary.
type FieldRef struct {
	Name  string
	Label string
}

// SummaryItem is one link of the error summary.
type SummaryItem struct {
	Href string // "#field-email"; "" for a form-level message
	Text string
}

// Summary lists the errors in form order: the form-level message first.
func (e FormErrors) Summary(order FieldOrder) []SummaryItem {
	var out []SummaryItem
	if msg, ok := e[""]; ok {
		out = append(out, SummaryItem{Text: msg})
	}
	seen := map[string]bool{"": true}
	for _, f := range order {
		if msg, ok := e[f.Name]; ok {
			out = append(out, SummaryItem{Href: "#" + FieldID(f.Name), Text: f.Label + ": " + msg})
			seen[f.Name] = true
		}
	}
	for name, msg := range e {
		if !seen[name] {
			out = append(out, SummaryItem{Href: "#" + FieldID(name), Text: msg})
		}
	}
	return out
}

// FieldID is the HTML id of a form field.
func FieldID(name string) string { return "field-" + name }

// ErrorID is the HTML id of a field's error message.
func ErrorID(name string) string { return "error-" + name }

// HintID is the HTML id of a field's hint.
func HintID(name string) string { return "hint-" + name }

// Field describes one input.
type Field struct {
	Name         string
	Label        string
	Type         string // "text", "email", "password", ...
	Value        string
	Hint         string
	Error        string
	Autocomplete string
	Required     bool
	Autofocus    bool
}

// DescribedBy returns the aria-describedby value for the field.
func (f Field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, HintID(f.Name))
	}
	if f.Error != "" {
		ids = append(ids, ErrorID(f.Name))
	}
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += " "
		}
		s += id
	}
	return s
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// SelectField describes a select input.
type SelectField struct {
	Name    string
	Label   string
	Options []Option
	Hint    string
	Error   string
}

// AsField returns the parts of a select shared with inputs.
func (s SelectField) AsField() Field {
	return Field{Name: s.Name, Label: s.Label, Hint: s.Hint, Error: s.Error}
}
