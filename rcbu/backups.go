package rcbu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// BackupStatus is the state of one backup run (§6.2).
type BackupStatus struct {
	ID                BackupID        `json:"BackupId"`
	ConfigurationID   ConfigurationID `json:"BackupConfigurationId"`
	ConfigurationName string          `json:"BackupConfigurationName"`
	State             BackupState     `json:"CurrentState"`
	AgentID           AgentID         `json:"MachineAgentId"`
	MachineName       string          `json:"MachineName"`
	StateChangeTime   MSDate          `json:"StateChangeTime"`
	IsEncrypted       bool            `json:"IsEncrypted"`
	EncryptionKey     *PublicKey      `json:"EncryptionKey"`
	Datacenter        string          `json:"Datacenter"`
	BackupDatacenter  string          `json:"BackupDatacenter"`
}

// CompletedBackup is a restorable backup of a configuration (§6.3).
type CompletedBackup struct {
	ID                BackupID        `json:"BackupId"`
	ConfigurationID   ConfigurationID `json:"BackupConfigurationId"`
	ConfigurationName string          `json:"BackupConfigurationName"`
	MachineName       string          `json:"MachineName"`
	AgentID           AgentID         `json:"MachineAgentId"`
	CompletedTime     MSDate          `json:"CompletedTime"`
	BytesSearched     Size            `json:"BytesSearched"` // a JSON number here
	NumErrors         int64           `json:"-"`
}

