package rcbu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RestoreConfiguration is a restore: which backup goes where, and its
// state (§7.0). Create and Get return it.
type RestoreConfiguration struct {
	ID                     RestoreID       `json:"RestoreId"`
	BackupID               BackupID        `json:"BackupId"`
	ConfigurationID        ConfigurationID `json:"BackupConfigurationId"`
	ConfigurationName      string          `json:"BackupConfigurationName"`
	BackupRestorePoint     MSDate          `json:"BackupRestorePoint"`
	BackupAgentID          AgentID         `json:"BackupMachineId"`
	BackupMachineName      string          `json:"BackupMachineName"`
	BackupFlavor           string          `json:"BackupFlavor"`
	BackupDatacenter       string          `json:"BackupDataCenter"`
	DestinationAgentID     AgentID         `json:"DestinationMachineId"`
	DestinationMachineName string          `json:"DestinationMachineName"`
	DestinationPath        string          `json:"DestinationPath"`
	OverwriteFiles         bool            `json:"OverwriteFiles"`
	IsEncrypted            bool            `json:"IsEncrypted"`
	EncryptedPassword      *string         `json:"EncryptedPassword"`
	PublicKey              *PublicKey      `json:"PublicKey"`
	State                  RestoreState    `json:"RestoreStateId"`
	Inclusions             []RestoreFile   `json:"Inclusions,omitempty"`
	Exclusions             []RestoreFile   `json:"Exclusions,omitempty"`

	// Region is the catalog region of the endpoint that returned it.
	Region string `json:"-"`
}

