package rcbusim

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Job timing on the simulated clock.
const (
	startDelayMin = 2 * time.Second
	startDelayMax = 5 * time.Second
	queuedDelay   = 3 * time.Second
	prepareDelay  = 5 * time.Second
	stopDelay     = 2 * time.Second
)

// runDuration is the InProgress time of a job over n bytes: 8 s plus one
// second per 300 MiB, capped so that a whole demo run takes 20-90 s.
func (s *Server) runDuration(n int64) time.Duration {
	d := 8*time.Second + time.Duration(n/(300<<20))*time.Second
	d += time.Duration(s.rng.Int64N(int64(3 * time.Second)))
	return min(d, 72*time.Second).Truncate(time.Millisecond)
}

func (s *Server) startDelay() time.Duration {
	d := startDelayMin + time.Duration(s.rng.Int64N(int64(startDelayMax-startDelayMin)))
	return d.Truncate(time.Millisecond)
}

// newBackup registers a backup of cfg in state st.
func (s *Server) newBackup(cfg *configuration, at time.Time, st backupState) *backup {
	s.nextID.backup++
	b := &backup{id: s.nextID.backup, config: cfg, state: st, start: at, changed: at, errSeed: s.rng.Uint64()}
	s.backups[b.id] = b
	cfg.backups = append(cfg.backups, b)
	return b
}

// startBackup creates a busy backup and schedules its first transition.
func (s *Server) startBackup(cfg *configuration, at time.Time, st backupState) *backup {
	b := s.newBackup(cfg, at, st)
	cfg.running = b
	s.push(s.after(at, s.startDelay()), evBackupStep, b.id, b.gen)
	return b
}

// finishImmediately records a run that never started (Missed or Skipped).
func (s *Server) finishImmediately(cfg *configuration, at time.Time, st backupState) *backup {
	b := s.newBackup(cfg, at, st)
	s.finalize(b, st, at)
	return b
}

func (s *Server) stepBackup(ev event) {
	b := s.backups[ev.id]
	if b == nil || b.gen != ev.gen || !b.state.busy() {
		return
	}
	at := ev.at
	switch b.state {
	case bsStartRequested, bsStartScheduled:
		b.state, b.changed = bsQueued, at
		s.push(s.after(at, queuedDelay), evBackupStep, b.id, b.gen)
	case bsQueued:
		b.state, b.changed = bsPreparing, at
		s.push(s.after(at, prepareDelay), evBackupStep, b.id, b.gen)
	case bsPreparing:
		b.state, b.changed = bsInProgress, at
		s.push(s.after(at, s.runDuration(b.config.dataBytes)), evBackupStep, b.id, b.gen)
	case bsInProgress:
		s.finalize(b, s.outcome(b.config), at)
	case bsStopRequested:
		s.finalize(b, bsStopped, at)
	}
}

// outcome draws the final state of a run: a forced outcome first, then
// mostly Completed, some CompletedWithErrors, a few Failed.
func (s *Server) outcome(cfg *configuration) backupState {
	if cfg.forced != "" {
		st, _ := parseBackupState(cfg.forced)
		cfg.forced = ""
		return st
	}
	switch r := s.rng.Float64(); {
	case r < 0.04:
		return bsFailed
	case r < 0.15:
		return bsCompletedWithErrors
	}
	return bsCompleted
}

// finalize ends backup b in state st at time at and updates the
// configuration and agent (§15.21).
func (s *Server) finalize(b *backup, st backupState, at time.Time) {
	cfg := b.config
	a := cfg.agent
	b.state, b.changed, b.end = st, at, at
	if cfg.running == b {
		cfg.running = nil
	}
	switch st {
	case bsCompleted, bsCompletedWithErrors, bsFailed, bsStopped:
		first := !cfg.hasSuccess
		cfg.dataBytes += s.rng.Int64N(cfg.dataBytes/500 + 1)
		cfg.dataFiles += s.rng.Int64N(cfg.dataFiles/500 + 1)
		b.filesSearch, b.bytesSearch = cfg.dataFiles, cfg.dataBytes
		if first {
			b.filesBacked, b.bytesBacked = b.filesSearch, b.bytesSearch
		} else {
			frac := 0.002 + s.rng.Float64()*0.05
			b.filesBacked = int64(float64(b.filesSearch) * frac)
			b.bytesBacked = int64(float64(b.bytesSearch) * frac * (0.5 + s.rng.Float64()))
		}
		switch st {
		case bsFailed, bsStopped:
			part := s.rng.Float64() * 0.6
			b.filesSearch = int64(float64(b.filesSearch) * part)
			b.bytesSearch = int64(float64(b.bytesSearch) * part)
			b.filesBacked = int64(float64(b.filesBacked) * part)
			b.bytesBacked = int64(float64(b.bytesBacked) * part)
			if st == bsFailed {
				b.numErrors = 1
			}
		case bsCompletedWithErrors:
			b.numErrors = int32(1 + s.rng.IntN(5))
		}
	}
	if st.canRestore() {
		cfg.hasSuccess = true
		a.lastSuccess = at
		a.vaultBytes += b.bytesBacked
	}
	cfg.lastRun = b.start
	cfg.lastBackupID = b.id
	cfg.lastState = st
	cfg.hasRun = true
}

