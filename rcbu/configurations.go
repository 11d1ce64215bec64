package rcbu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// PathItem is a path included in or excluded from a backup configuration.
// Requests need only FilePath and FileItemType.
type PathItem struct {
	FilePath        string       `json:"FilePath"`
	FileItemType    FileItemType `json:"FileItemType"`
	FileID          int64        `json:"FileId,omitempty"`
	ParentID        int64        `json:"ParentId,omitempty"`
	Filter          string       `json:"Filter,omitempty"` // "Include" | "Exclude" in responses
	FilePathEncoded *string      `json:"FilePathEncoded,omitempty"`
}

// Configuration is a backup configuration (§5.1).
type Configuration struct {
	ID                   ConfigurationID `json:"BackupConfigurationId"`
	Name                 string          `json:"BackupConfigurationName"`
	AgentID              AgentID         `json:"MachineAgentId"`
	MachineName          string          `json:"MachineName"`
	Flavor               string          `json:"Flavor"`
	Datacenter           string          `json:"Datacenter"`
	IsActive             bool            `json:"IsActive"`
	IsDeleted            bool            `json:"IsDeleted"`
	IsEncrypted          bool            `json:"IsEncrypted"`
	EncryptionKey        *PublicKey      `json:"EncryptionKey"`
	VersionRetention     int             `json:"VersionRetention"`
	ScheduleID           int64           `json:"BackupConfigurationScheduleId"`
	MissedBackupActionID int             `json:"MissedBackupActionId"`
	Frequency            Frequency       `json:"Frequency"`
	StartTimeHour        *int            `json:"StartTimeHour"`   // 1–12
	StartTimeMinute      *int            `json:"StartTimeMinute"` // 0–59
	StartTimeAmPm        *string         `json:"StartTimeAmPm"`   // "AM" | "PM" | ""
	DayOfWeekID          *int            `json:"DayOfWeekId"`     // 0 = Sunday
	HourInterval         *int            `json:"HourInterval"`
	TimeZoneID           string          `json:"TimeZoneId"` // Windows zone id
	NextScheduledRunTime MSDate          `json:"NextScheduledRunTime"`
	LastRunTime          MSDate          `json:"LastRunTime"`
	LastRunBackupID      *BackupID       `json:"LastRunBackupReportId"`
	BackupState          string          `json:"BackupState,omitempty"`
	NotifyRecipients     string          `json:"NotifyRecipients"`
	NotifySuccess        bool            `json:"NotifySuccess"`
	NotifyFailure        bool            `json:"NotifyFailure"`
	BackupPrescript      string          `json:"BackupPrescript"`
	BackupPostscript     string          `json:"BackupPostscript"`
	Inclusions           []PathItem      `json:"Inclusions"`
	Exclusions           []PathItem      `json:"Exclusions"`

	// Region is the catalog region of the endpoint that returned it.
	Region string `json:"-"`
}

