package rcbu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// AgentID identifies a backup agent (MachineAgentId).
type AgentID int64

// ConfigurationID identifies a backup configuration (BackupConfigurationId).
type ConfigurationID int64

// BackupID identifies one run of a backup configuration (BackupId).
type BackupID int64

// RestoreID identifies a restore configuration and its run (RestoreId).
type RestoreID int64

// RestoreFileID identifies one include/exclude entry of a restore (FileId).
type RestoreFileID int64

// CleanupID identifies a vault cleanup job.
type CleanupID int64

// VaultID identifies an agent's backup vault (BackupVaultId): a GUID-like
// string, the suffix of the vault's Cloud Files container name. It is
// text, never arithmetic: join it into paths as it is.
type VaultID string

// UnmarshalJSON accepts a JSON string, a number (kept as its literal
// digits: older answers and some clients send one) or null ("").
func (v *VaultID) UnmarshalJSON(b []byte) error {
	var f FlexString
	if err := f.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("rcbu: vault id: %w", err)
	}
	*v = VaultID(f)
	return nil
}

// UnmarshalJSON accepts a JSON number, a digit string or null (zero).
func (id *AgentID) UnmarshalJSON(b []byte) error { return unmarshalID(b, (*int64)(id)) }

// UnmarshalJSON accepts a JSON number, a digit string or null (zero).
func (id *ConfigurationID) UnmarshalJSON(b []byte) error { return unmarshalID(b, (*int64)(id)) }

// UnmarshalJSON accepts a JSON number, a digit string or null (zero).
func (id *BackupID) UnmarshalJSON(b []byte) error { return unmarshalID(b, (*int64)(id)) }

// UnmarshalJSON accepts a JSON number, a digit string or null (zero).
func (id *RestoreID) UnmarshalJSON(b []byte) error { return unmarshalID(b, (*int64)(id)) }

// UnmarshalJSON accepts a JSON number, a digit string or null (zero).
func (id *RestoreFileID) UnmarshalJSON(b []byte) error { return unmarshalID(b, (*int64)(id)) }

// UnmarshalJSON accepts a JSON number, a digit string or null (zero).
func (id *CleanupID) UnmarshalJSON(b []byte) error { return unmarshalID(b, (*int64)(id)) }

func unmarshalID(b []byte, dst *int64) error {
	var n flexInt
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	*dst = int64(n)
	return nil
}

// flexInt decodes an integer sent as a JSON number, a digit string ("11936")
// or null, because the API uses both spellings for the same counters (§1.3).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	if v, ok := smallInt(b); ok { // the common case, without a string
		*n = flexInt(v)
		return nil
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("integer: %w", err)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Numbers such as 1.0 or 1e3 are still whole numbers.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("integer: invalid value %.40q", s)
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

// smallInt reads a plain JSON integer of at most 18 digits (no sign, no
// fraction, no exponent); ok is false for anything else.
func smallInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// flexBool decodes true/false sent as JSON booleans or as the strings
// "true"/"false" (one documented example and some clients use strings, §1.3).
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := strings.Trim(string(b), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		*v = true
	case "false", "0", "null", "":
		*v = false
	default:
		return fmt.Errorf("boolean: invalid value %.40q", string(b))
	}
	return nil
}

// FlexString holds a value the API sends either as a JSON string or as a
// JSON number, such as a public key's ExponentHex (10001 or "09528").
type FlexString string

// UnmarshalJSON accepts a JSON string, a number (kept as its literal digits) or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("flex string: %w", err)
		}
		*f = FlexString(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var num json.Number
		if err := json.Unmarshal(b, &num); err != nil {
			return fmt.Errorf("flex string: %w", err)
		}
		*f = FlexString(num.String())
	default:
		return fmt.Errorf("flex string: unexpected JSON %.40q", string(b))
	}
	return nil
}

