package rcbu

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
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

// UnmarshalJSON decodes an activity item, accepting digit-string ids and
// "true"/"false" strings for IsBackupConfigurationDeleted. Keys match as
// encoding/json matches them (exactly, else ignoring case); unknown keys
// are ignored. It reads the item in one pass without reflection: the
// account-wide lists run to tens of thousands of items.
func (a *Activity) UnmarshalJSON(b []byte) error {
	i := skipSpace(b, 0)
	if i >= len(b) {
		return syntaxError("unexpected end of input", i)
	}
	var end int
	var err error
	switch b[i] {
	case 'n':
		end, err = scanLiteral(b, i, "null")
	case '{':
		end, err = scanObject(b, i, 1, func(k []byte, slow bool, v []byte) error { return a.setField(k, slow, v, nil) })
	default:
		if _, err := scanValue(b, i, 0); err != nil {
			return err
		}
		return fmt.Errorf("json: cannot unmarshal %s into Go value of type rcbu.Activity", jsonKind(b[i]))
	}
	if err != nil {
		return err
	}
	if end = skipSpace(b, end); end != len(b) {
		return syntaxError("after top-level value", end)
	}
	return nil
}

// activityFields are the JSON names of Activity's fields, in field order.
var activityFields = [...]string{
	"ID", "Type", "ParentId", "DisplayName", "IsBackupConfigurationDeleted",
	"SourceMachineAgentId", "SourceMachineName", "SourceDatacenter",
	"DestinationMachineAgentId", "DestinationMachineName", "DestinationDatacenter",
	"CurrentState", "TimeOfActivity", "BackupId",
}

// activityField returns the index in activityFields of the field key
// names, or -1.
func activityField(key []byte) int {
	for i, name := range activityFields {
		if string(key) == name {
			return i
		}
	}
	for i, name := range activityFields {
		if keyIs(key, name) {
			return i
		}
	}
	return -1
}

// setField decodes one member of an activity object; rawKey includes the
// quotes and val is the value's JSON text.
func (a *Activity) setField(rawKey []byte, slowKey bool, val []byte, in interner) error {
	key := rawKey[1 : len(rawKey)-1]
	if slowKey {
		k, err := decodeKey(rawKey, true)
		if err != nil {
			return err
		}
		key = []byte(k)
	}
	f := activityField(key)
	if f < 0 {
		return nil
	}
	var err error
	switch f {
	case 0:
		var n flexInt
		err = n.UnmarshalJSON(val)
		a.ID = int64(n)
	case 1:
		err = stringValue(val, (*string)(&a.Type), "Activity.Type", in)
	case 2:
		err = a.ConfigurationID.UnmarshalJSON(val)
	case 3:
		err = stringValue(val, &a.DisplayName, "Activity.DisplayName", in)
	case 4:
		var v flexBool
		err = v.UnmarshalJSON(val)
		a.IsBackupConfigurationDeleted = bool(v)
	case 5:
		err = a.SourceAgentID.UnmarshalJSON(val)
	case 6:
		err = stringValue(val, &a.SourceMachineName, "Activity.SourceMachineName", in)
	case 7:
		err = stringValue(val, &a.SourceDatacenter, "Activity.SourceDatacenter", in)
	case 8:
		err = a.DestinationAgentID.UnmarshalJSON(val)
	case 9:
		err = stringValue(val, &a.DestinationMachineName, "Activity.DestinationMachineName", in)
	case 10:
		err = stringValue(val, &a.DestinationDatacenter, "Activity.DestinationDatacenter", in)
	case 11:
		err = stringValue(val, &a.CurrentState, "Activity.CurrentState", in)
	case 12:
		err = a.TimeOfActivity.UnmarshalJSON(val)
	case 13:
		err = a.BackupID.UnmarshalJSON(val)
	}
	return err
}

// activityArray decodes the array at b[i] == '[' and returns it with its
// end. Each item is checked and decoded in the same pass.
func activityArray(b []byte, i int) ([]Activity, int, error) {
	// About 400 bytes an item: usually one allocation.
	list := make([]Activity, 0, len(b)/400+1)
	var cur *Activity
	in := interner{}
	set := func(k []byte, slow bool, v []byte) error { return cur.setField(k, slow, v, in) }
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return list, i + 1, nil
	}
	for {
		if i >= len(b) {
			return nil, 0, syntaxError("unexpected end of input in array", i)
		}
		list = append(list, Activity{})
		cur = &list[len(list)-1]
		var err error
		switch b[i] {
		case '{':
			i, err = scanObject(b, i, 2, set)
		case 'n':
			i, err = scanLiteral(b, i, "null")
		default:
			if _, err = scanValue(b, i, 1); err == nil {
				err = fmt.Errorf("json: cannot unmarshal %s into Go value of type rcbu.Activity", jsonKind(b[i]))
			}
		}
		if err != nil {
			return nil, 0, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, 0, syntaxError("unexpected end of input in array", i)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return list, i + 1, nil
		default:
			return nil, 0, syntaxError("after array element", i)
		}
	}
}

// decodeActivities decodes a JSON array of activity items into *dst in one
// pass, as json.Unmarshal would (null gives a nil list).
func decodeActivities(b []byte, dst *[]Activity) error {
	i := skipSpace(b, 0)
	if i >= len(b) {
		return syntaxError("unexpected end of input", i)
	}
	var list []Activity
	var end int
	var err error
	switch b[i] {
	case 'n':
		end, err = scanLiteral(b, i, "null")
	case '[':
		list, end, err = activityArray(b, i)
	default:
		if _, err := scanValue(b, i, 0); err != nil {
			return err
		}
		return fmt.Errorf("json: cannot unmarshal %s into Go value of type []rcbu.Activity", jsonKind(b[i]))
	}
	if err != nil {
		return err
	}
	if end = skipSpace(b, end); end != len(b) {
		return syntaxError("after top-level value", end)
	}
	*dst = list
	return nil
}

// Busy reports whether the job is queued or running.
func (a *Activity) Busy() bool { return BackupState(a.CurrentState).Busy() }

// Done reports whether the job has finished.
func (a *Activity) Done() bool { return BackupState(a.CurrentState).Done() }

// ActivityService lists jobs and reads cleanup reports (§9, §10).
type ActivityService service

// activityKey orders activity newest first, then by descending id.
type activityKey struct {
	sec  int64
	nsec int
	id   int64
}

func compareActivityKeys(a, b activityKey) int {
	if c := cmp.Compare(b.sec, a.sec); c != 0 {
		return c
	}
	if c := cmp.Compare(b.nsec, a.nsec); c != 0 {
		return c
	}
	return cmp.Compare(b.id, a.id)
}

// activityOrder sorts newest first, then by id; items equal in both keep
// their order.
func activityOrder(list []Activity) {
	sortStableByKey(list, func(a *Activity) activityKey {
		t := a.TimeOfActivity.Time
		return activityKey{t.Unix(), t.Nanosecond(), a.ID}
	}, compareActivityKeys)
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
	// One sort, straight to the final order: concatenation order breaks
	// ties as a sort by id before it would.
	out, err := fetchAll(ctx, s.client, "list activity", "activity", s.post)
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
