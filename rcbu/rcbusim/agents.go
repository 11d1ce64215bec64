package rcbusim

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// agentJSON is the §3 agent record; every field is always emitted.
type agentJSON struct {
	MachineAgentId             int64
	AgentVersion               string
	Architecture               string
	Flavor                     string
	BackupVaultSize            *string
	BackupContainer            string
	CleanupAllowed             bool
	Datacenter                 string
	BackupDatacenter           string
	IPAddress                  string
	IsDisabled                 bool
	IsEncrypted                bool
	MachineName                string
	OperatingSystem            string
	OperatingSystemVersion     string
	PublicKey                  publicKey
	Status                     string
	TimeOfLastSuccessfulBackup *msDate
	UseServiceNet              bool
	UseFailoverUri             bool
	HostServerId               string
}

func (a *agent) status() string {
	if a.online {
		return "Online"
	}
	return "Offline"
}

func (a *agent) json(status string) agentJSON {
	var vault *string
	if a.vaultBytes > 0 || !a.lastSuccess.IsZero() {
		v := humanSize(a.vaultBytes)
		vault = &v
	}
	return agentJSON{
		MachineAgentId:             a.id,
		AgentVersion:               a.version,
		Architecture:               a.arch,
		Flavor:                     "RaxCloudServer",
		BackupVaultSize:            vault,
		BackupContainer:            a.container,
		CleanupAllowed:             a.cleanup,
		Datacenter:                 a.datacenter,
		BackupDatacenter:           a.backupDC,
		IPAddress:                  a.ip,
		IsDisabled:                 a.disabled,
		IsEncrypted:                a.encrypted,
		MachineName:                a.name,
		OperatingSystem:            a.os,
		OperatingSystemVersion:     a.osVersion,
		PublicKey:                  publicKey{a.modulus, 10001},
		Status:                     status,
		TimeOfLastSuccessfulBackup: dateOrNil(a.lastSuccess),
		UseServiceNet:              a.serviceNet,
		UseFailoverUri:             a.failover,
		HostServerId:               a.hostServerID,
	}
}

// visible reports whether the caller's endpoint serves agent a.
func (c *call) visible(a *agent) bool {
	return !a.deleted && (c.region == "" || c.region == a.datacenter)
}

// lookupAgent resolves an agent id for the caller: another tenant's agent is
// 403, an unknown, deleted or other-region agent answers notFound.
func (s *Server) lookupAgent(c *call, id int64, notFound int) (*agent, reply, bool) {
	a := s.agents[id]
	if a == nil || a.deleted {
		return nil, errReply(notFound, "agent %d not found", id), false
	}
	if a.tenant != c.tenant {
		return nil, errReply(http.StatusForbidden, "access denied to agent %d", id), false
	}
	if !c.visible(a) {
		return nil, errReply(notFound, "agent %d not found in region %s", id, c.region), false
	}
	return a, reply{}, true
}

// bodyAgent reads MachineAgentId from the body and resolves it; an unknown id
// in a body is 400 (§15.5).
func (s *Server) bodyAgent(c *call, f fields, key string) (*agent, reply, bool) {
	id, err := f.requiredInt64(key)
	if err != nil {
		return nil, badReply(err), false
	}
	return s.lookupAgent(c, id, http.StatusBadRequest)
}

func (c *call) fields(form bool) (fields, reply, bool) {
	f, err := decodeFields(c.body, form)
	if err != nil {
		return nil, badReply(err), false
	}
	return f, reply{}, true
}

// fieldsWithBool decodes the JSON body like fields and reads its required
// boolean key; a bad body or a missing or non-boolean key is the 400 reply.
func (c *call) fieldsWithBool(key string) (fields, bool, reply, bool) {
	f, rep, good := c.fields(false)
	if !good {
		return nil, false, rep, false
	}
	v, err := f.requiredBool(key)
	if err != nil {
		return nil, false, badReply(err), false
	}
	return f, v, reply{}, true
}

func (s *Server) getAgent(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return ok(a.json(a.status()))
}

