package rcbusim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

type pathItemJSON struct {
	FileId          int64
	FileItemType    string
	FilePath        string
	FilePathEncoded *string
	Filter          string
	ParentId        int64
}

// configJSON is the §5.1 configuration object.
type configJSON struct {
	BackupConfigurationId         int64
	BackupConfigurationName       string
	BackupConfigurationScheduleId int64
	BackupPostscript              string
	BackupPrescript               string
	BackupState                   string
	Datacenter                    string
	DayOfWeekId                   *int
	EncryptionKey                 publicKey
	Exclusions                    []pathItemJSON
	Flavor                        string
	Frequency                     string
	HourInterval                  *int
	Inclusions                    []pathItemJSON
	IsActive                      bool
	IsDeleted                     bool
	IsEncrypted                   bool
	LastRunBackupReportId         *int64
	LastRunTime                   *msDate
	MachineAgentId                int64
	MachineName                   string
	MissedBackupActionId          int
	NextScheduledRunTime          *msDate
	NotifyFailure                 bool
	NotifyRecipients              string
	NotifySuccess                 bool
	StartTimeAmPm                 *string
	StartTimeHour                 *int
	StartTimeMinute               *int
	TimeZoneId                    string
	VersionRetention              int
}

func itemsJSON(items []pathItem, parent int64, filter string) []pathItemJSON {
	out := make([]pathItemJSON, len(items))
	for i, p := range items {
		out[i] = pathItemJSON{p.id, p.itemType, p.path, nil, filter, parent}
	}
	return out
}

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (cfg *configuration) backupState() string {
	if b := cfg.running; b != nil {
		switch b.state {
		case bsStartRequested, bsStartScheduled, bsQueued:
			return "Queued"
		}
		return "InProgress"
	}
	if cfg.hasRun && cfg.lastState == bsSkipped {
		return "Skipped"
	}
	return "Not Available"
}

func (cfg *configuration) json() configJSON {
	a := cfg.agent
	ampm := cfg.ampm
	if cfg.frequency == "Manually" || cfg.frequency == "Hourly" {
		empty := ""
		ampm = &empty // responses show "" for a schedule without a time of day (§5.1, §5.2)
	} else if ampm != nil {
		v := *ampm
		ampm = &v
	}
	var lastID *int64
	if cfg.lastBackupID != 0 {
		v := cfg.lastBackupID
		lastID = &v
	}
	return configJSON{
		BackupConfigurationId:         cfg.id,
		BackupConfigurationName:       cfg.name,
		BackupConfigurationScheduleId: cfg.scheduleID,
		BackupPostscript:              cfg.postscript,
		BackupPrescript:               cfg.prescript,
		BackupState:                   cfg.backupState(),
		Datacenter:                    a.datacenter,
		DayOfWeekId:                   copyInt(cfg.dayOfWeek),
		EncryptionKey:                 publicKey{a.modulus, 10001},
		Exclusions:                    itemsJSON(cfg.exclusions, cfg.id, "Exclude"),
		Flavor:                        "RaxCloudServer",
		Frequency:                     cfg.frequency,
		HourInterval:                  copyInt(cfg.interval),
		Inclusions:                    itemsJSON(cfg.inclusions, cfg.id, "Include"),
		IsActive:                      cfg.active,
		IsDeleted:                     cfg.deleted,
		IsEncrypted:                   a.encrypted,
		LastRunBackupReportId:         lastID,
		LastRunTime:                   dateOrNil(cfg.lastRun),
		MachineAgentId:                a.id,
		MachineName:                   a.name,
		MissedBackupActionId:          cfg.missedAction,
		NextScheduledRunTime:          dateOrNil(cfg.nextRun),
		NotifyFailure:                 cfg.notifyFail,
		NotifyRecipients:              cfg.recipients,
		NotifySuccess:                 cfg.notifyOK,
		StartTimeAmPm:                 ampm,
		StartTimeHour:                 copyInt(cfg.hour),
		StartTimeMinute:               copyInt(cfg.minute),
		TimeZoneId:                    cfg.tzName,
		VersionRetention:              cfg.retention,
	}
}

