package rcbusim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AgentSeed describes an agent to add with AddAgent or a seed file. Zero
// values get plausible defaults (name, OS, datacenter DFW, IP, host server
// id, key).
type AgentSeed struct {
	Name             string `json:"name"`
	OS               string `json:"os"`        // e.g. "Ubuntu", "Windows Server 2019"
	OSVersion        string `json:"osVersion"` // e.g. "22.04"; may be ""
	Architecture     string `json:"architecture"`
	AgentVersion     string `json:"agentVersion"`
	Datacenter       string `json:"datacenter"`       // DFW, ORD, IAD, LON, HKG, SYD
	BackupDatacenter string `json:"backupDatacenter"` // defaults to Datacenter
	Online           bool   `json:"online"`
	Disabled         bool   `json:"disabled"`
	Encrypted        bool   `json:"encrypted"`
	UseServiceNet    bool   `json:"useServiceNet"`
	HostServerID     string `json:"hostServerId"`
	IP               string `json:"ip"`
	VaultBytes       int64  `json:"vaultBytes"`
}

// ConfigurationSeed describes a backup configuration to add with
// AddConfiguration or a seed file. It is validated like a create request.
// Hour, Minute and AmPm apply to Daily and Weekly, DayOfWeek to Weekly,
// HourInterval to Hourly; the others are ignored.
type ConfigurationSeed struct {
	AgentID          int64    `json:"-"`
	Name             string   `json:"name"`
	Frequency        string   `json:"frequency"` // Manually (default), Hourly, Daily, Weekly
	Hour             int      `json:"hour"`      // 1-12
	Minute           int      `json:"minute"`    // 0-59
	AmPm             string   `json:"amPm"`      // AM (default) or PM
	DayOfWeek        int      `json:"dayOfWeek"` // 0 Sunday - 6 Saturday
	HourInterval     int      `json:"hourInterval"`
	TimeZone         string   `json:"timeZone"` // Windows id or IANA name; default UTC
	Inclusions       []string `json:"inclusions"`
	Exclusions       []string `json:"exclusions"`
	VersionRetention int      `json:"versionRetention"` // 0, 30 or 60
	Inactive         bool     `json:"inactive"`         // IsActive=false
	NotifyRecipients string   `json:"notifyRecipients"`
	NotifySuccess    bool     `json:"notifySuccess"`
	NotifyFailure    bool     `json:"notifyFailure"`
	DataBytes        int64    `json:"dataBytes"` // size of the data set; drives durations
}

// AddAgent adds an agent to tenant and returns its id.
func (s *Server) AddAgent(tenant string, a AgentSeed) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	return s.addAgent(tenant, a).id
}

func (s *Server) addAgent(tenantID string, seed AgentSeed) *agent {
	t := s.tenantOf(tenantID)
	s.nextID.agent += 1 + int64(s.rng.IntN(40))
	a := &agent{
		id: s.nextID.agent, tenant: t, name: seed.Name, os: seed.OS, osVersion: seed.OSVersion,
		arch: seed.Architecture, version: seed.AgentVersion, datacenter: strings.ToUpper(seed.Datacenter),
		backupDC: strings.ToUpper(seed.BackupDatacenter), ip: seed.IP, hostServerID: seed.HostServerID,
		online: seed.Online, disabled: seed.Disabled, encrypted: seed.Encrypted, serviceNet: seed.UseServiceNet,
		cleanup: true, logLevel: 3, vaultBytes: seed.VaultBytes,
	}
	if a.name == "" {
		a.name = fmt.Sprintf("server-%d", a.id)
	}
	if a.os == "" {
		a.os, a.osVersion = "Ubuntu", "22.04"
	}
	if a.arch == "" {
		a.arch = "64-bit"
	}
	if a.version == "" {
		a.version = fmt.Sprintf("1.%02d.%06d", 30+s.rng.IntN(8), 1000+s.rng.IntN(9000))
	}
	if _, ok := isRegion(strings.ToLower(a.datacenter)); !ok {
		a.datacenter = "DFW"
	}
	if a.backupDC == "" {
		a.backupDC = a.datacenter
	}
	if a.ip == "" {
		a.ip = fmt.Sprintf("%d.%d.%d.%d", []int{23, 104, 162, 166}[s.rng.IntN(4)], s.rng.IntN(256), s.rng.IntN(256), 2+s.rng.IntN(250))
	}
	if a.hostServerID == "" {
		a.hostServerID = s.uuid()
	}
	a.hostServerID = strings.ToLower(a.hostServerID)
	a.modulus = s.newModulus()
	s.newVault(a, tenantID)
	s.agents[a.id] = a
	t.agents = append(t.agents, a)
	return a
}