func (s *Server) getAgentByHost(c *call) reply {
	for _, a := range c.tenant.agents {
		if c.visible(a) && strings.EqualFold(a.hostServerID, c.seg) {
			return ok(a.json(a.status()))
		}
	}
	for _, a := range s.agents {
		if !a.deleted && a.tenant != c.tenant && strings.EqualFold(a.hostServerID, c.seg) {
			return errReply(http.StatusForbidden, "access denied to host server %s", c.seg)
		}
	}
	return errReply(http.StatusNotFound, "no agent found for host server %s", c.seg)
}

func (s *Server) listAgents(c *call) reply {
	out := make([]agentJSON, 0, len(c.tenant.agents))
	for _, a := range c.tenant.agents {
		if c.visible(a) {
			// The list never reports a live status (§4.1).
			out = append(out, a.json("Unknown"))
		}
	}
	return ok(out)
}

func (s *Server) wakeAgents(c *call) reply {
	for _, a := range c.tenant.agents {
		if !c.visible(a) || a.disabled || a.online || a.wakePending {
			continue
		}
		if s.cfg.wakeDelay == 0 {
			a.online = true
			continue
		}
		a.wakePending = true
		s.push(s.after(c.now, s.cfg.wakeDelay), evAgentWake, a.id, 0)
	}
	return reply{http.StatusOK, nil}
}

func (s *Server) enableAgent(c *call) reply {
	f, enable, rep, good := c.fieldsWithBool("Enable")
	if !good {
		return rep
	}
	a, rep, found := s.bodyAgent(c, f, "MachineAgentId")
	if !found {
		return rep
	}
	a.disabled = !enable
	if a.disabled {
		a.wakePending = false
	}
	return reply{http.StatusNoContent, nil}
}

func validHex(key, v string) error {
	if v == "" {
		return badf("%s is required", key)
	}
	if _, err := hex.DecodeString(v); err != nil {
		return badf("%s must be a hex string", key)
	}
	return nil
}

func (s *Server) newGUID() json.RawMessage {
	s.nextID.guid++
	hi := s.rng.Uint64()
	return jsonString(fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		uint32(hi>>32), uint16(hi>>16), uint16(hi)&0xfff, 0x8000|uint16(s.nextID.guid)&0x3fff, s.rng.Uint64()&0xffffffffffff))
}

func (s *Server) encryptAgent(c *call) reply {
	f, rep, good := c.fields(false)
	if !good {
		return rep
	}
	pw, _, err := f.stringField("EncryptedPasswordHex")
	if err != nil {
		return badReply(err)
	}
	if err := validHex("EncryptedPasswordHex", pw); err != nil {
		return badReply(err)
	}
	a, rep, found := s.bodyAgent(c, f, "MachineAgentId")
	if !found {
		return rep
	}
	if a.encrypted {
		return errReply(http.StatusBadRequest, "agent %d: vault encryption is already enabled", a.id)
	}
	a.encrypted = true
	return ok(s.newGUID())
}

func (s *Server) changeEncryption(c *call) reply {
	f, rep, good := c.fields(false)
	if !good {
		return rep
	}
	for _, k := range []string{"OldEncryptedPasswordHex", "NewEncryptedPasswordHex"} {
		v, _, err := f.stringField(k)
		if err == nil {
			err = validHex(k, v)
		}
		if err != nil {
			return badReply(err)
		}
	}
	a, rep, found := s.bodyAgent(c, f, "MachineAgentId")
	if !found {
		return rep
	}
	if !a.encrypted {
		return errReply(http.StatusBadRequest, "agent %d: vault is not encrypted", a.id)
	}
	return ok(s.newGUID())
}

func (s *Server) deleteAgent(c *call) reply {
	f, rep, good := c.fields(false)
	if !good {
		return rep
	}
	key := "MachineAgentId"
	if !f.has(key) && f.has("MachineId") {
		key = "MachineId" // the 2013 spelling
	}
	a, rep, found := s.bodyAgent(c, f, key)
	if !found {
		return rep
	}
	a.deleted = true
	a.online = false
	a.wakePending = false
	a.vaultBytes = 0
	for _, cfg := range a.configs {
		if !cfg.deleted {
			cfg.deleted = true
			s.rearm(cfg, c.now)
		}
	}
	t := a.tenant
	for i, x := range t.agents {
		if x == a {
			t.agents = append(t.agents[:i:i], t.agents[i+1:]...)
			break
		}
	}
	return reply{http.StatusNoContent, nil}
}

