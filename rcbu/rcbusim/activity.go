package rcbusim

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"
)

type activityJSON struct {
	ID                           int64
	Type                         string
	ParentId                     int64
	DisplayName                  string
	IsBackupConfigurationDeleted bool
	SourceMachineAgentId         int64
	SourceMachineName            string
	SourceDatacenter             string
	DestinationMachineAgentId    int64
	DestinationMachineName       string
	DestinationDatacenter        string
	CurrentState                 string
	TimeOfActivity               msDate
	BackupId                     int64
}

func backupActivity(b *backup) activityJSON {
	cfg, a := b.config, b.config.agent
	return activityJSON{
		ID: b.id, Type: "Backup", ParentId: cfg.id, DisplayName: cfg.name,
		IsBackupConfigurationDeleted: cfg.deleted,
		SourceMachineAgentId:         a.id, SourceMachineName: a.name, SourceDatacenter: a.datacenter,
		CurrentState: b.state.String(), TimeOfActivity: msDate(b.changed), BackupId: b.id,
	}
}

func restoreActivity(r *restore) activityJSON {
	b := r.backup
	cfg, a := b.config, b.config.agent
	return activityJSON{
		ID: r.id, Type: "Restore", ParentId: cfg.id, DisplayName: cfg.name,
		IsBackupConfigurationDeleted: cfg.deleted,
		SourceMachineAgentId:         a.id, SourceMachineName: a.name, SourceDatacenter: a.datacenter,
		DestinationMachineAgentId: r.dest.id, DestinationMachineName: r.dest.name, DestinationDatacenter: r.dest.datacenter,
		CurrentState: restoreStateName(r.state), TimeOfActivity: msDate(r.changed), BackupId: b.id,
	}
}

func cleanupActivity(cl *cleanup) activityJSON {
	a := cl.agent
	at := cl.end
	if at.IsZero() {
		at = cl.start
	}
	return activityJSON{
		ID: cl.id, Type: "Cleanup", DisplayName: "Cleanup",
		SourceMachineAgentId: a.id, SourceMachineName: a.name, SourceDatacenter: a.datacenter,
		CurrentState: cl.state, TimeOfActivity: msDate(at),
	}
}

// activity collects the activity of the agents keep accepts, newest first.
func (s *Server) activity(c *call, keep func(*agent) bool) []activityJSON {
	out := []activityJSON{}
	for _, cfg := range c.tenant.configs {
		if !keep(cfg.agent) {
			continue
		}
		for _, b := range cfg.backups {
			out = append(out, backupActivity(b))
		}
	}
	for _, r := range c.tenant.restores {
		if keep(r.dest) || keep(r.backup.config.agent) {
			out = append(out, restoreActivity(r))
		}
	}
	for _, cl := range c.tenant.cleanups {
		if keep(cl.agent) {
			out = append(out, cleanupActivity(cl))
		}
	}
	slices.SortFunc(out, func(x, y activityJSON) int {
		if c := time.Time(y.TimeOfActivity).Compare(time.Time(x.TimeOfActivity)); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	return out
}

func (s *Server) listActivity(c *call) reply {
	return ok(s.activity(c, c.visible))
}

func (s *Server) listAgentActivity(c *call) reply {
	a, rep, found := s.lookupAgent(c, c.id, http.StatusNotFound)
	if !found {
		return rep
	}
	return ok(s.activity(c, func(x *agent) bool { return x == a }))
}

type cleanupReportJSON struct {
	CleanupId       int64
	MachineAgentId  int64
	MachineName     string
	State           string
	StartTime       msDate
	CompletedTime   *msDate
	Duration        string
	NumFilesDeleted string
	BytesFreed      string
	Reason          string
	Diagnostics     string
}

func (s *Server) getCleanupReport(c *call) reply {
	cl := s.cleanups[c.id]
	if cl == nil || cl.agent.deleted {
		return errReply(http.StatusNotFound, "cleanup %d not found", c.id)
	}
	if cl.agent.tenant != c.tenant {
		return errReply(http.StatusForbidden, "access denied to cleanup %d", cl.id)
	}
	if !c.visible(cl.agent) {
		return errReply(http.StatusNotFound, "cleanup %d not found in region %s", cl.id, c.region)
	}
	reason, diag := "Success", "No errors"
	if cl.state == "Failed" {
		reason, diag = "UnableToCleanup", "The vault cleanup failed and will be retried"
	}
	return ok(cleanupReportJSON{
		CleanupId: cl.id, MachineAgentId: cl.agent.id, MachineName: cl.agent.name, State: cl.state,
		StartTime: msDate(cl.start), CompletedTime: dateOrNil(cl.end), Duration: hms(cl.end.Sub(cl.start)),
		NumFilesDeleted: strconv.FormatInt(cl.deleted, 10), BytesFreed: humanSize(cl.freed),
		Reason: reason, Diagnostics: diag,
	})
}
