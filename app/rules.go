package app

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/words"
)

// RuleKind names an alert rule. The values are stored and appear in forms
// and webhook payloads.
type RuleKind string

// The alert rules.
const (
	// RuleBackupFailed: a backup ended Failed, CompletedWithErrors, Missed
	// or Skipped. One incident per backup; it resolves when a later backup
	// of the same configuration completes.
	RuleBackupFailed RuleKind = "backup_failed"
	// RuleOverdue: a scheduled configuration has had no success within its
	// interval plus its grace period.
	RuleOverdue RuleKind = "overdue"
	// RuleAgentOffline: an agent has been offline for longer than the
	// account's threshold.
	RuleAgentOffline RuleKind = "agent_offline"
	// RuleGrowth: a run backed up many times more bytes than the median of
	// its configuration's previous runs (a sign of mass change, such as
	// ransomware encrypting files). It resolves with the next run.
	RuleGrowth RuleKind = "growth"
)

// RuleKinds lists the rules in the order pages show them.
func RuleKinds() []RuleKind {
	return []RuleKind{RuleBackupFailed, RuleOverdue, RuleAgentOffline, RuleGrowth}
}

// Label names the rule for people.
func (r RuleKind) Label() string { return words.AlertRules.Say(string(r)) }

// Valid reports whether r is one of RuleKinds.
func (r RuleKind) Valid() bool { return slices.Contains(RuleKinds(), r) }

