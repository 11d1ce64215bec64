package rcbusim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

type restoreJSON struct {
	RestoreId               int64
	BackupId                int64
	BackupConfigurationId   int64
	BackupConfigurationName string
	BackupRestorePoint      msDate
	BackupMachineId         int64
	BackupMachineName       string
	BackupFlavor            string
	BackupDataCenter        string
	DestinationMachineId    int64
	DestinationMachineName  string
	DestinationPath         string
	OverwriteFiles          bool
	IsEncrypted             bool
	EncryptedPassword       *string
	PublicKey               publicKey
	RestoreStateId          int
	MachineAgentId          int64
	Inclusions              []restoreFileJSON
	Exclusions              []restoreFileJSON
}

type restoreFileJSON struct {
	FileId       int64
	FilePath     string
	Filter       int
	RestoreId    int64
	FileItemType int
}

func (r *restore) filesJSON(filter int) []restoreFileJSON {
	out := []restoreFileJSON{}
	for _, f := range r.files {
		if filter == 0 || f.filter == filter {
			out = append(out, restoreFileJSON{f.id, f.path, f.filter, r.id, f.itemType})
		}
	}
	return out
}

func (r *restore) json() restoreJSON {
	b := r.backup
	src := b.config.agent
	return restoreJSON{
		RestoreId:               r.id,
		BackupId:                b.id,
		BackupConfigurationId:   b.config.id,
		BackupConfigurationName: b.config.name,
		BackupRestorePoint:      msDate(b.end),
		BackupMachineId:         src.id,
		BackupMachineName:       src.name,
		BackupFlavor:            "RaxCloudServer",
		BackupDataCenter:        r.backupDC,
		DestinationMachineId:    r.dest.id,
		DestinationMachineName:  r.dest.name,
		DestinationPath:         r.destPath,
		OverwriteFiles:          r.overwrite,
		IsEncrypted:             src.encrypted,
		EncryptedPassword:       nil,
		PublicKey:               publicKey{r.dest.modulus, 10001},
		RestoreStateId:          r.state,
		MachineAgentId:          r.dest.id,
		Inclusions:              r.filesJSON(1),
		Exclusions:              r.filesJSON(2),
	}
}

// lookupRestore resolves a restore id; restores belong to the region of
// their destination agent.
func (s *Server) lookupRestore(c *call, id int64, notFound int) (*restore, reply, bool) {
	r := s.restores[id]
	if r == nil || r.dest.deleted {
		return nil, errReply(notFound, "restore %d not found", id), false
	}
	if r.tenant != c.tenant {
		return nil, errReply(http.StatusForbidden, "access denied to restore %d", id), false
	}
	if !c.visible(r.dest) {
		return nil, errReply(notFound, "restore %d not found in region %s", id, c.region), false
	}
	return r, reply{}, true
}

// restoreTarget holds the validated backup/destination part of R1/R2.
type restoreTarget struct {
	backup    *backup
	dest      *agent
	path      string
	overwrite bool
	dc        string
}