// configRequest is a validated create/update body.
type configRequest struct {
	agentID int64 // create only
	configSettings
}

// parseConfigRequest validates a C1/C2 body completely (§5.2, §15.13).
func parseConfigRequest(body []byte, needAgent bool) (*configRequest, error) {
	f, err := decodeFields(body, false)
	if err != nil {
		return nil, err
	}
	req := &configRequest{}
	if needAgent {
		if req.agentID, err = f.requiredInt64("MachineAgentId"); err != nil {
			return nil, err
		}
	}
	if req.name, err = f.requiredString("BackupConfigurationName"); err != nil {
		return nil, err
	}
	req.name = strings.TrimSpace(req.name)
	if req.name == "" {
		return nil, badf("BackupConfigurationName must not be empty")
	}
	if len(req.name) > 255 {
		return nil, badf("BackupConfigurationName is longer than 255 characters")
	}
	active, hasActive, err := f.boolField("IsActive")
	if err != nil {
		return nil, err
	}
	req.active = active || !hasActive
	ret, err := f.requiredInt64("VersionRetention")
	if err != nil {
		return nil, err
	}
	if ret != 0 && ret != 30 && ret != 60 {
		return nil, badf("VersionRetention must be 0, 30 or 60, got %d", ret)
	}
	req.retention = int(ret)
	missed, hasMissed, err := f.int64Field("MissedBackupActionId")
	if err != nil {
		return nil, err
	}
	if !hasMissed {
		missed = 1
	}
	if missed != 1 && missed != 2 {
		return nil, badf("MissedBackupActionId must be 1 or 2, got %d", missed)
	}
	req.missedAction = int(missed)
	freq, err := f.requiredString("Frequency")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"Manually", "Hourly", "Daily", "Weekly"} {
		if strings.EqualFold(freq, name) {
			req.frequency = name
		}
	}
	if req.frequency == "" {
		return nil, badf("Frequency must be one of Manually, Hourly, Daily, Weekly, got %q", clip(freq))
	}
	if err := req.parseSchedule(f); err != nil {
		return nil, err
	}
	tz, err := f.requiredString("TimeZoneId")
	if err != nil {
		return nil, err
	}
	if req.loc, err = loadZone(tz); err != nil {
		return nil, badf("TimeZoneId: %v", err)
	}
	req.tzName = tz
	if req.recipients, _, err = f.stringField("NotifyRecipients"); err != nil {
		return nil, err
	}
	if len(req.recipients) > 1024 {
		return nil, badf("NotifyRecipients is longer than 1024 characters")
	}
	if req.notifyOK, _, err = f.boolField("NotifySuccess"); err != nil {
		return nil, err
	}
	if req.notifyFail, _, err = f.boolField("NotifyFailure"); err != nil {
		return nil, err
	}
	if req.inclusions, err = parseItems(f, "Inclusions"); err != nil {
		return nil, err
	}
	if req.exclusions, err = parseItems(f, "Exclusions"); err != nil {
		return nil, err
	}
	for _, e := range req.exclusions {
		for _, i := range req.inclusions {
			if e.path == i.path {
				return nil, badf("Exclusions: %q is also in Inclusions", clip(e.path))
			}
		}
	}
	return req, nil
}