// MarshalJSON emits digit-only values as JSON numbers (the API's most
// frequent form) and everything else as a string.
func (f FlexString) MarshalJSON() ([]byte, error) {
	s := string(f)
	if s != "" && isDigits(s) && (len(s) == 1 || s[0] != '0') {
		return []byte(s), nil
	}
	return json.Marshal(s)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// PublicKey is an agent's RSA public key as the API sends it; it is used to
// encrypt vault passphrases (EncryptedPasswordHex).
type PublicKey struct {
	ModulusHex  string     `json:"ModulusHex"`
	ExponentHex FlexString `json:"ExponentHex"`
}

// MSDate is a timestamp in Microsoft JSON date form, "/Date(1357817400000)/".
// The zero MSDate stands for JSON null. Negative values (before 1970, such
// as .NET's DateTime.MinValue) and a trailing zone offset are accepted; the
// milliseconds are always UTC and the offset is ignored, as in .NET.
type MSDate struct {
	time.Time
}

// ParseMSDate parses "/Date(ms)/", "/Date(-ms)/" or "/Date(ms±hhmm)/"
// (slashes optionally escaped) into a UTC time. The empty string is an
// error.
func ParseMSDate(s string) (time.Time, error) {
	ms, ok := parseMSDate(strings.TrimSpace(s))
	if !ok {
		return time.Time{}, fmt.Errorf("rcbu: invalid date %.60q: want /Date(milliseconds)/", s)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// parseMSDate matches ^\\?/Date\((-?\d{1,18})([+-]\d{4})?\)\\?/$ by hand:
// dates are decoded by the thousand in agent and activity lists.
func parseMSDate(s string) (int64, bool) {
	s = strings.TrimPrefix(s, `\`)
	if !strings.HasPrefix(s, "/Date(") {
		return 0, false
	}
	s = s[len("/Date("):]
	if !strings.HasSuffix(s, "/") {
		return 0, false
	}
	s = strings.TrimSuffix(s[:len(s)-1], `\`)
	if !strings.HasSuffix(s, ")") {
		return 0, false
	}
	s = s[:len(s)-1]
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 18 {
		return 0, false
	}
	digits, rest := s[:i], s[i:]
	if rest != "" {
		if len(rest) != 5 || (rest[0] != '+' && rest[0] != '-') || !isDigits(rest[1:]) {
			return 0, false
		}
	}
	ms, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		ms = -ms
	}
	return ms, true
}

// jsonString decodes a JSON string, without the decoder for the common
// case of no escapes.
func jsonString(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// FormatMSDate formats t as "/Date(ms)/".
func FormatMSDate(t time.Time) string {
	return "/Date(" + strconv.FormatInt(t.UnixMilli(), 10) + ")/"
}

// UnmarshalJSON decodes null or a /Date(ms)/ string.
func (d *MSDate) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		d.Time = time.Time{}
		return nil
	}
	// Fast path for the common spellings, "/Date(ms)/" and "\/Date(ms)\/",
	// which parseMSDate reads as they stand: no string is kept.
	if len(b) > 2 && b[0] == '"' && b[len(b)-1] == '"' {
		if ms, ok := parseMSDate(string(b[1 : len(b)-1])); ok {
			d.Time = time.UnixMilli(ms).UTC()
			return nil
		}
	}
	s, err := jsonString(b)
	if err != nil {
		return fmt.Errorf("rcbu: date: want a string, got %.40q", string(b))
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	t, err := ParseMSDate(s)
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

// MarshalJSON encodes the zero MSDate as null and others as "/Date(ms)/".
func (d MSDate) MarshalJSON() ([]byte, error) {
	if d.Time.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + FormatMSDate(d.Time) + `"`), nil
}

// Valid reports whether d holds a real instant: not null and not .NET's
// DateTime.MinValue placeholder (year 1), which the API sends for
// "no next run" on manually scheduled configurations.
func (d MSDate) Valid() bool {
	return !d.Time.IsZero() && d.Time.Year() > 1
}

// Size is a human-readable size from the API ("35.3 MB") together with its
// value in bytes. The API uses binary multiples (1 KB = 1024 bytes).
type Size struct {
	Raw   string // as sent, e.g. "35.3 MB"; digits for numeric fields
	Bytes int64  // parsed value
}

var sizeUnits = map[string]int64{
	"b": 1, "byte": 1, "bytes": 1,
	"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
}

// ParseSize converts "<number> <unit>" ("0 bytes", "318 bytes", "35.3 MB",
// "2 GB") to bytes using binary multiples. A bare number means bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("rcbu: invalid size %q: empty", s)
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("rcbu: invalid size %.40q: no number", s)
	}
	mult := int64(1)
	if unit != "" {
		m, ok := sizeUnits[unit]
		if !ok {
			return 0, fmt.Errorf("rcbu: invalid size %.40q: unknown unit %.10q", s, unit)
		}
		mult = m
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || (mult > 1 && n > math.MaxInt64/mult) {
			return 0, fmt.Errorf("rcbu: invalid size %.40q: out of range", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("rcbu: invalid size %.40q: bad number", s)
	}
	v := f * float64(mult)
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("rcbu: invalid size %.40q: out of range", s)
	}
	return int64(math.Round(v)), nil
}

// FormatSize renders n bytes the way the API does: "318 bytes", "35.3 MB".
func FormatSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KB", "MB", "GB", "TB", "PB"}
	v := float64(n)
	u := -1
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[u]
}

// UnmarshalJSON accepts a size string, a JSON number of bytes or null.
func (z *Size) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*z = Size{}
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		var n flexInt
		if err := n.UnmarshalJSON(b); err != nil || n < 0 {
			return fmt.Errorf("rcbu: invalid size %.40q", string(b))
		}
		*z = Size{Raw: string(b), Bytes: int64(n)}
		return nil
	}
	s, err := jsonString(b)
	if err != nil {
		return fmt.Errorf("rcbu: size: %w", err)
	}
	if strings.TrimSpace(s) == "" {
		*z = Size{Raw: s}
		return nil
	}
	n, err := ParseSize(s)
	if err != nil {
		return err
	}
	*z = Size{Raw: s, Bytes: n}
	return nil
}

