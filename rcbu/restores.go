package rcbu

import (
	"encoding/json"
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
	return fmt.Errorf("%s", msg)
}