// parseSchedule enforces the §5.2 matrix.
func (req *configRequest) parseSchedule(f fields) error {
	var err error
	if req.hour, err = f.optionalInt("StartTimeHour"); err != nil {
		return err
	}
	if req.minute, err = f.optionalInt("StartTimeMinute"); err != nil {
		return err
	}
	if req.dayOfWeek, err = f.optionalInt("DayOfWeekId"); err != nil {
		return err
	}
	if req.interval, err = f.optionalInt("HourInterval"); err != nil {
		return err
	}
	ampm, hasAmPm, err := f.stringField("StartTimeAmPm")
	if err != nil {
		return err
	}
	if hasAmPm && ampm != "" {
		up := strings.ToUpper(ampm)
		if up != "AM" && up != "PM" {
			return badf("StartTimeAmPm must be AM or PM, got %q", clip(ampm))
		}
		req.ampm = &up
	}
	needTime := req.frequency == "Daily" || req.frequency == "Weekly"
	type rule struct {
		name   string
		set    bool
		needed bool
	}
	for _, r := range []rule{
		{"StartTimeHour", req.hour != nil, needTime},
		{"StartTimeMinute", req.minute != nil, needTime},
		{"StartTimeAmPm", req.ampm != nil, needTime},
		{"DayOfWeekId", req.dayOfWeek != nil, req.frequency == "Weekly"},
		{"HourInterval", req.interval != nil, req.frequency == "Hourly"},
	} {
		switch {
		case r.needed && !r.set:
			return badf("%s is required when Frequency is %s", r.name, req.frequency)
		case !r.needed && r.set:
			return badf("%s must be null when Frequency is %s", r.name, req.frequency)
		}
	}
	switch {
	case req.hour != nil && (*req.hour < 1 || *req.hour > 12):
		return badf("StartTimeHour must be 1-12, got %d", *req.hour)
	case req.minute != nil && (*req.minute < 0 || *req.minute > 59):
		return badf("StartTimeMinute must be 0-59, got %d", *req.minute)
	case req.dayOfWeek != nil && (*req.dayOfWeek < 0 || *req.dayOfWeek > 6):
		return badf("DayOfWeekId must be 0 (Sunday) to 6 (Saturday), got %d", *req.dayOfWeek)
	case req.interval != nil && (*req.interval < 1 || *req.interval > 23):
		return badf("HourInterval must be 1-23, got %d", *req.interval)
	}
	return nil
}

// parseItems reads an Inclusions/Exclusions array.
func parseItems(f fields, key string) ([]pathItem, error) {
	raw, ok := f[strings.ToLower(key)]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badf("%s must be an array of {FilePath, FileItemType}", key)
	}
	if len(list) > 10000 {
		return nil, badf("%s has more than 10000 items", key)
	}
	out := make([]pathItem, 0, len(list))
	for i, r := range list {
		item, err := decodeFields(r, false)
		if err != nil {
			return nil, badf("%s[%d] must be an object", key, i)
		}
		p, err := item.requiredString("FilePath")
		if err != nil {
			return nil, badf("%s[%d].%v", key, i, err)
		}
		if strings.TrimSpace(p) == "" {
			return nil, badf("%s[%d].FilePath must not be empty", key, i)
		}
		if len(p) > 4096 {
			return nil, badf("%s[%d].FilePath is longer than 4096 characters", key, i)
		}
		t, err := item.requiredString("FileItemType")
		if err != nil {
			return nil, badf("%s[%d].%v", key, i, err)
		}
		switch strings.ToLower(t) {
		case "file":
			t = "File"
		case "folder":
			t = "Folder"
		default:
			return nil, badf("%s[%d].FileItemType must be File or Folder, got %q", key, i, clip(t))
		}
		out = append(out, pathItem{path: p, itemType: t})
	}
	return out, nil
}

// lookupConfig resolves a configuration id for the caller. Deleted
// configurations are found (details still work, §5.5).
func (s *Server) lookupConfig(c *call, id int64, notFound int) (*configuration, reply, bool) {
	cfg := s.configs[id]
	if cfg == nil {
		return nil, errReply(notFound, "backup configuration %d not found", id), false
	}
	a := cfg.agent
	if a.tenant != c.tenant {
		return nil, errReply(http.StatusForbidden, "access denied to backup configuration %d", id), false
	}
	if c.region != "" && a.datacenter != c.region {
		return nil, errReply(notFound, "backup configuration %d not found in region %s", id, c.region), false
	}
	if a.deleted && !cfg.deleted {
		return nil, errReply(notFound, "backup configuration %d not found", id), false
	}
	return cfg, reply{}, true
}

func (s *Server) listConfigurations(c *call) reply {
	return configsReply(c.tenant.configs, func(cfg *configuration) bool { return c.visible(cfg.agent) })
}

// configsReply lists the configurations in list that are not deleted and
// that show, as the API lists them.
func configsReply(list []*configuration, show func(*configuration) bool) reply {
	out := []configJSON{}
	for _, cfg := range list {
		if !cfg.deleted && show(cfg) {
			out = append(out, cfg.json())
		}
	}
	return ok(out)
}