// lookupBackup resolves a backup id for the caller.
func (s *Server) lookupBackup(c *call, id int64, anyRegion bool) (*backup, reply, bool) {
	b := s.backups[id]
	if b == nil || b.config.agent.deleted {
		return nil, errReply(http.StatusNotFound, "backup %d not found", id), false
	}
	a := b.config.agent
	if a.tenant != c.tenant {
		return nil, errReply(http.StatusForbidden, "access denied to backup %d", id), false
	}
	if !anyRegion && !c.visible(a) {
		return nil, errReply(http.StatusNotFound, "backup %d not found in region %s", id, c.region), false
	}
	return b, reply{}, true
}

// jobAction is a decoded action-requested body (§6.1, §7.7).
type jobAction struct {
	fields
	start bool  // StartManual; otherwise StopManual
	id    int64 // configuration (backup start) or job id
}

// jobAction reads {"Action": "StartManual" | "StopManual", "Id": n}.
func (c *call) jobAction() (jobAction, reply, bool) {
	f, rep, good := c.fields(false)
	if !good {
		return jobAction{}, rep, false
	}
	action, err := f.requiredString("Action")
	if err != nil {
		return jobAction{}, badReply(err), false
	}
	id, err := f.requiredInt64("Id")
	if err != nil {
		return jobAction{}, badReply(err), false
	}
	start := strings.EqualFold(action, "StartManual")
	if !start && !strings.EqualFold(action, "StopManual") {
		return jobAction{}, errReply(http.StatusBadRequest, "Action must be StartManual or StopManual, got %q", clip(action)), false
	}
	return jobAction{f, start, id}, reply{}, true
}

func (s *Server) backupAction(c *call) reply {
	act, rep, good := c.jobAction()
	if !good {
		return rep
	}
	if act.start {
		cfg, rep, found := s.lookupConfig(c, act.id, http.StatusNotFound)
		if !found {
			return rep
		}
		a := cfg.agent
		switch {
		case cfg.deleted:
			return errReply(http.StatusNotFound, "backup configuration %d is deleted", cfg.id)
		case a.disabled:
			return errReply(http.StatusForbidden, "agent %d is disabled", a.id)
		case !a.online:
			return errReply(http.StatusForbidden, "agent %d is offline; wake it up (POST /user/wakeupagents) and retry", a.id)
		}
		var b *backup
		if cfg.running != nil {
			// A second start while a run is busy is recorded as Skipped.
			b = s.finishImmediately(cfg, c.now, bsSkipped)
		} else {
			b = s.startBackup(cfg, c.now, bsStartRequested)
		}
		return ok(jsonInt(b.id))
	}
	b, rep, found := s.lookupBackup(c, act.id, false)
	if !found {
		return rep
	}
	if !b.state.busy() {
		return errReply(http.StatusBadRequest, "backup %d is not running (state %s)", b.id, b.state)
	}
	if b.state != bsStopRequested {
		b.state, b.changed = bsStopRequested, c.now
		b.gen++
		s.push(s.after(c.now, stopDelay), evBackupStep, b.id, b.gen)
	}
	return reply{http.StatusNoContent, nil}
}

type backupJSON struct {
	BackupId                int64
	BackupConfigurationId   int64
	BackupConfigurationName string
	CurrentState            string
	MachineAgentId          int64
	MachineName             string
	StateChangeTime         msDate
	IsEncrypted             bool
	EncryptionKey           publicKey
	Datacenter              string
	BackupDatacenter        string
}