// MarshalJSON emits the raw size string (or the formatted byte count).
func (z Size) MarshalJSON() ([]byte, error) {
	if z.Raw != "" {
		return json.Marshal(z.Raw)
	}
	return json.Marshal(FormatSize(z.Bytes))
}

// String returns the size as the API wrote it.
func (z Size) String() string {
	if z.Raw != "" {
		return z.Raw
	}
	return FormatSize(z.Bytes)
}

// ParseHMS parses an "HH:MM:SS" duration; hours may exceed 23.
func ParseHMS(s string) (time.Duration, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("rcbu: invalid duration %.40q: want HH:MM:SS", s)
	}
	var v [3]int64
	for i, p := range parts {
		// Seconds may carry a fraction ("00:00:01.5") in .NET TimeSpan output.
		if i == 2 {
			if dot := strings.IndexByte(p, '.'); dot >= 0 {
				p = p[:dot]
			}
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 || (i > 0 && n > 59) || p == "" {
			return 0, fmt.Errorf("rcbu: invalid duration %.40q", s)
		}
		v[i] = n
	}
	if v[0] > math.MaxInt64/int64(time.Hour)-1 {
		return 0, fmt.Errorf("rcbu: invalid duration %.40q: out of range", s)
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second, nil
}

// optionalHMS parses a report's nullable Duration: null and "" are zero.
func optionalHMS(s *string) (time.Duration, error) {
	if s == nil || *s == "" {
		return 0, nil
	}
	return ParseHMS(*s)
}

// FormatHMS formats d as "HH:MM:SS".
func FormatHMS(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// AgentStatus is an agent's connection state.
type AgentStatus string

// Agent statuses. The account-wide agent list reports the placeholder
// AgentStatusUnknown; only a single-agent Get reports a live value.
const (
	AgentStatusOnline  AgentStatus = "Online"
	AgentStatusOffline AgentStatus = "Offline"
	AgentStatusUnknown AgentStatus = "Unknown"
)

// BackupState is the CurrentState of a backup (§11.1).
type BackupState string

// Backup states.
const (
	BackupStartRequested      BackupState = "StartRequested"
	BackupStartScheduled      BackupState = "StartScheduled"
	BackupCreating            BackupState = "Creating"
	BackupQueued              BackupState = "Queued"
	BackupPreparing           BackupState = "Preparing"
	BackupInProgress          BackupState = "InProgress"
	BackupStopRequested       BackupState = "StopRequested"
	BackupCompleted           BackupState = "Completed"
	BackupCompletedWithErrors BackupState = "CompletedWithErrors"
	BackupFailed              BackupState = "Failed"
	BackupStopped             BackupState = "Stopped"
	BackupSkipped             BackupState = "Skipped"
	BackupMissed              BackupState = "Missed"
)

// normState compares state names case- and space-insensitively
// ("Completed WithErrors", "startRequested").
func normState(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, " ", ""))
}