// UnmarshalJSON decodes a completed backup, accepting digit strings.
func (c *CompletedBackup) UnmarshalJSON(b []byte) error {
	type alias CompletedBackup
	aux := struct {
		*alias
		NumErrors flexInt `json:"NumErrors"`
	}{alias: (*alias)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	c.NumErrors = int64(aux.NumErrors)
	return nil
}

// ReportError is one entry of a report's ErrorList.
type ReportError struct {
	ReportID         int64  `json:"BackupReportID"`
	ListIndex        int64  `json:"ListIndex"`
	ErrorType        int64  `json:"ErrorType"`
	ErrorDesc        string `json:"ErrorDesc"`
	ExceptionDesc    string `json:"ExceptionDesc"`
	ExceptionDetails string `json:"ExceptionDetails"`
	ExceptionCode    int64  `json:"ExceptionCode"`
	Path             string `json:"Path"`
}

// UnmarshalJSON decodes an error entry, accepting digit strings for numbers.
func (e *ReportError) UnmarshalJSON(b []byte) error {
	type alias ReportError
	aux := struct {
		*alias
		ReportID      flexInt `json:"BackupReportID"`
		ListIndex     flexInt `json:"ListIndex"`
		ErrorType     flexInt `json:"ErrorType"`
		ExceptionCode flexInt `json:"ExceptionCode"`
	}{alias: (*alias)(e)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	e.ReportID, e.ListIndex, e.ErrorType, e.ExceptionCode = int64(aux.ReportID), int64(aux.ListIndex), int64(aux.ErrorType), int64(aux.ExceptionCode)
	return nil
}

// BackupReport describes a finished backup (§6.4).
type BackupReport struct {
	BackupID             BackupID        `json:"BackupId"`
	ConfigurationID      ConfigurationID `json:"BackupConfigurationId"`
	ConfigurationName    string          `json:"BackupConfigurationName"`
	ConfigurationDeleted bool            `json:"BackupConfigurationIsDeleted"`
	ComputerName         string          `json:"ComputerName"`
	AgentID              AgentID         `json:"MachineAgentId"`
	State                BackupState     `json:"State"`
	CanRestore           bool            `json:"CanRestore"`
	StartTime            MSDate          `json:"StartTime"`
	CompletedTime        MSDate          `json:"CompletedTime"`
	Duration             time.Duration   `json:"-"` // from "HH:MM:SS"
	FilesSearched        int64           `json:"-"` // from a digit string
	BytesSearched        Size            `json:"BytesSearched"`
	FilesBackedUp        int64           `json:"-"` // from a digit string
	BytesBackedUp        Size            `json:"BytesBackedUp"`
	NumErrors            int64           `json:"-"`
	Reason               string          `json:"Reason"`
	Diagnostics          string          `json:"Diagnostics"`
	Errors               []ReportError   `json:"ErrorList"`
	Datacenter           string          `json:"Datacenter"`
	BackupDatacenter     string          `json:"BackupDatacenter"`
}

// UnmarshalJSON decodes a backup report, converting the duration and the
// digit-string counters.
func (r *BackupReport) UnmarshalJSON(b []byte) error {
	type alias BackupReport
	aux := struct {
		*alias
		CanRestore           flexBool `json:"CanRestore"`
		ConfigurationDeleted flexBool `json:"BackupConfigurationIsDeleted"`
		Duration             *string  `json:"Duration"`
		FilesSearched        flexInt  `json:"FilesSearched"`
		FilesBackedUp        flexInt  `json:"FilesBackedUp"`
		NumErrors            flexInt  `json:"NumErrors"`
	}{alias: (*alias)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.CanRestore, r.ConfigurationDeleted = bool(aux.CanRestore), bool(aux.ConfigurationDeleted)
	r.FilesSearched, r.FilesBackedUp, r.NumErrors = int64(aux.FilesSearched), int64(aux.FilesBackedUp), int64(aux.NumErrors)
	var err error
	r.Duration, err = optionalHMS(aux.Duration)
	return err
}

// OK reports whether the backup produced a restorable result
// (Completed, or CompletedWithErrors with CanRestore).
func (r *BackupReport) OK() bool { return r.CanRestore && r.State.Succeeded() }

// Err returns nil for an OK report, else an error naming the state, reason
// and diagnostics.
func (r *BackupReport) Err() error {
	if r.OK() {
		return nil
	}
	return reportErr("backup", int64(r.BackupID), string(r.State), r.Reason, r.Diagnostics, r.NumErrors)
}

// BackupsService handles backup runs (§6).
type BackupsService service

// Start starts a backup of configuration id and returns a handle to it.
// The service answers 403 for a while when the agent is asleep (§6.1);
// Start retries a 403 within the WithStartRetry bound and then returns it.
// It makes one or more calls.
//
// API: POST /v1.0/{tenant}/backup/action-requested {"Action": "StartManual"}
func (s *BackupsService) Start(ctx context.Context, id ConfigurationID) (*Backup, error) {
	op := fmt.Sprintf("start backup of configuration %d", id)
	ep, err := s.client.locate(ctx, op, kindConfiguration, int64(id))
	if err != nil {
		return nil, err
	}
	var raw []byte
	err = s.client.startWithRetry(ctx, func() error {
		return s.client.do(ctx, ep, request{op: op, method: "POST", path: "backup/action-requested",
			body: map[string]any{"Action": "StartManual", "Id": id}, raw: &raw})
	})
	if err != nil {
		return nil, err
	}
	n, perr := strconv.ParseInt(scalarBody(raw), 10, 64)
	if perr != nil || n <= 0 {
		return nil, fmt.Errorf("rcbu: %s: %w: want a backup id, got %.40q", op, errScalar, string(raw))
	}
	s.client.remember(kindBackup, n, s.client.endpointIndex(ep))
	b := s.Handle(BackupID(n))
	b.ConfigurationID = id
	b.job.setStatus(&BackupStatus{ID: b.ID, ConfigurationID: id, State: BackupStartRequested}, nil)
	return b, nil
}

// startWithRetry repeats call while it fails with 403, within the bound.
func (c *Client) startWithRetry(ctx context.Context, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || !errors.Is(err, ErrForbidden) || attempt >= c.opts.startAttempts {
			return err
		}
		c.log.DebugContext(ctx, "rcbu_start_retry", slog.Int("attempt", attempt), slog.String("error", err.Error()))
		if werr := c.sleep(ctx, c.opts.startWait); werr != nil {
			return err
		}
	}
}

// Stop asks a running backup to stop. It makes a call.
//
// API: POST /v1.0/{tenant}/backup/action-requested {"Action": "StopManual"}
func (s *BackupsService) Stop(ctx context.Context, id BackupID) error {
	return s.client.doOn(ctx, kindBackup, int64(id), request{op: fmt.Sprintf("stop backup %d", id), method: "POST",
		path: "backup/action-requested", body: map[string]any{"Action": "StopManual", "Id": id}})
}

// Get returns a backup's status. It makes a call.
//
// API: GET /v1.0/{tenant}/backup/{backupId}
func (s *BackupsService) Get(ctx context.Context, id BackupID) (*BackupStatus, error) {
	b, _, err := getOne[BackupStatus](ctx, s.client, fmt.Sprintf("get backup %d", id), kindBackup, int64(id), fmt.Sprintf("backup/%d", id))
	return b, err
}

// ListCompleted returns the restorable backups of a configuration. It
// makes a call.
//
// API: GET /v1.0/{tenant}/backup/completed/{backupConfigurationId}
func (s *BackupsService) ListCompleted(ctx context.Context, id ConfigurationID) ([]CompletedBackup, error) {
	op := fmt.Sprintf("list completed backups of configuration %d", id)
	ep, err := s.client.locate(ctx, op, kindConfiguration, int64(id))
	if err != nil {
		return nil, err
	}
	out := []CompletedBackup{}
	if err := s.client.do(ctx, ep, request{op: op, method: "GET", path: fmt.Sprintf("backup/completed/%d", id), out: &out}); err != nil {
		return nil, err
	}
	idx := s.client.endpointIndex(ep)
	for _, b := range out {
		s.client.remember(kindBackup, int64(b.ID), idx)
	}
	return out, nil
}

// Report returns the report of a finished backup; before the backup is
// done the service answers 404 (ErrNotFound). It makes a call.
//
// API: GET /v1.0/{tenant}/backup/report/{backupId}
func (s *BackupsService) Report(ctx context.Context, id BackupID) (*BackupReport, error) {
	r, _, err := getOne[BackupReport](ctx, s.client, fmt.Sprintf("get report of backup %d", id), kindBackup, int64(id), fmt.Sprintf("backup/report/%d", id))
	return r, err
}

// ReportRaw returns the report of a finished backup exactly as the service
// sent it, without decoding (a body that is not valid JSON still comes
// back); routing, retries and errors are those of Report. Decode it with
// json.Unmarshal into a BackupReport. It makes a call.
//
// API: GET /v1.0/{tenant}/backup/report/{backupId}
func (s *BackupsService) ReportRaw(ctx context.Context, id BackupID) ([]byte, error) {
	raw, _, err := fetchOne(ctx, s.client, fmt.Sprintf("get report of backup %d", id), kindBackup, int64(id), fmt.Sprintf("backup/report/%d", id))
	return raw, err
}

// Wait polls a backup every interval (5 s when ≤ 0) until it reaches a
// done state, and returns that status; when ctx ends first it returns the
// context's error. It makes calls.
//
// API: GET /v1.0/{tenant}/backup/{backupId}
func (s *BackupsService) Wait(ctx context.Context, id BackupID, interval time.Duration) (*BackupStatus, error) {
	return s.Handle(id).Wait(ctx, interval)
}

// Handle returns a handle for an existing backup; it makes no call.
func (s *BackupsService) Handle(id BackupID) *Backup {
	b := &Backup{ID: id, s: s}
	b.job.done = backupDone
	return b
}

// Backup is a handle on one backup run (the seed's Backup handler). Its
// methods that take a context make calls; the others read the last status
// seen. A Backup is safe for concurrent use, but its ConfigurationID field,
// which Refresh fills in, should not be read while another goroutine
// refreshes the handle: use Status then.
type Backup struct {
	ID              BackupID
	ConfigurationID ConfigurationID

	s   *BackupsService
	job jobHandle[BackupStatus, BackupReport]
}

func backupDone(st *BackupStatus) bool { return st.State.Done() }

// Refresh fetches the current status. It makes a call.
func (b *Backup) Refresh(ctx context.Context) (*BackupStatus, error) {
	st, err := b.s.Get(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	b.job.setStatus(st, func() { b.ConfigurationID = st.ConfigurationID })
	return st, nil
}

// Status returns the last status seen (nil before the first Refresh of a
// handle made by Handle).
func (b *Backup) Status() *BackupStatus { return b.job.lastCopy() }

// State returns the last state seen ("" if none yet).
func (b *Backup) State() BackupState {
	if st := b.job.last(); st != nil {
		return st.State
	}
	return ""
}

// Running reports whether the last state seen is a busy one.
func (b *Backup) Running() bool { return b.State().Busy() }

// Done reports whether the last state seen is final.
func (b *Backup) Done() bool { return b.State().Done() }

// Stop asks the backup to stop. It makes a call.
func (b *Backup) Stop(ctx context.Context) error { return b.s.Stop(ctx, b.ID) }

// Report returns the backup's report once it is done, and ErrNotDone while
// it is still running. It makes one or two calls (status, then report) until
// it has the report, and none after.
func (b *Backup) Report(ctx context.Context) (*BackupReport, error) {
	return b.job.loadReport(ctx, b.Refresh, func(ctx context.Context) (*BackupReport, error) { return b.s.Report(ctx, b.ID) })
}

// Wait polls every interval (5 s when ≤ 0) until the backup is done or ctx
// ends, and returns the final status. It makes calls.
func (b *Backup) Wait(ctx context.Context, interval time.Duration) (*BackupStatus, error) {
	return waitDone(ctx, b.s.client, interval, b.Refresh, backupDone)
}