// UnmarshalJSON decodes a configuration, accepting string booleans.
func (c *Configuration) UnmarshalJSON(b []byte) error {
	type alias Configuration
	aux := struct {
		*alias
		IsActive      flexBool `json:"IsActive"`
		IsDeleted     flexBool `json:"IsDeleted"`
		IsEncrypted   flexBool `json:"IsEncrypted"`
		NotifySuccess flexBool `json:"NotifySuccess"`
		NotifyFailure flexBool `json:"NotifyFailure"`
	}{alias: (*alias)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	c.IsActive, c.IsDeleted, c.IsEncrypted = bool(aux.IsActive), bool(aux.IsDeleted), bool(aux.IsEncrypted)
	c.NotifySuccess, c.NotifyFailure = bool(aux.NotifySuccess), bool(aux.NotifyFailure)
	return nil
}

// Enabled reports whether the configuration is active (runs on schedule).
func (c *Configuration) Enabled() bool { return c.IsActive && !c.IsDeleted }

// Schedule converts the API's schedule fields into a Schedule.
func (c *Configuration) Schedule() (Schedule, error) {
	return scheduleFromAPI(c.Frequency, c.StartTimeHour, c.StartTimeMinute, c.StartTimeAmPm, c.DayOfWeekID, c.HourInterval, c.TimeZoneID)
}

// NextRun returns the service's next scheduled run, and false when there
// is none (manual schedules report null or .NET's MinValue).
func (c *Configuration) NextRun() (time.Time, bool) {
	if !c.NextScheduledRunTime.Valid() {
		return time.Time{}, false
	}
	return c.NextScheduledRunTime.Time, true
}

// NotifyEmails splits NotifyRecipients into addresses (separated by commas,
// semicolons or spaces).
func (c *Configuration) NotifyEmails() []string { return splitEmails(c.NotifyRecipients) }

func splitEmails(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' })
	if len(f) == 0 {
		return nil
	}
	return f
}

// Request returns a ConfigurationRequest holding c's editable fields, to be
// changed and passed to Update.
func (c *Configuration) Request() (*ConfigurationRequest, error) {
	s, err := c.Schedule()
	if err != nil {
		return nil, err
	}
	r := &ConfigurationRequest{
		AgentID:              c.AgentID,
		Name:                 c.Name,
		IsActive:             c.IsActive,
		VersionRetention:     c.VersionRetention,
		MissedBackupActionID: c.MissedBackupActionID,
		Schedule:             s,
		NotifyRecipients:     c.NotifyRecipients,
		NotifySuccess:        c.NotifySuccess,
		NotifyFailure:        c.NotifyFailure,
		ScheduleID:           c.ScheduleID,
	}
	for _, p := range c.Inclusions {
		r.Inclusions = append(r.Inclusions, PathItem{FilePath: p.FilePath, FileItemType: p.FileItemType})
	}
	for _, p := range c.Exclusions {
		r.Exclusions = append(r.Exclusions, PathItem{FilePath: p.FilePath, FileItemType: p.FileItemType})
	}
	return r, nil
}

// ConfigurationRequest is the body of Create and Update (§5.6, §5.7).
type ConfigurationRequest struct {
	AgentID              AgentID
	Name                 string
	IsActive             bool
	VersionRetention     int // 0 (keep forever), 30 or 60 days
	MissedBackupActionID int // 1 notify as soon as possible, 2 at the next scheduled time
	Schedule             Schedule
	NotifyRecipients     string
	NotifySuccess        bool
	NotifyFailure        bool
	Inclusions           []PathItem
	Exclusions           []PathItem
	ScheduleID           int64 // optional on Update
}

// maxConfigurationNameLen bounds configuration names; the API stores them
// in a column whose exact width is undocumented, so the client uses a
// conservative 255.
const maxConfigurationNameLen = 255

// Validate applies the API's rules before a request is sent: name
// required (≤ 255 characters), retention 0/30/60, missed action 1/2, the
// schedule matrix, absolute paths of type File or Folder, no path both
// included and excluded, well-formed notification addresses when
// notifications are on. The error is a *ValidationError keyed by API field.
func (r *ConfigurationRequest) Validate() error {
	v := &ValidationError{Op: "invalid backup configuration"}
	if r.AgentID <= 0 {
		v.add("MachineAgentId", "is required")
	}
	name := strings.TrimSpace(r.Name)
	switch {
	case name == "":
		v.add("BackupConfigurationName", "is required")
	case len([]rune(r.Name)) > maxConfigurationNameLen:
		v.add("BackupConfigurationName", "must be at most 255 characters")
	}
	switch r.VersionRetention {
	case 0, 30, 60:
	default:
		v.add("VersionRetention", "must be 0 (keep forever), 30 or 60 days")
	}
	switch r.MissedBackupActionID {
	case 1, 2:
	default:
		v.add("MissedBackupActionId", "must be 1 (notify as soon as possible) or 2 (at the next scheduled time)")
	}
	r.Schedule.validate(v)
	seen := map[string]bool{}
	for i, p := range r.Inclusions {
		validatePath(v, "Inclusions", i, p)
		seen[normPath(p.FilePath)] = true
	}
	for i, p := range r.Exclusions {
		validatePath(v, "Exclusions", i, p)
		if seen[normPath(p.FilePath)] {
			v.add(fmt.Sprintf("Exclusions[%d]", i), fmt.Sprintf("%.200q is also included", p.FilePath))
		}
	}
	if r.NotifySuccess || r.NotifyFailure {
		emails := splitEmails(r.NotifyRecipients)
		if len(emails) == 0 {
			v.add("NotifyRecipients", "an e-mail address is required when notifications are on")
		}
		for _, e := range emails {
			if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
				v.add("NotifyRecipients", fmt.Sprintf("%.100q is not an e-mail address", e))
				break
			}
		}
	}
	return v.orNil()
}