// parseRestoreTarget validates the R1 fields; with partial (R2) absent
// fields keep the values in base.
func (s *Server) parseRestoreTarget(c *call, f fields, base *restore) (restoreTarget, reply, bool) {
	var t restoreTarget
	partial := base != nil
	if partial {
		t = restoreTarget{base.backup, base.dest, base.destPath, base.overwrite, base.backupDC}
	}
	backupID, hasBackup, err := f.int64Field("BackupId")
	if err == nil && !hasBackup && !partial {
		err = badf("BackupId is required")
	}
	if err != nil {
		return t, badReply(err), false
	}
	machineID, hasMachine, err := f.int64Field("BackupMachineId")
	if err == nil && !hasMachine && !partial {
		err = badf("BackupMachineId is required")
	}
	if err != nil {
		return t, badReply(err), false
	}
	destID, hasDest, err := f.int64Field("DestinationMachineId")
	if err == nil && !hasDest && !partial {
		err = badf("DestinationMachineId is required")
	}
	if err != nil {
		return t, badReply(err), false
	}
	path, hasPath, err := f.stringField("DestinationPath")
	if err == nil && (hasPath || !partial) && strings.TrimSpace(path) == "" {
		err = badf("DestinationPath is required")
	}
	if err != nil {
		return t, badReply(err), false
	}
	overwrite, hasOverwrite, err := f.boolField("OverwriteFiles")
	if err == nil && !hasOverwrite && !partial {
		err = badf("OverwriteFiles is required")
	}
	if err != nil {
		return t, badReply(err), false
	}
	dc, hasDC, err := f.stringField("BackupDataCenter")
	if err != nil {
		return t, badReply(err), false
	}
	if hasDC && dc != "" {
		if _, known := isRegion(strings.ToLower(dc)); !known {
			return t, errReply(http.StatusBadRequest, "BackupDataCenter must be one of %s, got %q", strings.Join(Regions(), ", "), clip(dc)), false
		}
		t.dc = strings.ToUpper(dc)
	}
	if hasBackup {
		// Cross-datacenter restores: the backup may live in any region.
		b, rep, found := s.lookupBackup(c, backupID, true)
		if !found {
			return t, rep, false
		}
		if !b.state.canRestore() {
			return t, errReply(http.StatusBadRequest, "backup %d cannot be restored (state %s)", b.id, b.state), false
		}
		t.backup = b
		if !hasDC {
			t.dc = b.config.agent.datacenter
		}
	}
	if hasMachine && t.backup.config.agent.id != machineID {
		return t, errReply(http.StatusBadRequest, "backup %d does not belong to agent %d (BackupMachineId)", t.backup.id, machineID), false
	}
	if hasDest {
		a, rep, found := s.lookupAgent(c, destID, http.StatusNotFound)
		if !found {
			return t, rep, false
		}
		t.dest = a
	}
	if hasPath {
		t.path = path
	}
	if hasOverwrite {
		t.overwrite = overwrite
	}
	return t, reply{}, true
}

func (s *Server) createRestore(c *call) reply {
	f, rep, good := c.fields(false)
	if !good {
		return rep
	}
	t, rep, valid := s.parseRestoreTarget(c, f, nil)
	if !valid {
		return rep
	}
	s.nextID.restore++
	r := &restore{
		id: s.nextID.restore, tenant: c.tenant, backup: t.backup, dest: t.dest,
		destPath: t.path, overwrite: t.overwrite, backupDC: t.dc, state: restoreCreating,
		changed: c.now, errSeed: s.rng.Uint64(),
	}
	s.restores[r.id] = r
	c.tenant.restores = append(c.tenant.restores, r)
	return ok(r.json())
}

func (s *Server) updateRestore(c *call) reply {
	f, rep, good := c.fields(false)
	if !good {
		return rep
	}
	id, err := f.requiredInt64("RestoreId")
	if err != nil {
		return badReply(err)
	}
	r, rep, found := s.lookupRestore(c, id, http.StatusNotFound)
	if !found {
		return rep
	}
	t, rep, valid := s.parseRestoreTarget(c, f, r)
	if !valid {
		return rep
	}
	if r.state != restoreCreating {
		return notCreating(r)
	}
	r.backup, r.dest, r.destPath, r.overwrite, r.backupDC = t.backup, t.dest, t.path, t.overwrite, t.dc
	r.changed = c.now
	return reply{http.StatusNoContent, nil}
}

// notCreating answers a change to a restore that has left state Creating:
// its target and file list are fixed once it starts.
func notCreating(r *restore) reply {
	return errReply(http.StatusBadRequest, "restore %d can only be changed while Creating (state %s)", r.id, restoreStateName(r.state))
}

// enumField reads an int, digit string or one of names (index = value+base).
func enumField(f fields, key string, names []string, base int) (int, error) {
	v, has, err := f.int64Field(key)
	if err == nil {
		if !has {
			return 0, badf("%s is required", key)
		}
		if v < int64(base) || v >= int64(base+len(names)) {
			return 0, badf("%s must be one of %s (or %d-%d), got %d", key, strings.Join(names, ", "), base, base+len(names)-1, v)
		}
		return int(v), nil
	}
	str, _, serr := f.stringField(key)
	if serr != nil {
		return 0, err
	}
	for i, n := range names {
		if strings.EqualFold(n, str) {
			return i + base, nil
		}
	}
	return 0, badf("%s must be one of %s (or %d-%d), got %q", key, strings.Join(names, ", "), base, base+len(names)-1, clip(str))
}