// newModulus returns a 2048-bit odd modulus in hex (512 digits, like a real
// agent key) so clients can RSA-encrypt passphrases with crypto/rsa, which
// refuses keys under 1024 bits. It is not a product of two primes: nobody
// decrypts in the simulator.
func (s *Server) newModulus() string {
	var b strings.Builder
	b.Grow(512)
	for i := range 32 {
		w := s.rng.Uint64()
		switch i {
		case 0:
			w |= 1 << 63
		case 31:
			w |= 1
		}
		fmt.Fprintf(&b, "%016X", w)
	}
	return b.String()
}

// newVault gives agent a a new, empty vault: a GUID-like id and the Cloud
// Files container named after it (§3, §3.13).
func (s *Server) newVault(a *agent, tenantID string) {
	a.vaultID = s.uuid()
	a.container = fmt.Sprintf("https://storage101.%s1.clouddrive.com/v1/MossoCloudFS_%s-5e0c-4a2b-9aaa-0123456789ab/z_DO_NOT_DELETE_CloudBackup_v2_0_%s",
		strings.ToLower(a.backupDC), tenantID, a.vaultID)
}

func (s *Server) uuid() string {
	hi, lo := s.rng.Uint64(), s.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(hi>>32), uint16(hi>>16), uint16(hi)&0xfff,
		0x8000|uint16(lo>>48)&0x3fff, lo&0xffffffffffff)
}

// AddConfiguration adds a backup configuration to agent c.AgentID (in any
// tenant) after validating it like a create request.
func (s *Server) AddConfiguration(tenant string, c ConfigurationSeed) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advanceLocked(now)
	a := s.agents[c.AgentID]
	if a == nil || a.deleted || a.tenant.id != tenant {
		return 0, fmt.Errorf("rcbusim: add configuration: agent %d not found in tenant %s", c.AgentID, tenant)
	}
	cfg, err := s.addConfiguration(a, c, now)
	if err != nil {
		return 0, err
	}
	return cfg.id, nil
}

func (s *Server) addConfiguration(a *agent, c ConfigurationSeed, now time.Time) (*configuration, error) {
	body := map[string]any{
		"MachineAgentId":          a.id,
		"BackupConfigurationName": c.Name,
		"IsActive":                !c.Inactive,
		"VersionRetention":        c.VersionRetention,
		"MissedBackupActionId":    1,
		"Frequency":               cmp.Or(c.Frequency, "Manually"),
		"TimeZoneId":              cmp.Or(c.TimeZone, "UTC"),
		"NotifyRecipients":        c.NotifyRecipients,
		"NotifySuccess":           c.NotifySuccess,
		"NotifyFailure":           c.NotifyFailure,
	}
	switch strings.ToLower(c.Frequency) {
	case "daily", "weekly":
		body["StartTimeHour"], body["StartTimeMinute"], body["StartTimeAmPm"] = c.Hour, c.Minute, cmp.Or(c.AmPm, "AM")
		if strings.EqualFold(c.Frequency, "weekly") {
			body["DayOfWeekId"] = c.DayOfWeek
		}
	case "hourly":
		body["HourInterval"] = c.HourInterval
	}
	items := func(paths []string) []map[string]string {
		out := []map[string]string{}
		for _, p := range paths {
			out = append(out, map[string]string{"FilePath": p, "FileItemType": "Folder"})
		}
		return out
	}
	body["Inclusions"], body["Exclusions"] = items(c.Inclusions), items(c.Exclusions)
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("rcbusim: add configuration %q: %w", c.Name, err)
	}
	req, err := parseConfigRequest(raw, true)
	if err != nil {
		return nil, fmt.Errorf("rcbusim: add configuration %q: %w", c.Name, err)
	}
	if nameTaken(a, req.name, nil) {
		return nil, fmt.Errorf("rcbusim: add configuration %q: name already used on agent %d", req.name, a.id)
	}
	cfg := s.newConfiguration(a, now)
	if c.DataBytes > 0 {
		cfg.dataBytes = c.DataBytes
		cfg.dataFiles = c.DataBytes/(180<<10) + 50
	}
	s.applyConfig(cfg, req, now)
	return cfg, nil
}