// Done reports whether the state is final (Completed, CompletedWithErrors,
// Failed, Stopped, Skipped, Missed).
func (s BackupState) Done() bool {
	switch normState(string(s)) {
	case "completed", "completedwitherrors", "failed", "stopped", "skipped", "missed", "finished":
		return true
	}
	return false
}

// Busy reports whether the job is queued or running (§11.1 busy set).
func (s BackupState) Busy() bool {
	switch normState(string(s)) {
	case "startrequested", "startscheduled", "creating", "queued", "preparing", "inprogress", "stoprequested":
		return true
	}
	return false
}

// Succeeded reports whether the state is Completed or CompletedWithErrors.
func (s BackupState) Succeeded() bool {
	n := normState(string(s))
	return n == "completed" || n == "completedwitherrors" || n == "finished"
}

// RestoreState is a restore's RestoreStateId (§11.2).
type RestoreState int

// Restore states.
const (
	RestoreCreating            RestoreState = 0
	RestoreQueued              RestoreState = 1
	RestoreInProgress          RestoreState = 2
	RestoreCompleted           RestoreState = 3
	RestoreStopped             RestoreState = 4
	RestoreFailed              RestoreState = 5
	RestoreStartRequested      RestoreState = 6
	RestoreStopRequested       RestoreState = 7
	RestoreCompletedWithErrors RestoreState = 8
	RestorePreparing           RestoreState = 9
)

var restoreStateNames = [...]string{"Creating", "Queued", "InProgress", "Completed", "Stopped", "Failed", "StartRequested", "StopRequested", "CompletedWithErrors", "Preparing"}

// String returns the state's API name ("InProgress").
func (s RestoreState) String() string { return enumString(s, restoreStateNames[:], "RestoreState") }

// ParseRestoreState maps a restore state name (as in reports and activity,
// case- and space-insensitive; "Finished" = Completed) to its id.
func ParseRestoreState(name string) (RestoreState, error) {
	n := normState(name)
	if n == "finished" {
		return RestoreCompleted, nil
	}
	for i, v := range restoreStateNames {
		if normState(v) == n {
			return RestoreState(i), nil
		}
	}
	return 0, fmt.Errorf("rcbu: unknown restore state %.40q", name)
}

// Done reports whether the restore has finished (3, 4, 5 or 8).
func (s RestoreState) Done() bool {
	return s == RestoreCompleted || s == RestoreStopped || s == RestoreFailed || s == RestoreCompletedWithErrors
}

// Busy reports whether the restore is queued or running.
func (s RestoreState) Busy() bool {
	switch s {
	case RestoreQueued, RestoreInProgress, RestoreStartRequested, RestoreStopRequested, RestorePreparing:
		return true
	}
	return false
}

// UnmarshalJSON accepts an id (number or digit string) or a state name.
func (s *RestoreState) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, s, "restore state", func(name string) (RestoreState, bool) {
		v, err := ParseRestoreState(name)
		return v, err == nil
	})
}

// Frequency is how often a configuration runs.
type Frequency string

// Frequencies accepted by the API (§5.2).
const (
	FrequencyManually Frequency = "Manually"
	FrequencyHourly   Frequency = "Hourly"
	FrequencyDaily    Frequency = "Daily"
	FrequencyWeekly   Frequency = "Weekly"
)

// Valid reports whether f is one of the four public frequencies.
func (f Frequency) Valid() bool {
	switch f {
	case FrequencyManually, FrequencyHourly, FrequencyDaily, FrequencyWeekly:
		return true
	}
	return false
}

// FileItemType says whether a configuration path is a file or a folder.
type FileItemType string

// File item types of configuration inclusions/exclusions.
const (
	ItemFile   FileItemType = "File"
	ItemFolder FileItemType = "Folder"
)

// RestoreFilter says whether a restore file entry includes or excludes.
type RestoreFilter int

// Restore file filters (§7.3).
const (
	FilterInclude RestoreFilter = 1
	FilterExclude RestoreFilter = 2
)