func (s *Server) addRestoreFile(c *call) reply {
	f, rep, good := c.fields(false)
	if !good {
		return rep
	}
	parent, err := f.requiredInt64("ParentId")
	if err != nil {
		return badReply(err)
	}
	path, err := f.requiredString("FilePath")
	if err == nil && strings.TrimSpace(path) == "" {
		err = badf("FilePath must not be empty")
	}
	if err != nil {
		return badReply(err)
	}
	filter, err := enumField(f, "Filter", []string{"Include", "Exclude"}, 1)
	if err != nil {
		return badReply(err)
	}
	itemType, err := enumField(f, "FileItemType", []string{"File", "Folder", "Database"}, 0)
	if err != nil {
		return badReply(err)
	}
	// FilePathEncoded is optional and only checked: the §7.4 list does not
	// carry it back.
	if _, _, err := f.stringField("FilePathEncoded"); err != nil {
		return badReply(err)
	}
	r, rep, found := s.lookupRestore(c, parent, http.StatusNotFound)
	if !found {
		return rep
	}
	if r.state != restoreCreating {
		return notCreating(r)
	}
	if len(r.files) >= 10000 {
		return errReply(http.StatusBadRequest, "restore %d has too many file entries", r.id)
	}
	rf := restoreFile{path: path, filter: filter, itemType: itemType}
	replaced := false
	for i, x := range r.files {
		if x.path == path {
			rf.id = x.id
			r.files[i] = rf
			replaced = true
		}
	}
	if !replaced {
		s.nextID.rfile++
		rf.id = s.nextID.rfile
		r.files = append(r.files, rf)
	}
	return ok(r.filesJSON(0))
}