func validatePath(v *ValidationError, list string, i int, p PathItem) {
	field := fmt.Sprintf("%s[%d]", list, i)
	if !isAbsPath(p.FilePath) {
		v.add(field, fmt.Sprintf("%.200q is not an absolute path", p.FilePath))
	}
	if p.FileItemType != ItemFile && p.FileItemType != ItemFolder {
		v.add(field, fmt.Sprintf("FileItemType must be File or Folder, not %.20q", string(p.FileItemType)))
	}
}

// isAbsPath accepts Linux ("/home") and Windows ("C:\dir", `\\server\share`)
// absolute paths, whatever the client's own OS.
func isAbsPath(p string) bool {
	if strings.ContainsRune(p, 0) {
		return false
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && (p[0]|0x20) >= 'a' && (p[0]|0x20) <= 'z' && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

func normPath(p string) string {
	p = strings.TrimRight(p, `/\`)
	if len(p) >= 2 && p[1] == ':' { // Windows paths are case-insensitive
		return strings.ToLower(p)
	}
	return p
}

// configurationWire is the JSON body of Create and Update: every key the
// API lists as required, null where not applicable.
type configurationWire struct {
	AgentID              AgentID `json:"MachineAgentId"`
	Name                 string  `json:"BackupConfigurationName"`
	IsActive             bool    `json:"IsActive"`
	VersionRetention     int     `json:"VersionRetention"`
	MissedBackupActionID int     `json:"MissedBackupActionId"`
	ScheduleID           *int64  `json:"BackupConfigurationScheduleId,omitempty"`
	apiSchedule
	NotifyRecipients string     `json:"NotifyRecipients"`
	NotifySuccess    bool       `json:"NotifySuccess"`
	NotifyFailure    bool       `json:"NotifyFailure"`
	Inclusions       []PathItem `json:"Inclusions"`
	Exclusions       []PathItem `json:"Exclusions"`
}

// MarshalJSON encodes the request in the API's shape (12-hour start time,
// nulls for unused schedule fields, empty path lists as []).
func (r ConfigurationRequest) MarshalJSON() ([]byte, error) {
	w := configurationWire{
		AgentID:              r.AgentID,
		Name:                 r.Name,
		IsActive:             r.IsActive,
		VersionRetention:     r.VersionRetention,
		MissedBackupActionID: r.MissedBackupActionID,
		apiSchedule:          r.Schedule.toAPI(),
		NotifyRecipients:     r.NotifyRecipients,
		NotifySuccess:        r.NotifySuccess,
		NotifyFailure:        r.NotifyFailure,
		Inclusions:           pathsForRequest(r.Inclusions),
		Exclusions:           pathsForRequest(r.Exclusions),
	}
	if r.ScheduleID != 0 {
		w.ScheduleID = &r.ScheduleID
	}
	return json.Marshal(w)
}

func pathsForRequest(ps []PathItem) []PathItem {
	out := make([]PathItem, len(ps))
	for i, p := range ps {
		out[i] = PathItem{FilePath: p.FilePath, FileItemType: p.FileItemType}
	}
	return out
}

// UnmarshalJSON reads a request in the API's shape or the field names of
// this package (see LoadConfigurationRequest).
func (r *ConfigurationRequest) UnmarshalJSON(b []byte) error {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("rcbu: configuration: %w", err)
	}
	got, err := ConfigurationRequestFromMap(m)
	if err != nil {
		return err
	}
	*r = *got
	return nil
}

// maxConfigurationFile bounds LoadConfigurationRequest's input.
const maxConfigurationFile = 1 << 20

// LoadConfigurationRequest reads a configuration request from JSON (the
// seed's update_from_file), as ConfigurationRequestFromMap does. The input
// is limited to 1 MiB, the API's own bound on an agent's configuration.
func LoadConfigurationRequest(rd io.Reader) (*ConfigurationRequest, error) {
	b, err := io.ReadAll(io.LimitReader(rd, maxConfigurationFile+1))
	if err != nil {
		return nil, fmt.Errorf("rcbu: load configuration: %w", err)
	}
	if len(b) > maxConfigurationFile {
		return nil, fmt.Errorf("rcbu: load configuration: larger than 1 MiB")
	}
	var r ConfigurationRequest
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("rcbu: load configuration: %w", err)
	}
	return &r, nil
}

// ConfigurationRequestFromMap builds a request from a map (the seed's
// update_from_dict). Keys may use the API's names (BackupConfigurationName,
// MachineAgentId, StartTimeHour+StartTimeAmPm, DayOfWeekId, TimeZoneId, …)
// or this package's (Name, AgentID, Hour on a 24-hour clock, Weekday,
// TimeZone, …), case-insensitively; Inclusions and Exclusions may be path
// objects or bare paths (a trailing separator marks a folder). Unknown keys
// are ignored. IsActive defaults to true and MissedBackupActionId to 1. The
// result is not validated; call Validate.
func ConfigurationRequestFromMap(m map[string]any) (*ConfigurationRequest, error) {
	get := func(names ...string) (any, bool) {
		for _, n := range names {
			for k, v := range m {
				if strings.EqualFold(k, n) && v != nil {
					return v, true
				}
			}
		}
		return nil, false
	}
	var errs []string
	intOf := func(field string, names ...string) (int64, bool) {
		v, ok := get(names...)
		if !ok {
			return 0, false
		}
		n, err := anyInt(v)
		if err != nil {
			errs = append(errs, field+": "+err.Error())
			return 0, false
		}
		return n, true
	}
	strOf := func(names ...string) string {
		v, ok := get(names...)
		if !ok {
			return ""
		}
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	boolOf := func(field string, names ...string) bool {
		v, ok := get(names...)
		if !ok {
			return false
		}
		switch b := v.(type) {
		case bool:
			return b
		case string:
			switch strings.ToLower(b) {
			case "true":
				return true
			case "false", "":
				return false
			}
		}
		errs = append(errs, field+": not a boolean")
		return false
	}
	r := &ConfigurationRequest{}
	if n, ok := intOf("MachineAgentId", "MachineAgentId", "AgentID"); ok {
		r.AgentID = AgentID(n)
	}
	r.Name = strOf("BackupConfigurationName", "Name")
	r.IsActive = true
	if _, ok := get("IsActive", "Active", "Enabled"); ok {
		r.IsActive = boolOf("IsActive", "IsActive", "Active", "Enabled")
	}
	if n, ok := intOf("VersionRetention", "VersionRetention"); ok {
		r.VersionRetention = int(n)
	}
	r.MissedBackupActionID = 1
	if n, ok := intOf("MissedBackupActionId", "MissedBackupActionId", "MissedBackupActionID"); ok {
		r.MissedBackupActionID = int(n)
	}
	if n, ok := intOf("BackupConfigurationScheduleId", "BackupConfigurationScheduleId", "ScheduleID"); ok {
		r.ScheduleID = n
	}
	r.NotifyRecipients = strOf("NotifyRecipients")
	r.NotifySuccess = boolOf("NotifySuccess", "NotifySuccess")
	r.NotifyFailure = boolOf("NotifyFailure", "NotifyFailure")

	// Schedule: Frequency plus either the API's 12-hour fields or Hour (24 h).
	s := Schedule{Frequency: Frequency(strOf("Frequency")), TimeZone: strOf("TimeZoneId", "TimeZone")}
	if f := strings.ToLower(string(s.Frequency)); f != "" {
		s.Frequency = Frequency(strings.ToUpper(f[:1]) + f[1:])
	}
	if n, ok := intOf("HourInterval", "HourInterval"); ok {
		s.HourInterval = int(n)
	}
	if n, ok := intOf("StartTimeMinute", "StartTimeMinute", "Minute"); ok {
		s.Minute = int(n)
	}
	if n, ok := intOf("DayOfWeekId", "DayOfWeekId", "Weekday"); ok {
		s.Weekday = time.Weekday(n)
	} else if name := strOf("DayOfWeek"); name != "" {
		found := false
		for d := time.Sunday; d <= time.Saturday; d++ {
			if strings.EqualFold(d.String(), name) {
				s.Weekday, found = d, true
			}
		}
		if !found {
			errs = append(errs, "DayOfWeek: unknown day "+strconv.Quote(name))
		}
	}
	if ampm := strOf("StartTimeAmPm"); strings.TrimSpace(ampm) != "" {
		h, _ := intOf("StartTimeHour", "StartTimeHour")
		h24, err := from12(int(h), ampm)
		if err != nil {
			errs = append(errs, err.Error())
		}
		s.Hour = h24
	} else if n, ok := intOf("Hour", "Hour", "StartTimeHour"); ok {
		s.Hour = int(n)
	}
	r.Schedule = s

	var err error
	if r.Inclusions, err = pathsFromAny(get("Inclusions")); err != nil {
		errs = append(errs, "Inclusions: "+err.Error())
	}
	if r.Exclusions, err = pathsFromAny(get("Exclusions")); err != nil {
		errs = append(errs, "Exclusions: "+err.Error())
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rcbu: configuration: %s", strings.Join(errs, "; "))
	}
	return r, nil
}

func pathsFromAny(v any, ok bool) ([]PathItem, error) {
	if !ok {
		return nil, nil
	}
	list, isList := v.([]any)
	if !isList {
		return nil, fmt.Errorf("not a list")
	}
	out := make([]PathItem, 0, len(list))
	for i, e := range list {
		switch p := e.(type) {
		case string: // a bare path: a folder if it ends in a separator
			t := ItemFile
			if strings.HasSuffix(p, "/") || strings.HasSuffix(p, `\`) {
				t = ItemFolder
			}
			out = append(out, PathItem{FilePath: p, FileItemType: t})
		case map[string]any:
			var it PathItem
			for k, val := range p {
				s, _ := val.(string)
				switch strings.ToLower(k) {
				case "filepath", "path":
					it.FilePath = s
				case "fileitemtype", "type":
					switch strings.ToLower(s) {
					case "file":
						it.FileItemType = ItemFile
					case "folder", "directory":
						it.FileItemType = ItemFolder
					default:
						it.FileItemType = FileItemType(s)
					}
				}
			}
			out = append(out, it)
		default:
			return nil, fmt.Errorf("item %d: want a path or an object", i)
		}
	}
	return out, nil
}

func anyInt(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		return flexIntString(n.String())
	case float64:
		if n != float64(int64(n)) {
			return 0, fmt.Errorf("%v is not a whole number", n)
		}
		return int64(n), nil
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case string:
		return flexIntString(n)
	}
	return 0, fmt.Errorf("not a number")
}

func flexIntString(s string) (int64, error) {
	var n flexInt
	if err := n.UnmarshalJSON([]byte(strconv.Quote(s))); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// ConfigurationsService handles backup configurations (§5).
type ConfigurationsService service

func (s *ConfigurationsService) post(c *Configuration, ep int) {
	c.Region = s.client.endpoints[ep].Region
	s.client.remember(kindConfiguration, int64(c.ID), ep)
	s.client.remember(kindAgent, int64(c.AgentID), ep)
}

func configKey(c *Configuration) int64 { return int64(c.ID) }

// List returns the account's configurations (deleted ones excluded by the
// service), sorted by id. It makes one call per region.
//
// API: GET /v1.0/{tenant}/backup-configuration
func (s *ConfigurationsService) List(ctx context.Context) ([]Configuration, error) {
	return listAll(ctx, s.client, "list backup configurations", "backup-configuration", configKey, s.post)
}

// ListForAgent returns one agent's configurations. It makes a call.
//
// API: GET /v1.0/{tenant}/backup-configuration/system/{machineAgentId}
func (s *ConfigurationsService) ListForAgent(ctx context.Context, id AgentID) ([]Configuration, error) {
	op := fmt.Sprintf("list backup configurations of agent %d", id)
	ep, err := s.client.locate(ctx, op, kindAgent, int64(id))
	if err != nil {
		return nil, err
	}
	out := []Configuration{}
	if err := s.client.do(ctx, ep, request{op: op, method: "GET", path: fmt.Sprintf("backup-configuration/system/%d", id), out: &out}); err != nil {
		return nil, err
	}
	idx := s.client.endpointIndex(ep)
	for i := range out {
		s.post(&out[i], idx)
	}
	return out, nil
}

// endpointIndex finds ep among the client's endpoints.
func (c *Client) endpointIndex(ep Endpoint) int {
	for i, e := range c.endpoints {
		if e.URL == ep.URL {
			return i
		}
	}
	return 0
}

// Get returns a configuration; a deleted one has IsDeleted set. It makes
// a call.
//
// API: GET /v1.0/{tenant}/backup-configuration/{backupConfigurationId}
func (s *ConfigurationsService) Get(ctx context.Context, id ConfigurationID) (*Configuration, error) {
	c, ep, err := getOne[Configuration](ctx, s.client, fmt.Sprintf("get backup configuration %d", id), kindConfiguration, int64(id), fmt.Sprintf("backup-configuration/%d", id))
	if err != nil {
		return nil, err
	}
	s.post(c, ep)
	return c, nil
}

// Create validates r, creates the configuration on r.AgentID's region and
// returns it with its new ids. It makes a call (none when r is invalid).
//
// API: POST /v1.0/{tenant}/backup-configuration
func (s *ConfigurationsService) Create(ctx context.Context, r *ConfigurationRequest) (*Configuration, error) {
	const op = "create backup configuration"
	if r == nil {
		return nil, &ValidationError{Op: op, Fields: map[string]string{"request": "is nil"}}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	ep, err := s.client.locate(ctx, op, kindAgent, int64(r.AgentID))
	if err != nil {
		return nil, err
	}
	c := new(Configuration)
	if err := s.client.do(ctx, ep, request{op: op, method: "POST", path: "backup-configuration", body: r, out: c, need: true}); err != nil {
		return nil, err
	}
	s.post(c, s.client.endpointIndex(ep))
	return c, nil
}

// Update validates r and replaces configuration id's settings, schedule
// and path lists. It makes a call (none when r is invalid).
//
// API: PUT /v1.0/{tenant}/backup-configuration/{backupConfigurationId}
func (s *ConfigurationsService) Update(ctx context.Context, id ConfigurationID, r *ConfigurationRequest) error {
	op := fmt.Sprintf("update backup configuration %d", id)
	if r == nil {
		return &ValidationError{Op: op, Fields: map[string]string{"request": "is nil"}}
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return s.client.doOn(ctx, kindConfiguration, int64(id), request{op: op, method: "PUT", path: fmt.Sprintf("backup-configuration/%d", id), body: r})
}

// Delete soft-deletes a configuration (Get still returns it, with
// IsDeleted). It makes a call. Admin role only.
//
// API: DELETE /v1.0/{tenant}/backup-configuration/{backupConfigurationId}
func (s *ConfigurationsService) Delete(ctx context.Context, id ConfigurationID) error {
	return s.client.doOn(ctx, kindConfiguration, int64(id), request{op: fmt.Sprintf("delete backup configuration %d", id),
		method: "DELETE", path: fmt.Sprintf("backup-configuration/%d", id)})
}

// Enable activates a configuration's schedule and returns it. It makes a
// call.
//
// API: POST /v1.0/{tenant}/backup-configuration/enable/{backupConfigurationId}
func (s *ConfigurationsService) Enable(ctx context.Context, id ConfigurationID) (*Configuration, error) {
	return s.setEnabled(ctx, id, true)
}

// Disable stops a configuration's schedule (manual starts still work) and
// returns it. It makes a call.
//
// API: POST /v1.0/{tenant}/backup-configuration/enable/{backupConfigurationId}
func (s *ConfigurationsService) Disable(ctx context.Context, id ConfigurationID) (*Configuration, error) {
	return s.setEnabled(ctx, id, false)
}

func (s *ConfigurationsService) setEnabled(ctx context.Context, id ConfigurationID, enable bool) (*Configuration, error) {
	op := fmt.Sprintf("disable backup configuration %d", id)
	if enable {
		op = fmt.Sprintf("enable backup configuration %d", id)
	}
	ep, err := s.client.locate(ctx, op, kindConfiguration, int64(id))
	if err != nil {
		return nil, err
	}
	c := new(Configuration)
	if err := s.client.do(ctx, ep, request{op: op, method: "POST", path: fmt.Sprintf("backup-configuration/enable/%d", id),
		body: map[string]bool{"Enable": enable}, out: c}); err != nil {
		return nil, err
	}
	if c.ID == 0 { // tolerate an empty 200: read it back
		return s.Get(ctx, id)
	}
	s.post(c, s.client.endpointIndex(ep))
	return c, nil
}