func (s *Server) migrateVault(c *call) reply {
	f, rep, good := c.fields(false)
	if !good {
		return rep
	}
	if _, err := f.requiredInt64("SourceMachineAgentId"); err != nil {
		return badReply(err)
	}
	if _, err := f.requiredInt64("DestinationMachineAgentId"); err != nil {
		return badReply(err)
	}
	src, rep, found := s.bodyAgent(c, f, "SourceMachineAgentId")
	if !found {
		return rep
	}
	dst, rep, found := s.bodyAgent(c, f, "DestinationMachineAgentId")
	if !found {
		return rep
	}
	switch {
	case src == dst:
		return errReply(http.StatusBadRequest, "SourceMachineAgentId and DestinationMachineAgentId must differ")
	case src.encrypted || dst.encrypted:
		return errReply(http.StatusBadRequest, "cannot migrate an encrypted vault")
	}
	for _, cfg := range dst.configs {
		if !cfg.deleted {
			return errReply(http.StatusBadRequest, "destination agent %d already has backup configurations", dst.id)
		}
	}
	for _, cfg := range src.configs {
		if cfg.deleted {
			continue
		}
		for _, b := range cfg.backups {
			if b.state.busy() {
				return errReply(http.StatusBadRequest, "source agent %d has a backup in progress", src.id)
			}
		}
	}
	var keep []*configuration
	for _, cfg := range src.configs {
		if cfg.deleted {
			keep = append(keep, cfg)
			continue
		}
		cfg.agent = dst
		dst.configs = append(dst.configs, cfg)
	}
	src.configs = keep
	// The destination takes over the source's vault (its id and
	// container); the source starts a new, empty one.
	dst.vaultID, dst.container = src.vaultID, src.container
	s.newVault(src, src.tenant.id)
	dst.vaultBytes += src.vaultBytes
	src.vaultBytes = 0
	if src.lastSuccess.After(dst.lastSuccess) {
		dst.lastSuccess = src.lastSuccess
	}
	return reply{http.StatusOK, nil}
}

func (s *Server) updateAgentBehavior(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	f, useSN, rep, good := c.fieldsWithBool("UseServiceNet")
	if !good {
		return rep
	}
	// BackupDataCenter and BackupDatacenter are the same key once lower-cased.
	dc, hasDC, err := f.stringField("BackupDataCenter")
	if err != nil {
		return badReply(err)
	}
	if hasDC && dc != "" {
		dc = strings.ToUpper(dc)
		known := false
		for _, x := range c.tenant.agents {
			if x.datacenter == dc {
				known = true
				break
			}
		}
		if !known {
			return errReply(http.StatusBadRequest, "BackupDataCenter %q is not a datacenter where the account has servers", dc)
		}
		a.backupDC = dc
	}
	a.serviceNet = useSN
	return ok(a.json(a.status()))
}

// logLevelNames follows [py-new]: Fatal=1 ... All=7.
var logLevelNames = [...]string{1: "Fatal", 2: "Error", 3: "Warn", 4: "Info", 5: "Debug", 6: "Trace", 7: "All"}

// logLevelName returns the name of level n ("" when out of range).
func logLevelName(n int) string {
	if n >= 0 && n < len(logLevelNames) {
		return logLevelNames[n]
	}
	return ""
}

func (s *Server) setLogLevel(c *call) reply {
	f, rep, good := c.fields(true)
	if !good {
		return rep
	}
	level, hasLevel, err := f.int64Field("LoggingLevelId")
	if err != nil {
		name, _, serr := f.stringField("LoggingLevelId")
		if serr != nil {
			return badReply(err)
		}
		level, hasLevel = 0, true
		for n := int64(1); n <= 7; n++ {
			if strings.EqualFold(logLevelName(int(n)), name) {
				level = n
			}
		}
	}
	if !hasLevel {
		return errReply(http.StatusBadRequest, "LoggingLevelId is required")
	}
	if level < 1 || level > 7 {
		return errReply(http.StatusBadRequest, "LoggingLevelId must be 1-7 (Fatal, Error, Warn, Info, Debug, Trace, All)")
	}
	a, rep, found := s.bodyAgent(c, f, "MachineAgentId")
	if !found {
		return rep
	}
	a.logLevel = int(level)
	return reply{http.StatusNoContent, nil}
}