func (s *Server) listRestoreFiles(c *call) reply {
	r, rep, found := s.lookupRestore(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return ok(r.filesJSON(0))
}

func (s *Server) deleteRestoreFile(c *call) reply {
	id := c.id
	for _, r := range c.tenant.restores {
		for i, f := range r.files {
			if f.id != id {
				continue
			}
			if !c.visible(r.dest) {
				break
			}
			if r.state != restoreCreating {
				return notCreating(r)
			}
			r.files = append(r.files[:i:i], r.files[i+1:]...)
			return reply{http.StatusNoContent, nil}
		}
	}
	// Lenient reading (§7.5): a restore id clears that restore's file list.
	r, rep, found := s.lookupRestore(c, id, http.StatusNotFound)
	if !found {
		if rep.status == http.StatusNotFound {
			return errReply(http.StatusNotFound, "restore file %d not found", id)
		}
		return rep
	}
	if r.state != restoreCreating {
		return notCreating(r)
	}
	r.files = nil
	return reply{http.StatusNoContent, nil}
}

func (s *Server) restoreAction(c *call) reply {
	act, rep, good := c.jobAction()
	if !good {
		return rep
	}
	pw, hasPW, err := act.stringField("EncryptedPassword")
	if err != nil {
		return badReply(err)
	}
	r, rep, found := s.lookupRestore(c, act.id, http.StatusNotFound)
	if !found {
		return rep
	}
	if act.start {
		switch {
		case r.state != restoreCreating:
			return errReply(http.StatusBadRequest, "restore %d was already started (state %s)", r.id, restoreStateName(r.state))
		case r.backup.config.agent.encrypted && (!hasPW || pw == ""):
			return errReply(http.StatusBadRequest, "EncryptedPassword is required: the vault of agent %d is encrypted", r.backup.config.agent.id)
		case r.dest.disabled:
			return errReply(http.StatusForbidden, "destination agent %d is disabled", r.dest.id)
		case !r.dest.online:
			return errReply(http.StatusForbidden, "destination agent %d is offline; wake it up (POST /user/wakeupagents) and retry", r.dest.id)
		}
		r.state, r.start, r.changed = restoreStartRequested, c.now, c.now
		s.push(s.after(c.now, s.startDelay()), evRestoreStep, r.id, r.gen)
		return reply{http.StatusNoContent, nil}
	}
	if r.state == restoreCreating || restoreDone(r.state) {
		return errReply(http.StatusBadRequest, "restore %d is not running (state %s)", r.id, restoreStateName(r.state))
	}
	if r.state != restoreStopRequested {
		r.state, r.changed = restoreStopRequested, c.now
		r.gen++
		s.push(s.after(c.now, stopDelay), evRestoreStep, r.id, r.gen)
	}
	return reply{http.StatusNoContent, nil}
}

func (s *Server) stepRestore(ev event) {
	r := s.restores[ev.id]
	if r == nil || r.gen != ev.gen {
		return
	}
	at := ev.at
	next := func(st int, d time.Duration) {
		r.state, r.changed = st, at
		s.push(s.after(at, d), evRestoreStep, r.id, r.gen)
	}
	switch r.state {
	case restoreStartRequested:
		next(restoreQueued, queuedDelay)
	case restoreQueued:
		next(restorePreparing, prepareDelay)
	case restorePreparing:
		next(restoreInProgress, s.runDuration(r.backup.bytesSearch))
	case restoreInProgress:
		st := restoreCompleted
		switch x := s.rng.Float64(); {
		case x < 0.03:
			st = restoreFailed
		case x < 0.12:
			st = restoreCompletedWithErrors
		}
		s.finishRestore(r, st, at)
	case restoreStopRequested:
		s.finishRestore(r, restoreStopped, at)
	}
}

func (s *Server) finishRestore(r *restore, st int, at time.Time) {
	r.state, r.changed, r.end = st, at, at
	part := 1.0
	if len(r.files) > 0 {
		part = 0.05 + s.rng.Float64()*0.3
	}
	if st == restoreFailed || st == restoreStopped {
		part *= s.rng.Float64() * 0.5
	}
	r.numFiles = int64(float64(r.backup.filesSearch) * part)
	r.numBytes = int64(float64(r.backup.bytesSearch) * part)
	if n := includedFiles(r.files); n > 0 && r.backup.filesSearch > 0 {
		// A restore of named files (no folder) brings back those files at
		// most, each of the backup's average size.
		avg := r.backup.bytesSearch / r.backup.filesSearch
		r.numFiles = min(int64(n), max(r.numFiles, 1))
		if st == restoreCompleted || st == restoreCompletedWithErrors {
			r.numFiles = int64(n)
		}
		r.numBytes = r.numFiles * avg
	}
	switch st {
	case restoreFailed:
		r.numErrors = 1
	case restoreCompletedWithErrors:
		r.numErrors = int32(1 + s.rng.IntN(4))
	}
}

// includedFiles counts a restore's included file entries when it includes
// no folder (nor database), else 0: its size then follows the backup's.
func includedFiles(files []restoreFile) int {
	n := 0
	for _, f := range files {
		if f.filter != 1 {
			continue
		}
		if f.itemType != 0 {
			return 0
		}
		n++
	}
	return n
}

func (s *Server) getRestore(c *call) reply {
	r, rep, found := s.lookupRestore(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return ok(r.json())
}

type restoreReportJSON struct {
	BackupConfigurationId       int64
	BackupConfigurationName     string
	BackupReportId              int64
	RestorePoint                msDate
	StartTime                   msDate
	CompletedTime               msDate
	Duration                    string
	OriginatingComputerName     string
	State                       string
	NumFilesRestored            string
	NumBytesRestored            string
	RestoreDestination          string
	RestoreDestinationMachineId int64
	NumErrors                   string
	Reason                      string
	Diagnostics                 string
	ErrorList                   []errorItemJSON
}

func (s *Server) getRestoreReport(c *call) reply {
	r, rep, found := s.lookupRestore(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	if !restoreDone(r.state) {
		return errReply(http.StatusNotFound, "restore %d has no report yet (state %s)", r.id, restoreStateName(r.state))
	}
	b := r.backup
	reason, diag := "Success", "No errors"
	switch r.state {
	case restoreCompletedWithErrors:
		reason, diag = "UnableToProcessSomeFiles", "Some files may not have been restored"
	case restoreFailed:
		reason, diag = "UnableToRestore", "The restore failed; see the error list"
	case restoreStopped:
		reason, diag = "StoppedByUser", "The restore was stopped"
	}
	return ok(restoreReportJSON{
		BackupConfigurationId:       b.config.id,
		BackupConfigurationName:     b.config.name,
		BackupReportId:              b.id,
		RestorePoint:                msDate(b.end),
		StartTime:                   msDate(r.start),
		CompletedTime:               msDate(r.end),
		Duration:                    hms(r.end.Sub(r.start)),
		OriginatingComputerName:     b.config.agent.name,
		State:                       restoreStateName(r.state),
		NumFilesRestored:            strconv.FormatInt(r.numFiles, 10),
		NumBytesRestored:            humanSize(r.numBytes),
		RestoreDestination:          r.dest.name,
		RestoreDestinationMachineId: r.dest.id,
		NumErrors:                   strconv.Itoa(int(r.numErrors)),
		Reason:                      reason,
		Diagnostics:                 diag,
		ErrorList:                   errorList(r.id, r.errSeed, int(r.numErrors), r.state == restoreFailed, b.config, r.dest),
	})
}
