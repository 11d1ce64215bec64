package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// ConfigurationInput is the configuration form as the user typed it. Every
// value stays a string, so that a form re-rendered with its problems shows
// exactly what was entered.
type ConfigurationInput struct {
	Name          string
	AgentID       string
	Enabled       bool
	Retention     string // "0" (indefinitely), "30", "60"
	MissedAction  string // "1" as soon as possible, "2" at the next scheduled time
	NotifyEmails  string
	NotifySuccess bool
	NotifyFailure bool
	Frequency     string // Manually, Hourly, Daily, Weekly
	HourInterval  string // Hourly: 1–23
	StartTime     string // Daily/Weekly: "HH:MM", 24-hour clock
	Weekday       string // Weekly: "0" (Sunday) … "6"
	TimeZone      string // Windows zone id (rcbu.TimeZones)
	Inclusions    []PathInput
	Exclusions    []PathInput
}

// PathInput is one inclusion or exclusion row: a path and whether it is a
// file or a folder.
type PathInput struct {
	Path string
	Type string // "File" or "Folder"
}

// Form field names of the configuration form. Validation messages are keyed
// by them; path rows use PathField.
const (
	FieldName          = "name"
	FieldAgent         = "agent"
	FieldRetention     = "retention"
	FieldMissedAction  = "missed_action"
	FieldNotifyEmails  = "notify_emails"
	FieldFrequency     = "frequency"
	FieldHourInterval  = "hour_interval"
	FieldStartTime     = "start_time"
	FieldWeekday       = "weekday"
	FieldTimeZone      = "time_zone"
	FieldInclusions    = "inclusions"
	FieldExclusions    = "exclusions"
	FieldInclusionPath = "inclusion_path"
	FieldExclusionPath = "exclusion_path"
)

// PathField names the row i of list (FieldInclusions or FieldExclusions) for
// validation messages: "inclusions-2".
func PathField(list string, i int) string { return list + "-" + strconv.Itoa(i) }

// Retention choices, as the form offers them.
var retentionLabels = map[int]string{30: "30 days", 60: "60 days", 0: "Indefinitely"}

// RetentionLabel says how long a configuration keeps deleted or changed files.
func RetentionLabel(days int) string {
	if l, ok := retentionLabels[days]; ok {
		return l
	}
	return strconv.Itoa(days) + " days"
}

// MissedActionLabel says what happens when a scheduled backup is missed.
func MissedActionLabel(id int) string {
	switch id {
	case 1:
		return "Notify as soon as possible"
	case 2:
		return "Notify at the next scheduled time"
	default:
		return "Unknown (" + strconv.Itoa(id) + ")"
	}
}

// DefaultConfigurationInput is the create form's starting point: daily at
// 02:00 UTC, 30 days, notify on failure.
func DefaultConfigurationInput() ConfigurationInput {
	return ConfigurationInput{
		Enabled:       true,
		Retention:     "30",
		MissedAction:  "1",
		NotifyFailure: true,
		Frequency:     string(rcbu.FrequencyDaily),
		HourInterval:  "6",
		StartTime:     "02:00",
		Weekday:       "0",
		TimeZone:      "UTC",
	}
}