func (s *Server) getBackup(c *call) reply {
	b, rep, found := s.lookupBackup(c, c.id, false)
	if !found {
		return rep
	}
	a := b.config.agent
	return ok(backupJSON{
		BackupId:                b.id,
		BackupConfigurationId:   b.config.id,
		BackupConfigurationName: b.config.name,
		CurrentState:            b.state.String(),
		MachineAgentId:          a.id,
		MachineName:             a.name,
		StateChangeTime:         msDate(b.changed),
		IsEncrypted:             a.encrypted,
		EncryptionKey:           publicKey{a.modulus, 10001},
		Datacenter:              a.datacenter,
		BackupDatacenter:        a.backupDC,
	})
}

type completedJSON struct {
	BackupId                int64
	BackupConfigurationId   int64
	BackupConfigurationName string
	MachineName             string
	MachineAgentId          int64
	CompletedTime           msDate
	BytesSearched           int64
	NumErrors               int32
}

// restorable reports whether b can still be restored at now: a successful
// run within the version retention (0 keeps everything); the newest
// successful run always stays.
func restorable(b *backup, now time.Time, newest bool) bool {
	if !b.state.canRestore() {
		return false
	}
	ret := b.config.retention
	return newest || ret == 0 || now.Sub(b.end) <= time.Duration(ret)*24*time.Hour
}

