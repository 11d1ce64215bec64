package app

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