func (s *Server) getLogLevel(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return ok(jsonString(logLevelName(a.logLevel)))
}

func (s *Server) requestLog(c *call) reply {
	_, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return ok(s.newGUID())
}

type logFileJSON struct {
	DisplayName  string
	CurrentState string
	FilePath     string
}

func (s *Server) listLogFiles(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	out := make([]logFileJSON, 0, 3)
	day := c.now.UTC().Truncate(24 * time.Hour)
	for i := range 3 {
		d := day.AddDate(0, 0, -i).Format("2006-01-02")
		out = append(out, logFileJSON{
			DisplayName:  d,
			CurrentState: "Uploaded",
			FilePath:     a.container + "/logs/driveclient-" + d + ".log.gz",
		})
	}
	return ok(out)
}

type agentEventJSON struct {
	Data struct {
		Event          string
		MachineAgentId int64
	} `json:"data"`
	Age int `json:"age"`
}

func (s *Server) listAgentEvents(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	out := []agentEventJSON{}
	if a.online {
		var e agentEventJSON
		e.Data.Event = "Heartbeat"
		e.Data.MachineAgentId = a.id
		e.Age = int(c.now.Unix() % 20)
		out = append(out, e)
	}
	return ok(out)
}

func (s *Server) getAgentConfiguration(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	type item struct{ Pattern, Type, Module, Args string }
	var cfgs []map[string]any
	for _, cfg := range a.configs {
		if cfg.deleted {
			continue
		}
		inc := []item{}
		for _, p := range cfg.inclusions {
			inc = append(inc, item{p.path, p.itemType, "", ""})
		}
		exc := []item{}
		for _, p := range cfg.exclusions {
			exc = append(exc, item{p.path, p.itemType, "", ""})
		}
		cfgs = append(cfgs, map[string]any{
			"Id": cfg.id, "Name": cfg.name, "IsEnabled": cfg.active,
			"VolumeUri": a.container, "VolumeFailoverUri": a.container,
			"DaysToKeepOldFileVersions":       cfg.retention,
			"KeepOldFileVersionsIndefinitely": cfg.retention == 0,
			"BackupPrescript":                 cfg.prescript, "BackupPostscript": cfg.postscript,
			"Schedules":  []map[string]any{{"Frequency": cfg.frequency, "HourlyInterval": cfg.interval, "DayOfWeek": cfg.dayOfWeek, "TimeOfDay": cfg.timeOfDay(), "Start": "2010-01-01 00:00", "End": nil, "InitialScheduledTime": nil, "IsDST": false, "Offset": 0}},
			"Inclusions": inc, "Exclusions": exc,
		})
	}
	if cfgs == nil {
		cfgs = []map[string]any{}
	}
	return ok(map[string]any{
		"Volumes": []map[string]any{{
			"Uri": a.container, "FailoverUri": a.container, "EncryptionEnabled": a.encrypted,
			"Password": nil, "NetworkDrives": []string{}, "BackupVaultId": a.vaultID, "DataServicesDomain": "clouddrive.com",
		}},
		"SystemPreferences": map[string]any{
			"AutoUpdate":  map[string]any{"Enabled": true, "LatestVersion": a.version},
			"Environment": map[string]any{"MinimumDiskSpaceMb": map[string]int{"Backup": 2048, "Restore": 2048, "Cleanup": 2048}},
			"Logging":     map[string]any{"Level": logLevelName(a.logLevel)},
			"Rse": map[string]any{"Channel": "rse-" + strconv.FormatInt(a.id, 10), "HostName": "rse.drivesrvr.com", "Polling": map[string]any{
				"Interval": map[string]int{"Idle": 30000, "Active": 2000, "RealTime": 0},
				"Timeout":  map[string]int{"Idle": 60000, "Active": 10000, "RealTime": 5000},
			}, "Heartbeat": map[string]any{
				"Interval": map[string]int{"Idle": 300000, "Active": 60000, "RealTime": 10000},
				"Timeout":  map[string]int{"Idle": 600000, "Active": 120000, "RealTime": 20000},
			}},
		},
		"UserPreferences":      map[string]any{"CacheDirectory": "", "ThrottleBandwidth": nil},
		"BackupConfigurations": cfgs,
	})
}