func (s *Server) listCompleted(c *call) reply {
	cfg, rep, found := s.lookupConfig(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	out := []completedJSON{}
	newest := true
	for i := len(cfg.backups) - 1; i >= 0; i-- {
		b := cfg.backups[i]
		if !restorable(b, c.now, newest) {
			continue
		}
		newest = false
		out = append(out, completedJSON{b.id, cfg.id, cfg.name, cfg.agent.name, cfg.agent.id, msDate(b.end), b.bytesSearch, b.numErrors})
	}
	return ok(out)
}

type errorItemJSON struct {
	BackupReportID   int64
	ListIndex        int
	ErrorType        int
	ErrorDesc        string
	ExceptionDesc    string
	ExceptionDetails string
	ExceptionCode    int
	Path             string
}

type backupReportJSON struct {
	BackupId                     int64
	BackupConfigurationId        int64
	BackupConfigurationName      string
	BackupConfigurationIsDeleted bool
	ComputerName                 string
	MachineAgentId               int64
	State                        string
	CanRestore                   bool
	StartTime                    msDate
	CompletedTime                msDate
	Duration                     string
	FilesSearched                string
	BytesSearched                string
	FilesBackedUp                string
	BytesBackedUp                string
	NumErrors                    int32
	Reason                       string
	Diagnostics                  string
	ErrorList                    []errorItemJSON
	Datacenter                   string
	BackupDatacenter             string
	SnapshotId                   int64
}

func reasonOf(st backupState) (reason, diag string) {
	switch st {
	case bsCompleted:
		return "Success", "No errors"
	case bsCompletedWithErrors:
		return "Success", "Completed With Errors"
	case bsFailed:
		return "UnableToBackup", "The backup failed; see the error list"
	case bsStopped:
		return "StoppedByUser", "The backup was stopped"
	case bsSkipped:
		return "PreviousRunActive", "Skipped: a backup of this configuration was already running"
	case bsMissed:
		return "AgentOffline", "Missed: the agent was offline at the scheduled time"
	}
	return "", ""
}

func (s *Server) getBackupReport(c *call) reply {
	b, rep, found := s.lookupBackup(c, c.id, false)
	if !found {
		return rep
	}
	if b.state.busy() {
		return errReply(http.StatusNotFound, "backup %d has no report yet (state %s)", b.id, b.state)
	}
	cfg, a := b.config, b.config.agent
	reason, diag := reasonOf(b.state)
	snap := int64(-1)
	if b.state.canRestore() {
		snap = b.id*10 + 1
	}
	return ok(backupReportJSON{
		BackupId:                     b.id,
		BackupConfigurationId:        cfg.id,
		BackupConfigurationName:      cfg.name,
		BackupConfigurationIsDeleted: cfg.deleted,
		ComputerName:                 a.name,
		MachineAgentId:               a.id,
		State:                        b.state.String(),
		CanRestore:                   b.state.canRestore(),
		StartTime:                    msDate(b.start),
		CompletedTime:                msDate(b.end),
		Duration:                     hms(b.end.Sub(b.start)),
		FilesSearched:                strconv.FormatInt(b.filesSearch, 10),
		BytesSearched:                humanSize(b.bytesSearch),
		FilesBackedUp:                strconv.FormatInt(b.filesBacked, 10),
		BytesBackedUp:                humanSize(b.bytesBacked),
		NumErrors:                    b.numErrors,
		Reason:                       reason,
		Diagnostics:                  diag,
		ErrorList:                    errorList(b.id, b.errSeed, int(b.numErrors), b.state == bsFailed, cfg, a),
		Datacenter:                   a.datacenter,
		BackupDatacenter:             a.backupDC,
		SnapshotId:                   snap,
	})
}

// errorList regenerates a job's errors deterministically from its seed:
// permission denied, file locked and path too long, under the
// configuration's inclusions.
func errorList(reportID int64, seed uint64, n int, failed bool, cfg *configuration, a *agent) []errorItemJSON {
	out := make([]errorItemJSON, 0, n)
	if n == 0 {
		return out
	}
	r := rand.New(rand.NewPCG(seed, uint64(reportID)))
	windows := strings.Contains(strings.ToLower(a.os), "windows")
	sep := "/"
	if windows {
		sep = `\`
	}
	if failed {
		return append(out, errorItemJSON{reportID, 0, 201, "The backup could not be completed.",
			"Lost connection to the storage backend", "HTTP 503 from Cloud Files after 5 retries", 503, ""})
	}
	names := []string{"app.log", "secret.key", "db.sqlite-wal", "cache.bin", "id_rsa", "settings.ini", "data.mdf", "report-final-v2.xlsx", "session.lock", "thumbs.db"}
	for range n {
		base := "/var/www"
		if windows {
			base = `C:\inetpub\wwwroot`
		}
		if len(cfg.inclusions) > 0 {
			base = cfg.inclusions[r.IntN(len(cfg.inclusions))].path
		}
		path := strings.TrimRight(base, `/\`) + sep + names[r.IntN(len(names))]
		item := errorItemJSON{BackupReportID: reportID, ListIndex: r.IntN(20000), Path: path}
		switch r.IntN(3) {
		case 0:
			item.ErrorType, item.ErrorDesc = 101, "The agent could not read a file."
			item.ExceptionDesc = "Permission denied opening " + path
			item.ExceptionDetails, item.ExceptionCode = "open("+path+"): EACCES", 13
			if windows {
				item.ExceptionDesc = "Access to the path '" + path + "' is denied."
				item.ExceptionDetails, item.ExceptionCode = "System.UnauthorizedAccessException", 5
			}
		case 1:
			item.ErrorType, item.ErrorDesc = 102, "The file is locked by another process."
			item.ExceptionDesc = "Resource temporarily unavailable: " + path
			item.ExceptionDetails, item.ExceptionCode = "flock("+path+"): EAGAIN", 11
			if windows {
				item.ExceptionDesc = "The process cannot access the file '" + path + "' because it is being used by another process."
				item.ExceptionDetails, item.ExceptionCode = "System.IO.IOException", 32
			}
		default:
			long := strings.TrimRight(base, `/\`) + sep + strings.Repeat("very-long-directory-name"+sep, 12) + names[r.IntN(len(names))]
			item.Path = long
			item.ErrorType, item.ErrorDesc = 103, "The path is too long."
			item.ExceptionDesc = "File name too long: " + long
			item.ExceptionDetails, item.ExceptionCode = "stat: ENAMETOOLONG", 36
			if windows {
				item.ExceptionDesc = "The specified path, file name, or both are too long."
				item.ExceptionDetails, item.ExceptionCode = "System.IO.PathTooLongException", 206
			}
		}
		out = append(out, item)
	}
	return out
}

type availableJSON struct {
	BackupConfigurationId    int64
	BackupConfigurationName  string
	MachineName              string
	MachineAgentId           int64
	IsEncrypted              bool
	PublicKeyHex             int
	PublicKeyMod             string
	Flavor                   string
	LastSuccessfulBackupTime msDate
}

func (s *Server) availableForRestore(c *call) reply {
	out := []availableJSON{}
	for _, cfg := range c.tenant.configs {
		if cfg.deleted || !c.visible(cfg.agent) {
			continue
		}
		var last *backup
		for i := len(cfg.backups) - 1; i >= 0; i-- {
			if cfg.backups[i].state.canRestore() {
				last = cfg.backups[i]
				break
			}
		}
		if last == nil {
			continue
		}
		a := cfg.agent
		out = append(out, availableJSON{cfg.id, cfg.name, a.name, a.id, a.encrypted, 10001, a.modulus, "RaxCloudServer", msDate(last.end)})
	}
	return ok(out)
}