// UnmarshalJSON decodes a restore, accepting string booleans.
func (r *RestoreConfiguration) UnmarshalJSON(b []byte) error {
	type alias RestoreConfiguration
	aux := struct {
		*alias
		OverwriteFiles flexBool `json:"OverwriteFiles"`
		IsEncrypted    flexBool `json:"IsEncrypted"`
	}{alias: (*alias)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.OverwriteFiles, r.IsEncrypted = bool(aux.OverwriteFiles), bool(aux.IsEncrypted)
	return nil
}

// RestoreRequest creates a restore configuration (§7.1).
type RestoreRequest struct {
	BackupID           BackupID `json:"BackupId"`
	BackupAgentID      AgentID  `json:"BackupMachineId"`
	DestinationAgentID AgentID  `json:"DestinationMachineId"`
	DestinationPath    string   `json:"DestinationPath"`
	OverwriteFiles     bool     `json:"OverwriteFiles"`
	BackupDatacenter   string   `json:"BackupDataCenter,omitempty"` // for cross-datacenter restores
}

// Validate checks the request's required fields.
func (r *RestoreRequest) Validate() error {
	v := &ValidationError{Op: "invalid restore"}
	if r.BackupID <= 0 {
		v.add("BackupId", "is required")
	}
	if r.BackupAgentID <= 0 {
		v.add("BackupMachineId", "is required")
	}
	if r.DestinationAgentID <= 0 {
		v.add("DestinationMachineId", "is required")
	}
	if r.DestinationPath == "" {
		v.add("DestinationPath", "is required")
	} else if !isAbsPath(r.DestinationPath) {
		v.add("DestinationPath", "must be an absolute path")
	}
	return v.orNil()
}

// RestoreFile is one include/exclude entry of a restore (§7.3, §7.4).
type RestoreFile struct {
	ID              RestoreFileID   `json:"FileId"`
	RestoreID       RestoreID       `json:"RestoreId"`
	FilePath        string          `json:"FilePath"`
	Filter          RestoreFilter   `json:"Filter"`
	FileItemType    RestoreItemType `json:"FileItemType"`
	FilePathEncoded *string         `json:"FilePathEncoded,omitempty"`
}

// AvailableBackup is a configuration that has restorable backups (§7.6).
type AvailableBackup struct {
	ConfigurationID          ConfigurationID `json:"BackupConfigurationId"`
	ConfigurationName        string          `json:"BackupConfigurationName"`
	MachineName              string          `json:"MachineName"`
	AgentID                  AgentID         `json:"MachineAgentId"`
	IsEncrypted              bool            `json:"IsEncrypted"`
	PublicKeyHex             FlexString      `json:"PublicKeyHex"`
	PublicKeyMod             string          `json:"PublicKeyMod"`
	Flavor                   string          `json:"Flavor"`
	LastSuccessfulBackupTime MSDate          `json:"LastSuccessfulBackupTime"`
}

// RestoreReport describes a finished restore (§7.9).
type RestoreReport struct {
	ConfigurationID             ConfigurationID `json:"BackupConfigurationId"`
	ConfigurationName           string          `json:"BackupConfigurationName"`
	BackupID                    BackupID        `json:"BackupReportId"`
	RestorePoint                MSDate          `json:"RestorePoint"`
	StartTime                   MSDate          `json:"StartTime"`
	CompletedTime               MSDate          `json:"CompletedTime"`
	Duration                    time.Duration   `json:"-"`
	OriginatingComputerName     string          `json:"OriginatingComputerName"`
	State                       RestoreState    `json:"State"`
	NumFilesRestored            int64           `json:"-"`
	NumBytesRestored            Size            `json:"NumBytesRestored"`
	RestoreDestination          string          `json:"RestoreDestination"` // destination machine name
	RestoreDestinationMachineID AgentID         `json:"RestoreDestinationMachineId"`
	NumErrors                   int64           `json:"-"`
	Reason                      string          `json:"Reason"`
	Diagnostics                 string          `json:"Diagnostics"`
	Errors                      []ReportError   `json:"ErrorList"`
}

// UnmarshalJSON decodes a restore report, converting the duration and the
// digit-string counters.
func (r *RestoreReport) UnmarshalJSON(b []byte) error {
	type alias RestoreReport
	aux := struct {
		*alias
		Duration         *string `json:"Duration"`
		NumFilesRestored flexInt `json:"NumFilesRestored"`
		NumErrors        flexInt `json:"NumErrors"`
	}{alias: (*alias)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.NumFilesRestored, r.NumErrors = int64(aux.NumFilesRestored), int64(aux.NumErrors)
	var err error
	r.Duration, err = optionalHMS(aux.Duration)
	return err
}

// OK reports whether the restore completed (with or without file errors).
func (r *RestoreReport) OK() bool {
	return r.State == RestoreCompleted || r.State == RestoreCompletedWithErrors
}

// Err returns nil for an OK report, else an error naming the state, reason
// and diagnostics.
func (r *RestoreReport) Err() error {
	if r.OK() {
		return nil
	}
	return reportErr("restore", int64(r.BackupID), r.State.String(), r.Reason, r.Diagnostics, r.NumErrors)
}

// reportErr builds the error of a report that is not OK (BackupReport.Err,
// RestoreReport.Err).
func reportErr(kind string, id int64, state, reason, diag string, nerr int64) error {
	msg := fmt.Sprintf("rcbu: %s of backup %d ended %s", kind, id, state)
	if reason != "" {
		msg += ": " + reason
	}
	if diag != "" {
		msg += " (" + diag + ")"
	}
	if nerr > 0 {
		msg += fmt.Sprintf(", %d errors", nerr)
	}
	return errors.New(msg)
}

// RestoresService handles restores (§7).
type RestoresService service

func (s *RestoresService) post(r *RestoreConfiguration, ep int) {
	r.Region = s.client.endpoints[ep].Region
	s.client.remember(kindRestore, int64(r.ID), ep)
}

// Create validates r and creates a restore configuration (state Creating)
// on the destination agent's region. It makes a call (none when r is
// invalid).
//
// API: PUT /v1.0/{tenant}/restore
func (s *RestoresService) Create(ctx context.Context, r *RestoreRequest) (*RestoreConfiguration, error) {
	const op = "create restore"
	if r == nil {
		return nil, &ValidationError{Op: op, Fields: map[string]string{"request": "is nil"}}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	ep, err := s.client.locate(ctx, op, kindAgent, int64(r.DestinationAgentID))
	if err != nil {
		return nil, err
	}
	out := new(RestoreConfiguration)
	if err := s.client.do(ctx, ep, request{op: op, method: "PUT", path: "restore", body: r, out: out, need: true}); err != nil {
		return nil, err
	}
	s.post(out, s.client.endpointIndex(ep))
	return out, nil
}

// Update changes a restore that has not started (state Creating): its
// destination, path, overwrite flag or backup. Pass the value from Get or
// Create with the fields changed. It makes a call.
//
// API: POST /v1.0/{tenant}/restore
func (s *RestoresService) Update(ctx context.Context, r *RestoreConfiguration) error {
	op := "update restore"
	if r == nil {
		return &ValidationError{Op: op, Fields: map[string]string{"request": "is nil"}}
	}
	op = fmt.Sprintf("update restore %d", r.ID)
	req := RestoreRequest{BackupID: r.BackupID, BackupAgentID: r.BackupAgentID, DestinationAgentID: r.DestinationAgentID,
		DestinationPath: r.DestinationPath, OverwriteFiles: r.OverwriteFiles, BackupDatacenter: r.BackupDatacenter}
	if err := req.Validate(); err != nil {
		return err
	}
	body := map[string]any{
		"RestoreId": r.ID, "BackupId": r.BackupID, "BackupMachineId": r.BackupAgentID,
		"DestinationMachineId": r.DestinationAgentID, "OverwriteFiles": r.OverwriteFiles,
		"BackupConfigurationId": r.ConfigurationID, "DestinationPath": r.DestinationPath,
		"RestoreStateId": int(r.State),
	}
	if r.BackupDatacenter != "" {
		body["BackupDataCenter"] = r.BackupDatacenter
	}
	return s.client.doOn(ctx, kindRestore, int64(r.ID), request{op: op, method: "POST", path: "restore", body: body})
}

// Include adds a path of the backup to the files a restore brings back.
// It makes a call.
//
// API: PUT /v1.0/{tenant}/restore/files
func (s *RestoresService) Include(ctx context.Context, id RestoreID, path string, t RestoreItemType) error {
	return s.addFile(ctx, fmt.Sprintf("include %.100q in restore %d", path, id), id, path, t, FilterInclude)
}

// Exclude leaves a path of the backup out of a restore. It makes a call.
//
// API: PUT /v1.0/{tenant}/restore/files
func (s *RestoresService) Exclude(ctx context.Context, id RestoreID, path string, t RestoreItemType) error {
	return s.addFile(ctx, fmt.Sprintf("exclude %.100q from restore %d", path, id), id, path, t, FilterExclude)
}

func (s *RestoresService) addFile(ctx context.Context, op string, id RestoreID, path string, t RestoreItemType, f RestoreFilter) error {
	v := &ValidationError{Op: op}
	if !isAbsPath(path) {
		v.add("FilePath", "must be an absolute path")
	}
	if t < RestoreItemFile || t > RestoreItemDatabase {
		v.add("FileItemType", "must be File, Folder or Database")
	}
	if err := v.orNil(); err != nil {
		return err
	}
	// The response may be empty or the updated list (§7.3); neither is needed.
	return s.client.doOn(ctx, kindRestore, int64(id), request{op: op, method: "PUT", path: "restore/files", body: map[string]any{
		"ParentId": id, "FilePath": path, "Filter": int(f), "FileItemType": int(t),
	}})
}

// Files lists a restore's include/exclude entries. It makes a call.
//
// API: GET /v1.0/{tenant}/restore/files/{restoreId}
func (s *RestoresService) Files(ctx context.Context, id RestoreID) ([]RestoreFile, error) {
	out := []RestoreFile{}
	if err := s.client.doOn(ctx, kindRestore, int64(id), request{op: fmt.Sprintf("list files of restore %d", id), method: "GET", path: fmt.Sprintf("restore/files/%d", id), out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteFile deletes one include/exclude entry of restore id. It makes a
// call.
//
// API: DELETE /v1.0/{tenant}/restore/files/{id}
func (s *RestoresService) DeleteFile(ctx context.Context, id RestoreID, file RestoreFileID) error {
	return s.client.doOn(ctx, kindRestore, int64(id), request{op: fmt.Sprintf("remove file %d from restore %d", file, id),
		method: "DELETE", path: fmt.Sprintf("restore/files/%d", file)})
}

// AvailableBackups lists the configurations that have restorable backups.
// It makes one call per region.
//
// API: GET /v1.0/{tenant}/backup/availableforrestore
func (s *RestoresService) AvailableBackups(ctx context.Context) ([]AvailableBackup, error) {
	return listAll(ctx, s.client, "list backups available for restore", "backup/availableforrestore",
		func(a *AvailableBackup) int64 { return int64(a.ConfigurationID) },
		func(a *AvailableBackup, ep int) { s.client.remember(kindConfiguration, int64(a.ConfigurationID), ep) })
}

// RestoreStartOptions are the optional parts of Start.
type RestoreStartOptions struct {
	// EncryptedPassword is the vault passphrase encrypted for the restore's
	// PublicKey (see EncryptPassphrase); required for encrypted vaults.
	EncryptedPassword string
}

// Start starts a restore and returns a handle to it, retrying a transient
// 403 like BackupsService.Start. It makes one or more calls.
//
// API: POST /v1.0/{tenant}/restore/action-requested {"Action": "StartManual"}
func (s *RestoresService) Start(ctx context.Context, id RestoreID, opts *RestoreStartOptions) (*Restore, error) {
	op := fmt.Sprintf("start restore %d", id)
	ep, err := s.client.locate(ctx, op, kindRestore, int64(id))
	if err != nil {
		return nil, err
	}
	body := map[string]any{"Action": "StartManual", "Id": id}
	if opts != nil && opts.EncryptedPassword != "" {
		body["EncryptedPassword"] = opts.EncryptedPassword
	}
	err = s.client.startWithRetry(ctx, func() error {
		return s.client.do(ctx, ep, request{op: op, method: "POST", path: "restore/action-requested", body: body})
	})
	if err != nil {
		return nil, err
	}
	r := s.Handle(id)
	r.job.setStatus(&RestoreConfiguration{ID: id, State: RestoreStartRequested, Region: ep.Region}, nil)
	return r, nil
}

// Stop asks a running restore to stop. It makes a call.
//
// API: POST /v1.0/{tenant}/restore/action-requested {"Action": "StopManual"}
func (s *RestoresService) Stop(ctx context.Context, id RestoreID) error {
	return s.client.doOn(ctx, kindRestore, int64(id), request{op: fmt.Sprintf("stop restore %d", id), method: "POST",
		path: "restore/action-requested", body: map[string]any{"Action": "StopManual", "Id": id}})
}

// Get returns a restore with its state. It makes a call.
//
// API: GET /v1.0/{tenant}/restore/{restoreId}
func (s *RestoresService) Get(ctx context.Context, id RestoreID) (*RestoreConfiguration, error) {
	r, ep, err := getOne[RestoreConfiguration](ctx, s.client, fmt.Sprintf("get restore %d", id), kindRestore, int64(id), fmt.Sprintf("restore/%d", id))
	if err != nil {
		return nil, err
	}
	s.post(r, ep)
	return r, nil
}

// Report returns the report of a finished restore (ErrNotFound before). It
// makes a call.
//
// API: GET /v1.0/{tenant}/restore/report/{restoreId}
func (s *RestoresService) Report(ctx context.Context, id RestoreID) (*RestoreReport, error) {
	r, _, err := getOne[RestoreReport](ctx, s.client, fmt.Sprintf("get report of restore %d", id), kindRestore, int64(id), fmt.Sprintf("restore/report/%d", id))
	return r, err
}

// ReportRaw returns the report of a finished restore exactly as the
// service sent it, without decoding; routing, retries and errors are those
// of Report. It makes a call.
//
// API: GET /v1.0/{tenant}/restore/report/{restoreId}
func (s *RestoresService) ReportRaw(ctx context.Context, id RestoreID) ([]byte, error) {
	raw, _, err := fetchOne(ctx, s.client, fmt.Sprintf("get report of restore %d", id), kindRestore, int64(id), fmt.Sprintf("restore/report/%d", id))
	return raw, err
}

// Wait polls a restore every interval (5 s when ≤ 0) until it is done or
// ctx ends. It makes calls.
//
// API: GET /v1.0/{tenant}/restore/{restoreId}
func (s *RestoresService) Wait(ctx context.Context, id RestoreID, interval time.Duration) (*RestoreConfiguration, error) {
	return s.Handle(id).Wait(ctx, interval)
}

// Handle returns a handle for an existing restore; it makes no call.
func (s *RestoresService) Handle(id RestoreID) *Restore {
	r := &Restore{ID: id, s: s}
	r.job.done = restoreDone
	return r
}

// Restore is a handle on one restore run (the seed's Restore handler). Its
// methods that take a context make calls; the others read the last state
// seen. A Restore is safe for concurrent use.
type Restore struct {
	ID RestoreID

	s   *RestoresService
	job jobHandle[RestoreConfiguration, RestoreReport]
}

func restoreDone(st *RestoreConfiguration) bool { return st.State.Done() }

// Refresh fetches the current state. It makes a call.
func (r *Restore) Refresh(ctx context.Context) (*RestoreConfiguration, error) {
	st, err := r.s.Get(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	r.job.setStatus(st, nil)
	return st, nil
}

// Status returns the last restore seen (nil before the first Refresh of a
// handle made by Handle).
func (r *Restore) Status() *RestoreConfiguration { return r.job.lastCopy() }

// State returns the last state seen (RestoreCreating if none yet).
func (r *Restore) State() RestoreState {
	if st := r.job.last(); st != nil {
		return st.State
	}
	return RestoreCreating
}

// Running reports whether the last state seen is a busy one.
func (r *Restore) Running() bool { return r.State().Busy() }

// Done reports whether the last state seen is final.
func (r *Restore) Done() bool { return r.State().Done() }

// Stop asks the restore to stop. It makes a call.
func (r *Restore) Stop(ctx context.Context) error { return r.s.Stop(ctx, r.ID) }

// Report returns the restore's report once it is done, and ErrNotDone
// while it is not. It makes one or two calls (state, then report) until it
// has the report, and none after.
func (r *Restore) Report(ctx context.Context) (*RestoreReport, error) {
	return r.job.loadReport(ctx, r.Refresh, func(ctx context.Context) (*RestoreReport, error) { return r.s.Report(ctx, r.ID) })
}

// Wait polls every interval (5 s when ≤ 0) until the restore is done or
// ctx ends, and returns the final state. It makes calls.
func (r *Restore) Wait(ctx context.Context, interval time.Duration) (*RestoreConfiguration, error) {
	return waitDone(ctx, r.s.client, interval, r.Refresh, restoreDone)
}
