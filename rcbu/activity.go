package rcbu

import "encoding/json"

// Activity is a backup, restore or cleanup job in an activity list (§9.1).
type Activity struct {
	ID                           int64           `json:"ID"` // backup, restore or cleanup id, per Type
	Type                         ActivityType    `json:"Type"`
	ConfigurationID              ConfigurationID `json:"ParentId"`
	DisplayName                  string          `json:"DisplayName"`
	IsBackupConfigurationDeleted bool            `json:"IsBackupConfigurationDeleted"`
	SourceAgentID                AgentID         `json:"SourceMachineAgentId"`
	SourceMachineName            string          `json:"SourceMachineName"`
	SourceDatacenter             string          `json:"SourceDatacenter"`
	DestinationAgentID           AgentID         `json:"DestinationMachineAgentId"`
	DestinationMachineName       string          `json:"DestinationMachineName"`
	DestinationDatacenter        string          `json:"DestinationDatacenter"`
	CurrentState                 string          `json:"CurrentState"`
	TimeOfActivity               MSDate          `json:"TimeOfActivity"`
	BackupID                     BackupID        `json:"BackupId"`

	// Region is the catalog region of the endpoint that returned it.
	Region string `json:"-"`
}

// UnmarshalJSON decodes an activity item, accepting digit-string ids.
func (a *Activity) UnmarshalJSON(b []byte) error {
	type alias Activity
	aux := struct {
		*alias
		ID      flexInt  `json:"ID"`
		Deleted flexBool `json:"IsBackupConfigurationDeleted"`
	}{alias: (*alias)(a)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	a.ID, a.IsBackupConfigurationDeleted = int64(aux.ID), bool(aux.Deleted)
	return nil
}

// Busy reports whether the job is queued or running.
func (a *Activity) Busy() bool { return BackupState(a.CurrentState).Busy() }

// Done reports whether the job has finished.
func (a *Activity) Done() bool { return BackupState(a.CurrentState).Done() }