// ParseRuleKind parses a rule name as produced by its string value.
func ParseRuleKind(s string) (RuleKind, error) {
	if r := RuleKind(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("rule %q: %w", s, ErrInvalid)
}

// Growth rule defaults: the jump factor, how many previous runs the median
// covers, and how many it needs at least.
const (
	DefaultGrowthFactor = 5.0
	GrowthWindow        = 30
	GrowthMinRuns       = 5
	// DefaultOfflineHours is how long an agent may be offline before it
	// is an incident.
	DefaultOfflineHours = 24
)

// Finding is one problem a rule sees now. Object identifies it within its
// rule and account ("backup:123"); Group is the configuration a backup
// finding belongs to.
type Finding struct {
	Rule   RuleKind
	Object string
	Group  string
	Title  string
	Detail string
	// At is when it happened: the backup's end, the due time, the first
	// time the agent was seen offline.
	At time.Time
	// Once: one incident per Object ever; a resolved one is not reopened.
	Once bool
	// AgentID, ConfigID and JobID name what it is about, where the rule
	// knows (a snooze of the agent or configuration covers it).
	AgentID  rcbu.AgentID
	ConfigID rcbu.ConfigurationID
	JobID    int64
}

// RuleResult is what one rule decided: the problems it sees, and which
// open incidents (by Object) have ended.
type RuleResult struct {
	Firing   []Finding
	Resolved []string
}

// OpenIncident is the part of an open incident the rules need to decide
// whether it has ended.
type OpenIncident struct {
	Object string
	Group  string
	At     time.Time
}

// backupObject, configObject and agentObject are the Object keys.
func backupObject(id int64) string { return "backup:" + strconv.FormatInt(id, 10) }
func configObject(id rcbu.ConfigurationID) string {
	return "configuration:" + strconv.FormatInt(int64(id), 10)
}
func agentObject(id rcbu.AgentID) string { return "agent:" + strconv.FormatInt(int64(id), 10) }

// stateIs reports whether a state as the API spells it is one of names,
// ignoring case and spaces, without allocating (the rules classify every
// run of the window on each evaluation).
func stateIs(state string, names ...string) bool {
	if strings.ContainsRune(state, ' ') {
		state = strings.ReplaceAll(state, " ", "")
	}
	for _, n := range names {
		if strings.EqualFold(state, n) {
			return true
		}
	}
	return false
}

// completed reports a Completed run; sizedRun one whose size counts for
// the growth median (Completed or CompletedWithErrors).
func completed(state string) bool { return stateIs(state, "Completed") }
func sizedRun(state string) bool  { return stateIs(state, "Completed", "CompletedWithErrors") }

func configName(r Report) string {
	return cmp.Or(r.ConfigName, words.DeletedConfiguration(int64(r.ConfigID)))
}

func agentName(name string, id rcbu.AgentID) string {
	return cmp.Or(name, "agent "+strconv.FormatInt(int64(id), 10))
}

func onAgent(r Report) string { return agentName(r.AgentName, r.AgentID) }

// groupConfig returns the configuration of a backup incident's Group.
func groupConfig(group string) (rcbu.ConfigurationID, bool) {
	rest, ok := strings.CutPrefix(group, "configuration:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return rcbu.ConfigurationID(id), err == nil
}

// plural picks the word for n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// byteSize says n in binary units as the API does ("1.2 GB").
func byteSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " " + plural(n, "byte", "bytes")
	}
	units := []string{"KB", "MB", "GB", "TB", "PB", "EB"}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// alertState reports whether a backup's final state is one the
// backup_failed rule alerts on.
func alertState(state string) bool {
	return stateIs(state, "Failed", "CompletedWithErrors", "Missed", "Skipped")
}

// FailedBackups is the backup_failed rule over an account's recorded backup
// runs (any order). A run that ended in an alerting state at or after since
// fires unless a later run of its configuration completed; an open incident
// resolves once a run of its configuration completed after it. lastSuccess
// gives each configuration's newest Completed run even when it is older than
// the runs passed.
func FailedBackups(runs []Report, lastSuccess map[rcbu.ConfigurationID]time.Time, since time.Time, open []OpenIncident) RuleResult {
	done := make(map[rcbu.ConfigurationID]time.Time, len(lastSuccess))
	maps.Copy(done, lastSuccess)
	for i := range runs {
		if r := &runs[i]; completed(r.State) && r.Finished.After(done[r.ConfigID]) {
			done[r.ConfigID] = r.Finished
		}
	}
	var res RuleResult
	for i := range runs {
		r := &runs[i]
		if r.Kind != KindBackup && r.Kind != "" {
			continue
		}
		if !alertState(r.State) || r.Finished.Before(since) || !done[r.ConfigID].Before(r.Finished) {
			continue
		}
		detail := fmt.Sprintf("The backup %d of %s on %s %s", r.JobID, configName(*r), onAgent(*r), words.Outcome(r.State))
		if r.ErrorCount > 0 {
			detail += fmt.Sprintf(" with %d %s", r.ErrorCount, plural(r.ErrorCount, "error", "errors"))
		}
		if w := words.Reason(r.Reason); w != "" {
			detail += " (" + strings.ToLower(w[:1]) + w[1:] + ")"
		}
		res.Firing = append(res.Firing, Finding{
			Rule: RuleBackupFailed, Object: backupObject(r.JobID), Group: configObject(r.ConfigID),
			Title: fmt.Sprintf("Backup of %s on %s: %s", configName(*r), onAgent(*r), words.State(r.State)),
			// The detail ends with a full stop only once, whatever the reason says.
			Detail: strings.TrimSuffix(detail, ".") + ".",
			At:     r.Finished, Once: true, AgentID: r.AgentID, ConfigID: r.ConfigID, JobID: r.JobID,
		})
	}
	res.Resolved = resolvedAfter(open, done)
	sortResult(&res)
	return res
}

// GrowthJumps is the growth rule: the newest run of each configuration
// (ended at or after since, Completed or CompletedWithErrors) fires when
// its BytesBackedUp exceeds factor × the median of the up to GrowthWindow
// sized runs before it, given at least GrowthMinRuns of them and a median
// above zero. An open incident resolves once a newer run of its
// configuration exists.
func GrowthJumps(runs []Report, factor float64, since time.Time, open []OpenIncident) RuleResult {
	if factor <= 1 {
		factor = DefaultGrowthFactor
	}
	// Group indices, not copies: a Report is large and an account has
	// thousands of runs in the window.
	byCfg := map[rcbu.ConfigurationID][]int{}
	for i := range runs {
		if runs[i].Kind == KindBackup || runs[i].Kind == "" {
			byCfg[runs[i].ConfigID] = append(byCfg[runs[i].ConfigID], i)
		}
	}
	var res RuleResult
	newest := map[rcbu.ConfigurationID]time.Time{}
	prior := make([]int64, 0, GrowthWindow)
	for cfg, list := range byCfg {
		slices.SortStableFunc(list, func(a, b int) int {
			if c := runs[a].Finished.Compare(runs[b].Finished); c != 0 {
				return c
			}
			return cmp.Compare(runs[a].JobID, runs[b].JobID)
		})
		last := &runs[list[len(list)-1]]
		newest[cfg] = last.Finished
		if !sizedRun(last.State) || last.Finished.Before(since) {
			continue
		}
		prior = prior[:0]
		for i := len(list) - 2; i >= 0 && len(prior) < GrowthWindow; i-- {
			if r := &runs[list[i]]; sizedRun(r.State) {
				prior = append(prior, r.BytesBackedUp)
			}
		}
		if len(prior) < GrowthMinRuns {
			continue
		}
		med := median(prior)
		if med <= 0 || float64(last.BytesBackedUp) <= factor*med {
			continue
		}
		ratio := float64(last.BytesBackedUp) / med
		res.Firing = append(res.Firing, Finding{
			Rule: RuleGrowth, Object: backupObject(last.JobID), Group: configObject(cfg),
			Title: fmt.Sprintf("Backup of %s on %s backed up %.1f× its usual size", configName(*last), onAgent(*last), ratio),
			Detail: fmt.Sprintf("The backup %d backed up %s; the median of the previous %d runs is %s. "+
				"A jump like this can mean mass change on the server, such as ransomware encrypting files.",
				last.JobID, byteSize(last.BytesBackedUp), len(prior), byteSize(int64(med))),
			At: last.Finished, Once: true, AgentID: last.AgentID, ConfigID: cfg, JobID: last.JobID,
		})
	}
	res.Resolved = resolvedAfter(open, newest)
	sortResult(&res)
	return res
}

// median returns the median of xs (not empty); xs is reordered.
func median(xs []int64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return float64(xs[n/2])
	}
	return (float64(xs[n/2-1]) + float64(xs[n/2])) / 2
}