func (s *Server) listAgentConfigurations(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return configsReply(a.configs, func(*configuration) bool { return true })
}

func (s *Server) getConfiguration(c *call) reply {
	cfg, rep, found := s.lookupConfig(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return ok(cfg.json())
}

func nameTaken(a *agent, name string, except *configuration) bool {
	for _, x := range a.configs {
		if x != except && !x.deleted && strings.EqualFold(x.name, name) {
			return true
		}
	}
	return false
}

func (s *Server) createConfiguration(c *call) reply {
	req, err := parseConfigRequest(c.body, true)
	if err != nil {
		return badReply(err)
	}
	a, rep, found := s.lookupAgent(c, req.agentID, http.StatusNotFound)
	if !found {
		return rep
	}
	if nameTaken(a, req.name, nil) {
		return errReply(http.StatusConflict, "a backup configuration named %q already exists on agent %d", req.name, a.id)
	}
	cfg := s.newConfiguration(a, c.now)
	s.applyConfig(cfg, req, c.now)
	return ok(cfg.json())
}

// newConfiguration registers an empty configuration of agent a.
func (s *Server) newConfiguration(a *agent, now time.Time) *configuration {
	s.nextID.config++
	s.nextID.schedule++
	cfg := &configuration{
		id:         s.nextID.config,
		scheduleID: s.nextID.schedule,
		agent:      a,
		lastState:  bsCompleted,
	}
	// Data size drives backup durations: 50 MB to ~20 GB, log-uniform.
	cfg.dataBytes = int64(50<<20) << s.rng.IntN(9)
	cfg.dataBytes += s.rng.Int64N(cfg.dataBytes)
	cfg.dataFiles = cfg.dataBytes/(180<<10) + s.rng.Int64N(2000) + 50
	s.configs[cfg.id] = cfg
	a.configs = append(a.configs, cfg)
	a.tenant.configs = append(a.tenant.configs, cfg)
	return cfg
}

// applyConfig copies a validated request into cfg and rearms its schedule.
func (s *Server) applyConfig(cfg *configuration, req *configRequest, now time.Time) {
	cfg.configSettings = req.configSettings
	cfg.inclusions = s.withIDs(req.inclusions)
	cfg.exclusions = s.withIDs(req.exclusions)
	cfg.anchor = now.Truncate(time.Hour).Add(time.Hour)
	s.rearm(cfg, now)
}

func (s *Server) withIDs(items []pathItem) []pathItem {
	out := make([]pathItem, len(items))
	for i, p := range items {
		s.nextID.file++
		p.id = s.nextID.file
		out[i] = p
	}
	return out
}

func (s *Server) updateConfiguration(c *call) reply {
	cfg, rep, found := s.lookupConfig(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	req, err := parseConfigRequest(c.body, false)
	if err != nil {
		return badReply(err)
	}
	if cfg.deleted {
		return errReply(http.StatusNotFound, "backup configuration %d is deleted", cfg.id)
	}
	if nameTaken(cfg.agent, req.name, cfg) {
		return errReply(http.StatusConflict, "a backup configuration named %q already exists on agent %d", req.name, cfg.agent.id)
	}
	s.applyConfig(cfg, req, c.now)
	return reply{http.StatusOK, nil}
}

func (s *Server) enableConfiguration(c *call) reply {
	cfg, rep, found := s.lookupConfig(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	_, enable, rep, good := c.fieldsWithBool("Enable")
	if !good {
		return rep
	}
	if cfg.deleted {
		return errReply(http.StatusNotFound, "backup configuration %d is deleted", cfg.id)
	}
	if cfg.active != enable {
		cfg.active = enable
		s.rearm(cfg, c.now)
	}
	return ok(cfg.json())
}

func (s *Server) deleteConfiguration(c *call) reply {
	cfg, rep, found := s.lookupConfig(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	if cfg.deleted {
		return errReply(http.StatusNotFound, "backup configuration %d is already deleted", cfg.id)
	}
	cfg.deleted = true
	s.rearm(cfg, c.now)
	return reply{http.StatusOK, nil}
}