var restoreFilterNames = [...]string{FilterInclude: "Include", FilterExclude: "Exclude"}

// UnmarshalJSON accepts 1/2, "1"/"2" or "Include"/"Exclude".
func (f *RestoreFilter) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, f, "restore filter", enumNamed[RestoreFilter](restoreFilterNames[:]))
}

// String returns "Include" or "Exclude".
func (f RestoreFilter) String() string {
	return enumString(f, restoreFilterNames[:], "RestoreFilter")
}

// RestoreItemType is the numeric FileItemType of restore file entries.
type RestoreItemType int

// Restore file item types (§7.3).
const (
	RestoreItemFile     RestoreItemType = 0
	RestoreItemFolder   RestoreItemType = 1
	RestoreItemDatabase RestoreItemType = 2
)

var restoreItemTypeNames = [...]string{RestoreItemFile: "File", RestoreItemFolder: "Folder", RestoreItemDatabase: "Database"}

// UnmarshalJSON accepts 0/1/2, digit strings or "File"/"Folder"/"Database".
func (t *RestoreItemType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, t, "restore item type", enumNamed[RestoreItemType](restoreItemTypeNames[:]))
}

// String returns "File", "Folder" or "Database".
func (t RestoreItemType) String() string {
	return enumString(t, restoreItemTypeNames[:], "RestoreItemType")
}

// unmarshalEnum decodes an integer enum sent as its number, as a digit
// string, or as a name that byName knows; what names the type in errors.
func unmarshalEnum[T ~int](b []byte, dst *T, what string, byName func(string) (T, bool)) error {
	var n flexInt
	if err := n.UnmarshalJSON(b); err == nil {
		*dst = T(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("rcbu: %s: %w", what, err)
	}
	v, ok := byName(name)
	if !ok {
		return fmt.Errorf("rcbu: unknown %s %.20q", what, name)
	}
	*dst = v
	return nil
}

// enumNamed returns a case-insensitive lookup of names, indexed by value
// ("" for values without a name).
func enumNamed[T ~int](names []string) func(string) (T, bool) {
	return func(name string) (T, bool) {
		for i, n := range names {
			if n != "" && strings.EqualFold(n, name) {
				return T(i), true
			}
		}
		return 0, false
	}
}

// enumString returns the name of v, or typ(v) for a value without one.
func enumString[T ~int](v T, names []string, typ string) string {
	if v >= 0 && int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

// LogLevel is an agent's logging level (§3.9, numbering per the newer client).
type LogLevel int

// Agent log levels.
const (
	LogFatal LogLevel = 1
	LogError LogLevel = 2
	LogWarn  LogLevel = 3
	LogInfo  LogLevel = 4
	LogDebug LogLevel = 5
	LogTrace LogLevel = 6
	LogAll   LogLevel = 7
)

var logLevelNames = [...]string{"", "Fatal", "Error", "Warn", "Info", "Debug", "Trace", "All"}

// String returns the level's name ("Warn").
func (l LogLevel) String() string { return enumString(l, logLevelNames[:], "LogLevel") }

// ParseLogLevel maps a level name (case-insensitive, "Warning" too) or a
// digit string to a LogLevel.
func ParseLogLevel(s string) (LogLevel, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "warning" {
		return LogWarn, nil
	}
	if l, ok := enumNamed[LogLevel](logLevelNames[:])(t); ok {
		return l, nil
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= 7 {
		return LogLevel(n), nil
	}
	return 0, fmt.Errorf("rcbu: unknown log level %.20q", s)
}

// ActivityType is the kind of an activity item.
type ActivityType string

// Activity types.
const (
	ActivityBackup  ActivityType = "Backup"
	ActivityRestore ActivityType = "Restore"
	ActivityCleanup ActivityType = "Cleanup"
)

// errScalar reports a scalar response body that could not be read.
var errScalar = errors.New("unexpected response body")

// scalarBody trims whitespace and one pair of surrounding quotes from a
// scalar response body (`736251`, `"guid"`, bare guid, `"Warn"`).
func scalarBody(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var u string
		if err := json.Unmarshal([]byte(s), &u); err == nil {
			return strings.TrimSpace(u)
		}
		s = s[1 : len(s)-1]
	}
	return strings.TrimSpace(s)
}
