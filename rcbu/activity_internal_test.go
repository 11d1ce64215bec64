package rcbu

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// refActivity decodes an activity item the way the binding did before the
// one-pass decoder: encoding/json into the struct, with flexible ID and
// IsBackupConfigurationDeleted. The fuzz test holds the new decoder to it.
type refActivity struct{ a Activity }

func (r *refActivity) UnmarshalJSON(b []byte) error {
	type alias Activity
	aux := struct {
		*alias
		ID      flexInt  `json:"ID"`
		Deleted flexBool `json:"IsBackupConfigurationDeleted"`
	}{alias: (*alias)(&r.a)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.a.ID, r.a.IsBackupConfigurationDeleted = int64(aux.ID), bool(aux.Deleted)
	return nil
}

var activitySeeds = []string{
	`[]`, `null`, ` [ ] `, `[null]`, `{}`, `[{}]`, `[1]`, `["x"]`, `[{"ID":1}] x`, `[{"ID":1},]`, `[{"ID":1}`,
	`[{"ID":736251,"Type":"Backup","ParentId":380001,"DisplayName":"nightly","IsBackupConfigurationDeleted":false,` +
		`"SourceMachineAgentId":212001,"SourceMachineName":"web-01","SourceDatacenter":"DFW",` +
		`"DestinationMachineAgentId":0,"DestinationMachineName":"","DestinationDatacenter":"",` +
		`"CurrentState":"Completed","TimeOfActivity":"\/Date(1357817400000)\/","BackupId":736251}]`,
	`[{"ID":"88001","Type":"Restore","ParentId":"380001","IsBackupConfigurationDeleted":"true","BackupId":"736251",` +
		`"TimeOfActivity":"/Date(1357817400000-0500)/","DestinationMachineAgentId":"212002"}]`,
	`[{"id":7,"type":"Cleanup","displayname":"Cleanup","CURRENTSTATE":"Completed","timeofactivity":null,"parentid":null}]`,
	`[{"ID":1.0,"ParentId":1e3,"SourceMachineAgentId":-4,"IsBackupConfigurationDeleted":1}]`,
	`[{"ID":1,"ID":2,"DisplayName":"a","DisplayName":"b","Region":"XYZ","Extra":{"deep":[1,{"x":null}]}}]`,
	`[{"DisplayName":"caf\u00e9 \"quoted\" \\ tab\t","SourceMachineName":"\ud83d\ude00","CurrentState":"bad \xff utf8"}]`,
	`[{"\u0049D":5,"Type\u0000":"x","K":1,"ſourceDatacenter":"DFW"}]`,
	`[{"ID":true}]`, `[{"Type":5}]`, `[{"DisplayName":{}}]`, `[{"TimeOfActivity":"yesterday"}]`, `[{"ID":"12x"}]`,
	`[{"ID":1.5}]`, `[{"ID":01}]`, `[{"ID":-}]`, `[{"ID":1e}]`, `[{"DisplayName":"\x01"}]`, `[{"DisplayName":"\q"}]`,
	`[{"DisplayName":"\u12"}]`, `[{"ID" 1}]`, `[{"ID":1 "Type":"x"}]`, `[{1:2}]`, `[tru]`, `[nul]`, "[{\"ID\":1}]\n",
}

// FuzzActivityList decodes arbitrary bodies as an activity list with the
// one-pass decoder and with encoding/json plus the reference item decoder:
// both accept the same inputs and agree on every field. Single items go
// through json.Unmarshal and Activity.UnmarshalJSON the same way.
func FuzzActivityList(f *testing.F) {
	for _, s := range activitySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ref []refActivity
		refErr := json.Unmarshal(b, &ref)
		var got []Activity
		gotErr := decodeActivities(b, &got)
		if (refErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: encoding/json error %v, one-pass error %v", b, refErr, gotErr)
		}
		if refErr == nil {
			if (ref == nil) != (got == nil) || len(ref) != len(got) {
				t.Fatalf("%q: encoding/json %d items (nil %v), one-pass %d (nil %v)", b, len(ref), ref == nil, len(got), got == nil)
			}
			for i := range ref {
				if !reflect.DeepEqual(ref[i].a, got[i]) {
					t.Fatalf("%q: item %d\nencoding/json %+v\none-pass      %+v", b, i, ref[i].a, got[i])
				}
			}
		}
		var refOne refActivity
		refErr = json.Unmarshal(b, &refOne)
		var one Activity
		gotErr = json.Unmarshal(b, &one)
		if (refErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: single item: reference error %v, UnmarshalJSON error %v", b, refErr, gotErr)
		}
		if refErr == nil && !reflect.DeepEqual(refOne.a, one) {
			t.Fatalf("%q: single item\nreference %+v\ngot       %+v", b, refOne.a, one)
		}
	})
}

// TestActivityOrderMatchesStableSort checks the keyed sort against the
// stable sort it replaces (by id, then newest first), ties included.
func TestActivityOrderMatchesStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for round := range 200 {
		n := rng.IntN(300)
		list := make([]Activity, n)
		for i := range list {
			list[i] = Activity{
				ID:             rng.Int64N(20),
				DisplayName:    string(rune('a' + i%26)), // tells equal keys apart
				Region:         []string{"DFW", "ORD", "LON"}[rng.IntN(3)],
				TimeOfActivity: MSDate{base.Add(time.Duration(rng.IntN(10)) * time.Minute)},
			}
			if rng.IntN(10) == 0 {
				list[i].TimeOfActivity = MSDate{}
			}
		}
		want := slices.Clone(list)
		slices.SortStableFunc(want, func(a, b Activity) int { return cmp.Compare(a.ID, b.ID) })
		slices.SortStableFunc(want, func(a, b Activity) int {
			if c := b.TimeOfActivity.Compare(a.TimeOfActivity.Time); c != 0 {
				return c
			}
			return cmp.Compare(b.ID, a.ID)
		})
		got := slices.Clone(list)
		activityOrder(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: keyed order differs from the stable sorts", round)
		}
		byID := slices.Clone(list)
		sortStableByKey(byID, func(a *Activity) int64 { return a.ID }, cmp.Compare[int64])
		wantByID := slices.Clone(list)
		slices.SortStableFunc(wantByID, func(a, b Activity) int { return cmp.Compare(a.ID, b.ID) })
		if !reflect.DeepEqual(byID, wantByID) {
			t.Fatalf("round %d: sortStableByKey differs from slices.SortStableFunc", round)
		}
	}
}
