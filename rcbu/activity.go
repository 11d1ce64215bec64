package rcbu

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

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

// ActivityService lists jobs and reads cleanup reports (§9, §10).
type ActivityService service

// activityOrder sorts newest first, then by id.
func activityOrder(list []Activity) {
	slices.SortStableFunc(list, func(a, b Activity) int {
		if c := b.TimeOfActivity.Compare(a.TimeOfActivity.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

func (s *ActivityService) post(a *Activity, ep int) {
	a.Region = s.client.endpoints[ep].Region
	switch a.Type {
	case ActivityBackup:
		s.client.remember(kindBackup, a.ID, ep)
	case ActivityRestore:
		s.client.remember(kindRestore, a.ID, ep)
	}
}

// List returns the account's activity (backups, restores, cleanups),
// newest first. It makes one call per region.
//
// API: GET /v1.0/{tenant}/activity
func (s *ActivityService) List(ctx context.Context) ([]Activity, error) {
	out, err := listAll(ctx, s.client, "list activity", "activity", func(a *Activity) int64 { return a.ID }, s.post)
	if err != nil {
		return nil, err
	}
	activityOrder(out)
	return out, nil
}

// ListForAgent returns one agent's activity, newest first. It makes a call.
//
// API: GET /v1.0/{tenant}/system/activity/{agentId}
func (s *ActivityService) ListForAgent(ctx context.Context, id AgentID) ([]Activity, error) {
	op := fmt.Sprintf("list activity of agent %d", id)
	ep, err := s.client.locate(ctx, op, kindAgent, int64(id))
	if err != nil {
		return nil, err
	}
	out := []Activity{}
	if err := s.client.do(ctx, ep, request{op: op, method: "GET", path: fmt.Sprintf("system/activity/%d", id), out: &out}); err != nil {
		return nil, err
	}
	idx := s.client.endpointIndex(ep)
	for i := range out {
		s.post(&out[i], idx)
	}
	activityOrder(out)
	return out, nil
}

// CleanupReport is the report of a vault cleanup. Its shape is not
// documented; the typed fields are those seen in practice and Raw keeps
// the whole body.
type CleanupReport struct {
	ID              CleanupID       `json:"CleanupId"`
	AgentID         AgentID         `json:"MachineAgentId"`
	MachineName     string          `json:"MachineName"`
	State           string          `json:"State"`
	StartTime       MSDate          `json:"StartTime"`
	CompletedTime   MSDate          `json:"CompletedTime"`
	Duration        string          `json:"Duration"`
	NumFilesDeleted FlexString      `json:"NumFilesDeleted"`
	BytesFreed      *Size           `json:"BytesFreed"`
	Reason          string          `json:"Reason"`
	Diagnostics     string          `json:"Diagnostics"`
	Raw             json.RawMessage `json:"-"`
}

// CleanupReport returns the report of a vault cleanup (ids come from
// activity items of Type ActivityCleanup). It makes a call (one per region
// when several are in use).
//
// API: GET /v1.0/{tenant}/cleanup/report/{cleanupId}
func (s *ActivityService) CleanupReport(ctx context.Context, id CleanupID) (*CleanupReport, error) {
	op := fmt.Sprintf("get report of cleanup %d", id)
	path := fmt.Sprintf("cleanup/report/%d", id)
	raw, _, err := fetchAny(ctx, s.client, op, path, func(int) {})
	if err != nil {
		return nil, err
	}
	r := &CleanupReport{Raw: json.RawMessage(raw)}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("rcbu: %s: decode response: %w", op, err)
	}
	return r, nil
}