// InputFromRequest fills the form from an existing request (editing,
// cloning, importing).
func InputFromRequest(r *rcbu.ConfigurationRequest) ConfigurationInput {
	in := ConfigurationInput{
		Name:          r.Name,
		Enabled:       r.IsActive,
		Retention:     strconv.Itoa(r.VersionRetention),
		MissedAction:  strconv.Itoa(r.MissedBackupActionID),
		NotifyEmails:  r.NotifyRecipients,
		NotifySuccess: r.NotifySuccess,
		NotifyFailure: r.NotifyFailure,
		Frequency:     string(r.Schedule.Frequency),
		HourInterval:  "6",
		StartTime:     fmt.Sprintf("%02d:%02d", r.Schedule.Hour, r.Schedule.Minute),
		Weekday:       strconv.Itoa(int(r.Schedule.Weekday)),
		TimeZone:      r.Schedule.TimeZone,
	}
	if r.AgentID != 0 {
		in.AgentID = strconv.FormatInt(int64(r.AgentID), 10)
	}
	if r.Schedule.Frequency == rcbu.FrequencyHourly {
		in.HourInterval = strconv.Itoa(r.Schedule.HourInterval)
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	for _, p := range r.Inclusions {
		in.Inclusions = append(in.Inclusions, PathInput{Path: p.FilePath, Type: string(p.FileItemType)})
	}
	for _, p := range r.Exclusions {
		in.Exclusions = append(in.Exclusions, PathInput{Path: p.FilePath, Type: string(p.FileItemType)})
	}
	return in
}

// maxPathRows bounds the path rows one form may carry.
const maxPathRows = 200

var hhmm = regexp.MustCompile(`^([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$`)

// Schedule parses the schedule part of the form. The messages are keyed by
// form field.
func (in ConfigurationInput) Schedule() (rcbu.Schedule, error) {
	v := validation{}
	s := in.schedule(v)
	return s, v.err()
}

func (in ConfigurationInput) schedule(v validation) rcbu.Schedule {
	var s rcbu.Schedule
	freq := rcbu.Frequency(strings.TrimSpace(in.Frequency))
	if !freq.Valid() {
		v.add(FieldFrequency, "Choose how often the backup runs.")
		return s
	}
	s.Frequency = freq
	s.TimeZone = strings.TrimSpace(in.TimeZone)
	if s.TimeZone != "" && !slices.ContainsFunc(rcbu.TimeZones(), func(z rcbu.TimeZone) bool { return z.ID == s.TimeZone }) {
		v.add(FieldTimeZone, "Choose a time zone from the list.")
	}
	switch freq {
	case rcbu.FrequencyHourly:
		n, err := strconv.Atoi(strings.TrimSpace(in.HourInterval))
		if err != nil || n < 1 || n > 23 {
			v.add(FieldHourInterval, "Enter a whole number of hours from 1 to 23.")
		}
		s.HourInterval = n
	case rcbu.FrequencyDaily, rcbu.FrequencyWeekly:
		m := hhmm.FindStringSubmatch(strings.TrimSpace(in.StartTime))
		if m == nil {
			v.add(FieldStartTime, "Enter a time of day such as 02:30 (24-hour clock).")
		} else {
			s.Hour, _ = strconv.Atoi(m[1])
			s.Minute, _ = strconv.Atoi(m[2])
		}
		if freq == rcbu.FrequencyWeekly {
			d, err := strconv.Atoi(strings.TrimSpace(in.Weekday))
			if err != nil || d < 0 || d > 6 {
				v.add(FieldWeekday, "Choose a day of the week.")
			}
			s.Weekday = time.Weekday(d)
		}
	}
	if freq != rcbu.FrequencyManually && s.TimeZone == "" {
		v.add(FieldTimeZone, "Choose the time zone the schedule runs in.")
	}
	// The client's own schedule rules, for anything the parsing above let by.
	var rv *rcbu.ValidationError
	if err := s.Validate(); errors.As(err, &rv) {
		for k, msg := range rv.Fields {
			v.add(formField(k), sentence(msg))
		}
	}
	return s
}

// Request turns the form into a request for the API: the form's own parsing,
// then the client's rules (rcbu.ConfigurationRequest.Validate) mapped to the
// form's fields, then the console's rules (at least one path; an exclusion
// lies inside an included folder). The error is a *ValidationError keyed by
// form field.
func (in ConfigurationInput) Request() (*rcbu.ConfigurationRequest, error) {
	v := validation{}
	r := &rcbu.ConfigurationRequest{
		Name:             strings.TrimSpace(in.Name),
		IsActive:         in.Enabled,
		NotifyRecipients: strings.TrimSpace(in.NotifyEmails),
		NotifySuccess:    in.NotifySuccess,
		NotifyFailure:    in.NotifyFailure,
	}
	if r.Name == "" {
		v.add(FieldName, "Enter a name for this configuration.")
	}
	if id, err := strconv.ParseInt(strings.TrimSpace(in.AgentID), 10, 64); err != nil || id <= 0 {
		v.add(FieldAgent, "Choose the agent to back up.")
	} else {
		r.AgentID = rcbu.AgentID(id)
	}
	switch strings.TrimSpace(in.Retention) {
	case "0", "30", "60":
		r.VersionRetention, _ = strconv.Atoi(strings.TrimSpace(in.Retention))
	default:
		v.add(FieldRetention, "Choose 30 days, 60 days or indefinitely.")
	}
	switch strings.TrimSpace(in.MissedAction) {
	case "1", "2":
		r.MissedBackupActionID, _ = strconv.Atoi(strings.TrimSpace(in.MissedAction))
	default:
		v.add(FieldMissedAction, "Choose when to be told about a missed backup.")
	}
	r.Schedule = in.schedule(v)
	r.Inclusions = pathItems(v, FieldInclusions, in.Inclusions)
	r.Exclusions = pathItems(v, FieldExclusions, in.Exclusions)

	var rv *rcbu.ValidationError
	if err := r.Validate(); errors.As(err, &rv) {
		for k, msg := range rv.Fields {
			v.add(formField(k), sentence(msg))
		}
	}
	consoleRules(v, r)
	if err := v.err(); err != nil {
		return nil, err
	}
	return r, nil
}

// pathItems keeps the rows with a path; a row left empty is how a path is
// removed without JavaScript.
func pathItems(v validation, list string, rows []PathInput) []rcbu.PathItem {
	var out []rcbu.PathItem
	for _, row := range rows {
		p := strings.TrimSpace(row.Path)
		if p == "" {
			continue
		}
		i := len(out)
		if i >= maxPathRows {
			v.add(list, fmt.Sprintf("Use at most %d paths.", maxPathRows))
			break
		}
		t := rcbu.FileItemType(row.Type)
		if t != rcbu.ItemFile && t != rcbu.ItemFolder {
			v.add(PathField(list, i), "Choose File or Folder.")
		}
		out = append(out, rcbu.PathItem{FilePath: p, FileItemType: t})
	}
	return out
}

// consoleRules are the console's own rules on top of the API's: something to
// back up, and exclusions that lie inside an included folder (the API's
// getting-started guide asks for it; the service silently ignores others).
func consoleRules(v validation, r *rcbu.ConfigurationRequest) {
	if len(r.Inclusions) == 0 {
		v.add(FieldInclusions, "Add at least one file or folder to back up.")
		return
	}
	for i, ex := range r.Exclusions {
		inside := slices.ContainsFunc(r.Inclusions, func(in rcbu.PathItem) bool {
			return in.FileItemType == rcbu.ItemFolder && pathWithin(ex.FilePath, in.FilePath)
		})
		if !inside {
			v.add(PathField(FieldExclusions, i), "An exclusion must lie inside an included folder.")
		}
	}
}

// pathWithin reports whether p lies strictly inside folder dir. Windows
// paths (a drive letter or a UNC prefix) compare case-insensitively.
func pathWithin(p, dir string) bool {
	win := strings.Contains(dir, `\`) || (len(dir) >= 2 && dir[1] == ':')
	sep := "/"
	if win {
		sep = `\`
		p, dir = strings.ToLower(strings.ReplaceAll(p, "/", `\`)), strings.ToLower(strings.ReplaceAll(dir, "/", `\`))
	}
	dir = strings.TrimRight(dir, sep)
	return strings.HasPrefix(p, dir+sep) && len(strings.TrimRight(p, sep)) > len(dir)
}

// formField maps a client validation key (an API field name) to the form
// field that shows its message.
func formField(apiKey string) string {
	if list, i, ok := indexedKey(apiKey); ok {
		switch list {
		case "Inclusions":
			return PathField(FieldInclusions, i)
		case "Exclusions":
			return PathField(FieldExclusions, i)
		}
	}
	switch apiKey {
	case "MachineAgentId":
		return FieldAgent
	case "BackupConfigurationName":
		return FieldName
	case "VersionRetention":
		return FieldRetention
	case "MissedBackupActionId":
		return FieldMissedAction
	case "Frequency":
		return FieldFrequency
	case "HourInterval":
		return FieldHourInterval
	case "StartTimeHour", "StartTimeMinute", "StartTimeAmPm":
		return FieldStartTime
	case "DayOfWeekId":
		return FieldWeekday
	case "TimeZoneId":
		return FieldTimeZone
	case "NotifyRecipients":
		return FieldNotifyEmails
	}
	return ""
}

// indexedKey splits "Inclusions[3]" into ("Inclusions", 3).
func indexedKey(k string) (string, int, bool) {
	open := strings.IndexByte(k, '[')
	if open < 0 || !strings.HasSuffix(k, "]") {
		return "", 0, false
	}
	i, err := strconv.Atoi(k[open+1 : len(k)-1])
	if err != nil {
		return "", 0, false
	}
	return k[:open], i, true
}

// sentence turns a client message fragment ("is required") into a sentence.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return "This value is not valid."
	}
	if strings.HasPrefix(msg, "is ") || strings.HasPrefix(msg, "must ") {
		msg = "This " + msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// SchedulePreview describes the schedule of a form in words ("Every Tuesday
// at 02:30 Eastern Standard Time") and its next run after now; the error
// lists what is missing, keyed by form field.
func SchedulePreview(in ConfigurationInput, now time.Time) (words string, next time.Time, err error) {
	s, err := in.Schedule()
	if err != nil {
		return "", time.Time{}, err
	}
	return s.String(), s.Next(now), nil
}

// Audit actions of configurations.
const (
	ActionConfigurationCreate  AuditAction = "configuration.create"
	ActionConfigurationUpdate  AuditAction = "configuration.update"
	ActionConfigurationEnable  AuditAction = "configuration.enable"
	ActionConfigurationDisable AuditAction = "configuration.disable"
	ActionConfigurationDelete  AuditAction = "configuration.delete"
	ActionConfigurationClone   AuditAction = "configuration.clone"
	ActionConfigurationImport  AuditAction = "configuration.import"
)

// Configurations carries the rules of backup configurations: listing and
// filtering, the detail page's data, and every change (create, edit,
// enable/disable, delete, clone, import), each checked against the actor's
// role, recorded in the audit log, and followed by Fleet.Invalidate.
type Configurations struct {
	fleet   *Fleet
	audit   *Audit
	overdue OverduePolicy
	now     func() time.Time
}

// NewConfigurations returns the configurations service; overdue decides
// which configurations the list flags as overdue.
func NewConfigurations(fleet *Fleet, audit *Audit, overdue OverduePolicy, now func() time.Time) *Configurations {
	return &Configurations{fleet: fleet, audit: audit, overdue: overdue, now: now}
}

// ConfigFilter selects configurations in the list. Zero fields do not
// filter.
type ConfigFilter struct {
	Q         string // substring of the name, the agent's name or a path (case-insensitive)
	AgentID   rcbu.AgentID
	Enabled   *bool
	Frequency rcbu.Frequency
	Sort      string // one of ConfigSorts; "" sorts by agent, then name
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
	f.Q = get("q")
	if r := []rune(f.Q); len(r) > 200 {
		f.Q = string(r[:200])
		notes = append(notes, "The search was cut to its first 200 characters.")
	}
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

// List returns the configurations of the scope that pass f, ordered by
// agent and name, with their last run and overdue verdict.
func (s *Configurations) List(ctx context.Context, scope Scope, f ConfigFilter) (ConfigList, error) {
	var (
		cfgs             []FleetConfiguration
		agents           []FleetAgent
		acts             []FleetActivity
		p1, p2, p3       []AccountProblem
		err1, err2, err3 error
		wg               sync.WaitGroup
	)
	wg.Add(3)
	go func() { defer wg.Done(); cfgs, p1, err1 = s.fleet.Configurations(ctx, scope) }()
	go func() { defer wg.Done(); agents, p2, err2 = s.fleet.Agents(ctx, scope) }()
	go func() { defer wg.Done(); acts, p3, err3 = s.fleet.Activity(ctx, scope) }()
	wg.Wait()
	if err := errors.Join(err1, err2, err3); err != nil {
		return ConfigList{}, fmt.Errorf("list configurations: %w", err)
	}
	// Without the activity the configurations still show, but their last
	// runs are unknown: that is said in the account's banner too.
	for i := range p3 {
		p3[i].Message = "Their last runs are unknown: " + p3[i].Message
	}
	out := ConfigList{Total: len(cfgs), Agents: agents, Problems: mergeProblems(p1, p2, p3)}
	byConfig := map[rcbu.ConfigurationID][]rcbu.Activity{}
	for _, a := range acts {
		if a.Activity.Type == rcbu.ActivityBackup {
			byConfig[a.Activity.ConfigurationID] = append(byConfig[a.Activity.ConfigurationID], a.Activity)
		}
	}
	now := s.now()
	for _, fc := range cfgs {
		c := fc.Configuration
		if c.IsDeleted || !f.matches(c) {
			continue
		}
		it := ConfigItem{FleetConfiguration: fc, Schedule: scheduleWords(c)}
		runs := byConfig[c.ID]
		for i := range runs {
			if it.Last == nil || runs[i].TimeOfActivity.After(it.Last.TimeOfActivity.Time) {
				it.Last = &runs[i]
			}
		}
		it.Overdue = s.overdue.Check(c, LastSuccess(c, runs), now)
		out.Items = append(out.Items, it)
	}
	sortItems(out.Items, f.Sort)
	return out, nil
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

func mergeProblems(lists ...[]AccountProblem) []AccountProblem {
	var out []AccountProblem
	seen := map[AccountID]bool{}
	for _, l := range lists {
		for _, p := range l {
			if !seen[p.AccountID] {
				seen[p.AccountID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// scheduleWords describes a configuration's schedule in words.
func scheduleWords(c rcbu.Configuration) string {
	s, err := c.Schedule()
	if err != nil {
		return "Unreadable schedule (" + string(c.Frequency) + ")"
	}
	return s.String()
}

// ConfigRun is one recent run of a configuration.
type ConfigRun struct {
	BackupID   rcbu.BackupID
	State      string
	When       time.Time
	Bytes      int64 // -1 when unknown
	Errors     int64 // -1 when unknown
	Restorable bool
}

// ConfigDetail is what the configuration page shows.
type ConfigDetail struct {
	FleetConfiguration
	Agent       FleetAgent
	Schedule    string
	Overdue     Overdue
	Runs        []ConfigRun // newest first
	RunsProblem string      // why the runs could not be read, in words
}

// maxRuns bounds the runs the detail page lists.
const maxRuns = 15

// Get returns one configuration of the scope with its agent and its last
// runs (restorable backups merged with the agent's activity). A failure to
// read the runs leaves RunsProblem set; the page still shows.
func (s *Configurations) Get(ctx context.Context, scope Scope, id rcbu.ConfigurationID) (ConfigDetail, error) {
	fc, cl, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		return ConfigDetail{}, fmt.Errorf("get configuration %d: %w", id, err)
	}
	c := fc.Configuration
	d := ConfigDetail{FleetConfiguration: fc, Schedule: scheduleWords(c)}
	var (
		completed  []rcbu.CompletedBackup
		acts       []rcbu.Activity
		errC, errA error
		wg         sync.WaitGroup
	)
	wg.Add(3)
	go func() { defer wg.Done(); completed, errC = cl.Backups.ListCompleted(ctx, id) }()
	go func() { defer wg.Done(); acts, errA = cl.Activity.ListForAgent(ctx, c.AgentID) }()
	go func() {
		defer wg.Done()
		ag, _, err := s.fleet.Agent(ctx, NewScope(mustAccount(scope, fc.AccountID)), c.AgentID)
		if err != nil {
			ag = FleetAgent{AccountID: fc.AccountID, AccountName: fc.AccountName, Agent: rcbu.Agent{ID: c.AgentID, MachineName: c.MachineName, IsEncrypted: c.IsEncrypted}}
		}
		d.Agent = ag
	}()
	wg.Wait()
	if err := cmpErr(errC, errA); err != nil {
		d.RunsProblem = Problem(err, "configuration")
	}
	byID := map[rcbu.BackupID]*ConfigRun{}
	for _, a := range acts {
		if a.Type != rcbu.ActivityBackup || a.ConfigurationID != id {
			continue
		}
		bid := a.BackupID
		if bid == 0 {
			bid = rcbu.BackupID(a.ID)
		}
		d.Runs = append(d.Runs, ConfigRun{BackupID: bid, State: a.CurrentState, When: a.TimeOfActivity.Time, Bytes: -1, Errors: -1})
	}
	for i := range d.Runs {
		byID[d.Runs[i].BackupID] = &d.Runs[i]
	}
	for _, b := range completed {
		if r, ok := byID[b.ID]; ok {
			r.Bytes, r.Errors, r.Restorable = b.BytesSearched.Bytes, b.NumErrors, true
			continue
		}
		d.Runs = append(d.Runs, ConfigRun{BackupID: b.ID, State: string(rcbu.BackupCompleted), When: b.CompletedTime.Time, Bytes: b.BytesSearched.Bytes, Errors: b.NumErrors, Restorable: true})
	}
	slices.SortFunc(d.Runs, func(a, b ConfigRun) int { return b.When.Compare(a.When) })
	if len(d.Runs) > maxRuns {
		d.Runs = d.Runs[:maxRuns]
	}
	d.Overdue = s.overdue.Check(c, LastSuccess(c, acts), s.now())
	return d, nil
}

func cmpErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// mustAccount returns the scope's account with that id; Fleet only returns
// objects of the scope's accounts, so it is there.
func mustAccount(scope Scope, id AccountID) Account {
	a, _ := scope.Account(id)
	return a
}

// configTarget names a configuration in the audit log.
func configTarget(id rcbu.ConfigurationID, name, agent string) string {
	if agent == "" {
		return fmt.Sprintf("configuration %d (%s)", id, name)
	}
	return fmt.Sprintf("configuration %d (%s) on %s", id, name, agent)
}

// EditableAgents returns the agents of the scope that configurations can be
// created on, for the form's select, ordered by name.
func (s *Configurations) EditableAgents(ctx context.Context, scope Scope) ([]FleetAgent, []AccountProblem, error) {
	agents, problems, err := s.fleet.Agents(ctx, scope)
	if err != nil {
		return nil, nil, fmt.Errorf("list agents: %w", err)
	}
	slices.SortStableFunc(agents, func(a, b FleetAgent) int {
		return strings.Compare(strings.ToLower(a.Agent.MachineName), strings.ToLower(b.Agent.MachineName))
	})
	return agents, problems, nil
}

// Create validates the form and creates the configuration on the chosen
// agent, which must belong to the scope. A duplicate name (409) is a
// message on the name field. Nothing is created when anything is wrong.
func (s *Configurations) Create(ctx context.Context, actor User, scope Scope, in ConfigurationInput) (FleetConfiguration, error) {
	return s.create(ctx, actor, scope, in, ActionConfigurationCreate, "")
}

func (s *Configurations) create(ctx context.Context, actor User, scope Scope, in ConfigurationInput, action AuditAction, detail string) (FleetConfiguration, error) {
	target := strings.TrimSpace(in.Name)
	fail := func(err error) (FleetConfiguration, error) {
		s.audit.Record(ctx, actorEntry(actor, action, "configuration "+strconv.Quote(target), err))
		return FleetConfiguration{}, fmt.Errorf("create configuration: %w", err)
	}
	if !actor.Role.Allows(RoleCreator) {
		return fail(ErrForbidden)
	}
	req, err := in.Request()
	if err != nil {
		return fail(err)
	}
	fa, cl, err := s.fleet.Agent(ctx, scope, req.AgentID)
	if errors.Is(err, ErrNotFound) {
		return fail(Invalid(FieldAgent, "Choose an agent from the list."))
	}
	if err != nil {
		return fail(err)
	}
	target += " on " + fa.Agent.MachineName
	c, err := cl.Configurations.Create(ctx, req)
	if err != nil {
		return fail(configUpstream("create configuration", err))
	}
	s.fleet.Invalidate(fa.AccountID)
	s.audit.Record(ctx, actorEntry(actor, action, configTarget(c.ID, c.Name, fa.Agent.MachineName), nil, detailOr(detail, scheduleWords(*c))))
	return FleetConfiguration{AccountID: fa.AccountID, AccountName: fa.AccountName, Configuration: *c}, nil
}

func detailOr(detail, fallback string) string {
	if detail != "" {
		return detail
	}
	return fallback
}

// configUpstream turns an API failure of a create or update into what the
// form shows: a duplicate name (409) and the API's own validation become
// field messages; anything else stays an *UpstreamError.
func configUpstream(op string, err error) error {
	var rv *rcbu.ValidationError
	switch {
	case errors.Is(err, rcbu.ErrConflict):
		return Invalid(FieldName, "A configuration with this name already exists on this agent. Choose another name.")
	case errors.As(err, &rv):
		v := validation{}
		for k, msg := range rv.Fields {
			v.add(formField(k), sentence(msg))
		}
		return v.err()
	}
	return upstream(op, "configuration", err)
}

// Update validates the form and replaces the configuration's settings. The
// agent cannot change: the form's agent is ignored.
func (s *Configurations) Update(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, in ConfigurationInput) (FleetConfiguration, error) {
	target := fmt.Sprintf("configuration %d", id)
	fail := func(err error) (FleetConfiguration, error) {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationUpdate, target, err))
		return FleetConfiguration{}, fmt.Errorf("update configuration %d: %w", id, err)
	}
	if !actor.Role.Allows(RoleCreator) {
		return fail(ErrForbidden)
	}
	fc, cl, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		return fail(err)
	}
	old := fc.Configuration
	target = configTarget(id, old.Name, old.MachineName)
	in.AgentID = strconv.FormatInt(int64(old.AgentID), 10)
	req, err := in.Request()
	if err != nil {
		return fail(err)
	}
	req.ScheduleID = old.ScheduleID
	if err := cl.Configurations.Update(ctx, id, req); err != nil {
		return fail(configUpstream("update configuration", err))
	}
	s.fleet.Invalidate(fc.AccountID)
	s.audit.Record(ctx, actorEntry(actor, ActionConfigurationUpdate, configTarget(id, req.Name, old.MachineName), nil, req.Schedule.String()))
	fc.Configuration.Name = req.Name
	return fc, nil
}

// SetEnabled enables or disables a configuration's schedule.
func (s *Configurations) SetEnabled(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, enable bool) (FleetConfiguration, error) {
	action := ActionConfigurationDisable
	if enable {
		action = ActionConfigurationEnable
	}
	target := fmt.Sprintf("configuration %d", id)
	fail := func(err error) (FleetConfiguration, error) {
		s.audit.Record(ctx, actorEntry(actor, action, target, err))
		verb := "disable"
		if enable {
			verb = "enable"
		}
		return FleetConfiguration{}, fmt.Errorf("%s configuration %d: %w", verb, id, err)
	}
	if !actor.Role.Allows(RoleCreator) {
		return fail(ErrForbidden)
	}
	fc, cl, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		return fail(err)
	}
	target = configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName)
	var c *rcbu.Configuration
	if enable {
		c, err = cl.Configurations.Enable(ctx, id)
	} else {
		c, err = cl.Configurations.Disable(ctx, id)
	}
	if err != nil {
		return fail(upstream("set configuration state", "configuration", err))
	}
	s.fleet.Invalidate(fc.AccountID)
	s.audit.Record(ctx, actorEntry(actor, action, target, nil))
	fc.Configuration = *c
	return fc, nil
}

// Delete deletes a configuration (Admin only). Its backups stay
// restorable until they expire.
func (s *Configurations) Delete(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID) (FleetConfiguration, error) {
	target := fmt.Sprintf("configuration %d", id)
	fail := func(err error) (FleetConfiguration, error) {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationDelete, target, err))
		return FleetConfiguration{}, fmt.Errorf("delete configuration %d: %w", id, err)
	}
	if !actor.Role.Allows(RoleAdmin) {
		return fail(ErrForbidden)
	}
	fc, cl, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		return fail(err)
	}
	target = configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName)
	if err := cl.Configurations.Delete(ctx, id); err != nil {
		return fail(upstream("delete configuration", "configuration", err))
	}
	s.fleet.Invalidate(fc.AccountID)
	s.audit.Record(ctx, actorEntry(actor, ActionConfigurationDelete, target, nil))
	return fc, nil
}

// CloneInput is the clone form: the agent to copy to and the new name.
type CloneInput struct {
	AgentID string
	Name    string
}

// Clone copies a configuration (schedule, retention, notifications, paths)
// to an agent of the scope under a new name.
func (s *Configurations) Clone(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, ci CloneInput) (FleetConfiguration, error) {
	if !actor.Role.Allows(RoleCreator) {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationClone, fmt.Sprintf("configuration %d", id), ErrForbidden))
		return FleetConfiguration{}, fmt.Errorf("clone configuration %d: %w", id, ErrForbidden)
	}
	fc, _, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationClone, fmt.Sprintf("configuration %d", id), err))
		return FleetConfiguration{}, fmt.Errorf("clone configuration %d: %w", id, err)
	}
	req, err := fc.Configuration.Request()
	if err != nil {
		err = Invalid("", "The configuration's schedule cannot be read, so it cannot be cloned: "+err.Error())
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationClone, configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName), err))
		return FleetConfiguration{}, fmt.Errorf("clone configuration %d: %w", id, err)
	}
	in := InputFromRequest(req)
	in.AgentID, in.Name = ci.AgentID, ci.Name
	return s.create(ctx, actor, scope, in, ActionConfigurationClone, "from "+configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName))
}

// Export returns a configuration as JSON in the request shape that Import
// (and rcbu.LoadConfigurationRequest) accepts, and a file name for it.
func (s *Configurations) Export(ctx context.Context, scope Scope, id rcbu.ConfigurationID) ([]byte, string, error) {
	fc, _, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		return nil, "", fmt.Errorf("export configuration %d: %w", id, err)
	}
	req, err := fc.Configuration.Request()
	if err != nil {
		return nil, "", fmt.Errorf("export configuration %d: %w", id, err)
	}
	b, err := json.MarshalIndent(req, "", "  ")
	if err != nil {
		return nil, "", fmt.Errorf("export configuration %d: %w", id, err)
	}
	return append(b, '\n'), fmt.Sprintf("configuration-%d.json", id), nil
}

// MaxImportBytes bounds an imported configuration (the API's own bound on
// an agent's configuration document).
const MaxImportBytes = 1 << 20

// Import reads a configuration from JSON and creates it on the chosen agent
// of the scope. Unreadable JSON is a message on the "json" field. When the
// JSON reads but its content breaks a rule, the error is a validation error
// and in is the content as a form, for the user to fix and save.
func (s *Configurations) Import(ctx context.Context, actor User, scope Scope, agentID string, data []byte) (fc FleetConfiguration, in ConfigurationInput, err error) {
	if !actor.Role.Allows(RoleCreator) {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationImport, "configuration", ErrForbidden))
		return FleetConfiguration{}, in, fmt.Errorf("import configuration: %w", ErrForbidden)
	}
	v := validation{}
	if id, perr := strconv.ParseInt(strings.TrimSpace(agentID), 10, 64); perr != nil || id <= 0 {
		v.add(FieldAgent, "Choose the agent to create the configuration on.")
	}
	var req *rcbu.ConfigurationRequest
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		v.add("json", "Choose a JSON file or paste the JSON.")
	case len(data) > MaxImportBytes:
		v.add("json", "The JSON is larger than 1 MiB.")
	default:
		r, lerr := rcbu.LoadConfigurationRequest(bytes.NewReader(data))
		if lerr != nil {
			v.add("json", "This is not a configuration in JSON: "+importProblem(lerr))
		} else {
			req = r
		}
	}
	if verr := v.err(); verr != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationImport, "configuration", verr))
		return FleetConfiguration{}, in, fmt.Errorf("import configuration: %w", verr)
	}
	in = InputFromRequest(req)
	in.AgentID = strings.TrimSpace(agentID)
	fc, err = s.create(ctx, actor, scope, in, ActionConfigurationImport, "imported from JSON")
	return fc, in, err
}

// importProblem shortens a JSON decoding error for people.
func importProblem(err error) string {
	msg := err.Error()
	for _, p := range []string{"rcbu: load configuration: ", "rcbu: configuration: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	if r := []rune(msg); len(r) > 200 {
		msg = string(r[:200]) + "…"
	}
	return msg + "."
}