// SetAgentOnline sets an agent's live status.
func (s *Server) SetAgentOnline(id int64, online bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	if a := s.agents[id]; a != nil {
		a.online = online
		a.wakePending = false
	}
}

// SetAgentDisabled sets an agent's IsDisabled flag.
func (s *Server) SetAgentDisabled(id int64, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	if a := s.agents[id]; a != nil {
		a.disabled = disabled
	}
}

// SetNextOutcome forces the final state of the next run of configuration
// configID that reaches its end ("Completed", "CompletedWithErrors",
// "Failed"). Unknown states are ignored.
func (s *Server) SetNextOutcome(configID int64, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := parseBackupState(state)
	if cfg := s.configs[configID]; cfg != nil && ok && (st.canRestore() || st == bsFailed) {
		cfg.forced = state
	}
}

// BackupInfo is a test's view of one backup.
type BackupInfo struct {
	ID              int64
	ConfigurationID int64
	AgentID         int64
	Tenant          string
	State           string
	Start           time.Time
	End             time.Time // zero while busy
}

// Backups returns every backup, oldest first, after processing due events.
func (s *Server) Backups() []BackupInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	out := make([]BackupInfo, 0, len(s.backups))
	for _, b := range s.backups {
		a := b.config.agent
		out = append(out, BackupInfo{b.id, b.config.id, a.id, a.tenant.id, b.state.String(), b.start, b.end})
	}
	slices.SortFunc(out, func(x, y BackupInfo) int { return cmp.Compare(x.ID, y.ID) })
	return out
}

// RestoreInfo is a test's view of one restore.
type RestoreInfo struct {
	ID                 int64
	BackupID           int64
	DestinationAgentID int64
	Tenant             string
	StateID            int
	State              string
	Start              time.Time // zero until started
	End                time.Time // zero until done
}

// Restores returns every restore, oldest first, after processing due events.
func (s *Server) Restores() []RestoreInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	out := make([]RestoreInfo, 0, len(s.restores))
	for _, r := range s.restores {
		out = append(out, RestoreInfo{r.id, r.backup.id, r.dest.id, r.tenant.id, r.state, restoreStateName(r.state), r.start, r.end})
	}
	slices.SortFunc(out, func(x, y RestoreInfo) int { return cmp.Compare(x.ID, y.ID) })
	return out
}

// AgentIDs returns the ids of tenant's agents (not deleted), ascending.
func (s *Server) AgentIDs(tenant string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	if t := s.tenants[tenant]; t != nil {
		for _, a := range t.agents {
			out = append(out, a.id)
		}
	}
	return out
}

// ConfigurationIDs returns the ids of tenant's configurations that are not
// deleted, ascending.
func (s *Server) ConfigurationIDs(tenant string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	if t := s.tenants[tenant]; t != nil {
		for _, c := range t.configs {
			if !c.deleted {
				out = append(out, c.id)
			}
		}
	}
	return out
}
