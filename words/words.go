// Package words says every value Cloud Backup and the console's own records
// send in words a person understands: backup and restore states (§11.1,
// §11.2), agent statuses (§11.3), report reasons (§11.4), schedule
// frequencies and the other configuration enums (§5.1), activity types
// (§9.1), datacenters (§1.1) and the audit log's action names. Pages, alerts
// and exports all read this one table, so a value is said the same way
// everywhere; the raw value stays available for a title or a details line.
//
// Lookups are case- and space-insensitive, as the API's spelling varies
// ("Completed WithErrors", "startRequested"). A value the table does not know
// is split into words ("SomethingNew" reads "Something new") rather than
// shown raw; the package test fails on any value of the contract's enum
// lists that the table does not know.
package words

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Table is one family of values and their words.
type Table struct {
	name  string
	words map[string]string // by normalised raw value
}

func newTable(name string, pairs ...string) Table {
	t := Table{name: name, words: make(map[string]string, len(pairs)/2)}
	for i := 0; i+1 < len(pairs); i += 2 {
		t.words[norm(pairs[i])] = pairs[i+1]
	}
	return t
}

// norm folds case and drops spaces, underscores and hyphens, so every
// spelling the API uses finds the same entry.
func norm(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-':
			return -1
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(s))
}

// Name is the family's name, for test messages.
func (t Table) Name() string { return t.name }

// Known reports whether the table has words for raw.
func (t Table) Known(raw string) bool {
	_, ok := t.words[norm(raw)]
	return ok
}

// Say returns raw in words: the table's entry, or raw split into words when
// the table does not know it. An empty raw value says "" (callers decide
// what absence means on their page).
func (t Table) Say(raw string) string {
	if w, ok := t.words[norm(raw)]; ok {
		return w
	}
	return Split(raw)
}

// Split turns an identifier into a phrase: "UnableToFrobnicate" reads
// "Unable to frobnicate", "alert_channel.test" reads "Alert channel test".
// Runs of capitals stay together ("VSSError" reads "VSS error").
func Split(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	rs := []rune(raw)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == '_' || r == '.' || r == '-':
			b.WriteByte(' ')
			continue
		case i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if i > 0 && !isAcronym(w) {
			words[i] = strings.ToLower(w)
		}
	}
	if len(words) > 0 && !isAcronym(words[0]) {
		r := []rune(words[0])
		r[0] = unicode.ToUpper(r[0])
		words[0] = string(r)
	}
	return strings.Join(words, " ")
}

func isAcronym(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
			return false
		}
		n++
	}
	return n > 1
}

// States is the backup states of §11.1 (including the configuration list's
// BackupState values) and the restore state names of §11.2, which share
// their spelling.
var States = newTable("state",
	"StartRequested", "Starting",
	"StartScheduled", "Starting (scheduled)",
	"Creating", "Not started yet",
	"Queued", "Queued",
	"Preparing", "Preparing",
	"InProgress", "In progress",
	"Running", "In progress",
	"StopRequested", "Stopping",
	"Completed", "Completed",
	"Finished", "Completed",
	"CompletedWithErrors", "Completed with errors",
	"Failed", "Failed",
	"Stopped", "Stopped",
	"Skipped", "Skipped",
	"Missed", "Missed",
	"Not Available", "No run yet",
)

// Outcomes says how a run ended as the end of a sentence, lower case:
// "Last run failed", "The backup 42 of nightly on web-01 was missed". It
// covers the final states of §11.1 and §11.2; Outcome says any other state
// through States.
var Outcomes = newTable("outcome",
	"Completed", "completed",
	"Finished", "completed",
	"CompletedWithErrors", "completed with errors",
	"Failed", "failed",
	"Stopped", "was stopped",
	"StoppedByUser", "was stopped",
	"Skipped", "was skipped",
	"Missed", "was missed",
)