// OverdueInput is one configuration as the overdue rule sees it.
type OverdueInput struct {
	Configuration rcbu.Configuration
	AgentName     string
	LastSuccess   time.Time // zero when none is known
	// Grace overrides the policy's grace when HasGrace is set.
	Grace    time.Duration
	HasGrace bool
}

// OverdueConfigurations is the overdue rule over the complete list of an
// account's configurations: each one policy p (or its own grace) finds
// overdue at now fires; an open incident resolves when its configuration
// is no longer overdue, or no longer exists.
func OverdueConfigurations(cfgs []OverdueInput, p OverduePolicy, now time.Time, open []OpenIncident) RuleResult {
	var res RuleResult
	firing := map[string]bool{}
	for _, in := range cfgs {
		c := in.Configuration
		pol := p
		if in.HasGrace {
			pol = OverduePolicy{MinGrace: in.Grace}
		}
		o := pol.Check(c, in.LastSuccess, now)
		if !o.Overdue {
			continue
		}
		obj := configObject(c.ID)
		firing[obj] = true
		interval, _ := ConfigurationInterval(c)
		name := cmp.Or(c.Name, "configuration "+strconv.FormatInt(int64(c.ID), 10))
		f := Finding{Rule: RuleOverdue, Object: obj, Group: obj, AgentID: c.AgentID, ConfigID: c.ID,
			Title: fmt.Sprintf("%s on %s is %s", name, agentName(in.AgentName, c.AgentID), o.Words())}
		if o.Never {
			f.Detail = fmt.Sprintf("%s has run but never completed. It is scheduled every %s.", name, ShortDuration(interval))
			f.At = now
		} else {
			f.Detail = fmt.Sprintf("The last successful backup of %s ended %s; it is scheduled every %s with %s of grace.",
				name, in.LastSuccess.UTC().Format("2006-01-02 15:04 MST"), ShortDuration(interval), ShortDuration(pol.Grace(interval)))
			f.At = in.LastSuccess.Add(interval)
		}
		res.Firing = append(res.Firing, f)
	}
	for _, inc := range open {
		if !firing[inc.Object] {
			res.Resolved = append(res.Resolved, inc.Object)
		}
	}
	sortResult(&res)
	return res
}

// AgentPresence is one agent as the offline rule sees it.
type AgentPresence struct {
	ID       rcbu.AgentID
	Name     string
	Disabled bool
	// Known is set when the live status was read; an agent whose details
	// failed is neither alerted on nor resolved.
	Known bool
	// OfflineSince is when the console first saw it offline in the current
	// stretch; zero when it is online.
	OfflineSince time.Time
}

// OfflineAgents is the agent_offline rule over the complete list of an
// account's agents: an enabled agent offline for longer than after fires;
// an open incident resolves when its agent is back, disabled or gone.
func OfflineAgents(agents []AgentPresence, after time.Duration, now time.Time, open []OpenIncident) RuleResult {
	var res RuleResult
	keep := map[string]bool{}
	for _, a := range agents {
		obj := agentObject(a.ID)
		if !a.Known {
			keep[obj] = true // unknown now: leave any incident as it is
			continue
		}
		if a.Disabled || a.OfflineSince.IsZero() || now.Sub(a.OfflineSince) <= after {
			continue
		}
		keep[obj] = true
		name := agentName(a.Name, a.ID)
		res.Firing = append(res.Firing, Finding{
			Rule: RuleAgentOffline, Object: obj, AgentID: a.ID,
			Title:  fmt.Sprintf("Agent %s has been offline for %s", name, ShortDuration(now.Sub(a.OfflineSince))),
			Detail: fmt.Sprintf("The console first saw %s offline at %s. Its scheduled backups cannot run until it is back.", name, a.OfflineSince.UTC().Format("2006-01-02 15:04 MST")),
			At:     a.OfflineSince,
		})
	}
	for _, inc := range open {
		if !keep[inc.Object] {
			res.Resolved = append(res.Resolved, inc.Object)
		}
	}
	sortResult(&res)
	return res
}

func sortResult(r *RuleResult) {
	slices.SortFunc(r.Firing, func(a, b Finding) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Object, b.Object)
	})
	slices.Sort(r.Resolved)
	r.Resolved = slices.Compact(r.Resolved)
}

// resolvedAfter is the objects of the open incidents whose configuration
// has a run (in since) newer than the incident.
func resolvedAfter(open []OpenIncident, since map[rcbu.ConfigurationID]time.Time) []string {
	var out []string
	for _, inc := range open {
		if cfg, ok := groupConfig(inc.Group); ok && since[cfg].After(inc.At) {
			out = append(out, inc.Object)
		}
	}
	return out
}
