package rcbu

import (
	"encoding/json"
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
	r.Duration = 0
	if aux.Duration != nil && *aux.Duration != "" {
		d, err := ParseHMS(*aux.Duration)
		if err != nil {
			return err
		}
		r.Duration = d
	}
	return nil
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