// Reasons is the report Reason values (§11.4): why a run ended as it did.
// "Success" says nothing a person needs, so it reads as "": pages show the
// state and the errors instead.
var Reasons = newTable("reason",
	"Success", "",
	"UnableToBackup", "The agent could not complete the backup",
	"UnableToRestore", "The agent could not complete the restore",
	"UnableToProcessSomeFiles", "Some files could not be processed",
	"UnableToCleanup", "The vault cleanup failed; it will be retried",
	"StoppedByUser", "Stopped by a user",
	"PreviousRunActive", "Skipped: the previous run of this configuration was still going",
	"AgentOffline", "The agent was offline at the scheduled time",
)

// AgentStatuses is §11.3.
var AgentStatuses = newTable("agent status",
	"Online", "Online",
	"Offline", "Offline",
	"Unknown", "Status unknown",
)

// Frequencies is a configuration's Frequency (§5.1, §5.2).
var Frequencies = newTable("frequency",
	"Manually", "Only when started by hand",
	"Hourly", "Hourly",
	"Daily", "Daily",
	"Weekly", "Weekly",
	"Monthly", "Monthly",
)

// ActivityTypes is an activity item's Type (§9.1).
var ActivityTypes = newTable("activity type",
	"Backup", "Backup",
	"Restore", "Restore",
	"Cleanup", "Vault cleanup",
)

// Filters is a path item's or restore file's Filter (§5.1, §7.3).
var Filters = newTable("filter",
	"Include", "Included",
	"Exclude", "Left out",
)

// ItemTypes is a path item's or restore file's FileItemType (§5.1, §7.3).
var ItemTypes = newTable("item type",
	"File", "File",
	"Folder", "Folder",
	"Database", "Database",
)

// Datacenters is the regions of §1.1, by their codes.
var Datacenters = newTable("datacenter",
	"DFW", "Dallas (DFW)",
	"ORD", "Chicago (ORD)",
	"IAD", "Northern Virginia (IAD)",
	"LON", "London (LON)",
	"HKG", "Hong Kong (HKG)",
	"SYD", "Sydney (SYD)",
)

// AlertRules is the console's alert rules, by their stored names.
var AlertRules = newTable("alert rule",
	"backup_failed", "Backup failed",
	"overdue", "Configuration overdue",
	"agent_offline", "Agent offline",
	"growth", "Backup size jump",
)

// IncidentStatuses is where an incident stands for the people triaging it.
var IncidentStatuses = newTable("incident status",
	"open", "Open",
	"acknowledged", "Acknowledged",
	"snoozed", "Snoozed",
	"resolved", "Resolved",
)

// NoticeEvents is what an alert channel was sent, by the stored event name.
var NoticeEvents = newTable("notice",
	"alert.opened", "Alert",
	"alert.resolved", "Resolution",
	"alert.summary", "Summary",
	"test", "Test notice",
	"digest", "Digest",
)

// AuditActions is the audit log's action names, which are stored and stable.
var AuditActions = newTable("audit action",
	"auth.login", "Signed in",
	"auth.logout", "Signed out",
	"auth.sign_out_everywhere", "Signed out everywhere",
	"user.password_change", "Changed a password",
	"user.profile_update", "Updated a profile",
	"user.create", "Added a user",
	"user.role", "Changed a role",
	"user.access", "Changed a user's access",
	"user.disable", "Disabled a user",
	"user.enable", "Enabled a user",
	"user.reset_password", "Reset a password",
	"user.invite", "Invited a user",
	"user.reset_link", "Made a one-time password link",
	"user.link_used", "Set a password with a one-time link",
	"user.link_refused", "Refused a one-time link",
	"mfa.verify", "Entered a two-factor code",
	"mfa.recovery_used", "Signed in with a recovery code",
	"mfa.enrol", "Turned on two-factor sign-in",
	"mfa.recovery_regenerate", "Made new recovery codes",
	"mfa.disable", "Turned off two-factor sign-in",
	"mfa.reset", "Reset a user's two-factor sign-in",
	"mfa.require", "Changed the roles that require two-factor sign-in",
	"mfa.expired", "Refused a two-factor step that came too late",
	"auth.sso_login", "Signed in with single sign-on",
	"auth.break_glass", "Signed in with a password as a break-glass admin",
	"user.sso_create", "Added a user at their first single sign-on",
	"user.sso_link", "Linked a user to their single sign-on identity",
	"account.create", "Added a Rackspace account",
	"account.update", "Changed a Rackspace account",
	"account.delete", "Removed a Rackspace account",
	"token.create", "Created an access token",
	"token.revoke", "Revoked an access token",
	"backup.start", "Started a backup",
	"backup.stop", "Stopped a backup",
	"restore.start", "Started a restore",
	"restore.stop", "Stopped a restore",
	"agent.wake", "Woke agents",
	"agent.enable", "Enabled an agent",
	"agent.disable", "Disabled an agent",
	"agent.encrypt", "Encrypted an agent's vault",
	"agent.encryption_password", "Changed a vault passphrase",
	"agent.delete", "Deleted an agent",
	"agent.migrate_vault", "Migrated a vault",
	"configuration.create", "Created a configuration",
	"configuration.update", "Changed a configuration",
	"configuration.enable", "Enabled a configuration",
	"configuration.disable", "Disabled a configuration",
	"configuration.delete", "Deleted a configuration",
	"configuration.clone", "Cloned a configuration",
	"configuration.import", "Imported a configuration",
	"reports.sync", "Synced the reports",
	"reports.prune", "Pruned old reports",
	"db.checkpoint", "Checkpointed the database",
	"db.backup", "Downloaded a database backup",
	"alert_channel.create", "Added an alert channel",
	"alert_channel.update", "Changed an alert channel",
	"alert_channel.delete", "Removed an alert channel",
	"alert_channel.test", "Tested an alert channel",
	"alert_settings.update", "Changed the alert settings",
	"alert_settings.overdue_grace", "Changed an overdue grace",
	"alert_digest.send", "Sent the alert digest",
)

// State says a backup or restore state in words ("StoppedByUser" is a
// reason, see Reason).
func State(raw string) string { return States.Say(raw) }

// Outcome says how a run in state raw ended, for the end of a sentence
// ("failed", "was missed"); a state that is not final reads "ended "
// followed by its words, and "" reads "ended in an unknown state".
func Outcome(raw string) string {
	if w, ok := Outcomes.words[norm(raw)]; ok {
		return w
	}
	if strings.TrimSpace(raw) == "" {
		return "ended in an unknown state"
	}
	return "ended " + strings.ToLower(State(raw))
}

// Reason says a report's Reason in words; "Success" and "" read "".
func Reason(raw string) string { return Reasons.Say(raw) }

// Frequency says a configuration's frequency in words.
func Frequency(raw string) string { return Frequencies.Say(raw) }

// AuditAction says an audit action in words ("auth.login" reads "Signed in").
func AuditAction(raw string) string { return AuditActions.Say(raw) }

// Datacenter says a region code with its city ("IAD" reads "Northern
// Virginia (IAD)"); "" reads "".
func Datacenter(raw string) string { return Datacenters.Say(raw) }

// DeletedConfiguration names a configuration that neither the API nor the
// report history names any more. Every configuration is created with a name
// (§5.6), so a job or report that comes without one belongs to a
// configuration that is gone; the id stays for support.
func DeletedConfiguration(id int64) string {
	return "Deleted configuration (ID " + strconv.FormatInt(id, 10) + ")"
}

// Every says a repeat interval in words: "Hourly", "Daily", "Weekly", or
// "Every 6 hours", "Every 3 days", "Every 90 minutes".
func Every(d time.Duration) string {
	switch {
	case d <= 0:
		return "Never"
	case d == time.Hour:
		return "Hourly"
	case d == 24*time.Hour:
		return "Daily"
	case d == 7*24*time.Hour:
		return "Weekly"
	case d%(24*time.Hour) == 0:
		return "Every " + strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " days"
	case d%time.Hour == 0:
		return "Every " + strconv.FormatInt(int64(d/time.Hour), 10) + " hours"
	case d%time.Minute == 0:
		return "Every " + strconv.FormatInt(int64(d/time.Minute), 10) + " minutes"
	}
	return "Every " + d.String()
}
