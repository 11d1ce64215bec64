package templates

import "strings"

// Tone is the colour family of a status, per UX "Status language".
type Tone string

// The tones. Each has a CSS class and an icon shape, so colour is never the
// only signal.
const (
	ToneSuccess Tone = "success" // green, check
	ToneWarning Tone = "warning" // amber, triangle
	ToneDanger  Tone = "danger"  // red, cross
	ToneNeutral Tone = "neutral" // grey, dash
	ToneInfo    Tone = "info"    // blue, spinning ring
	ToneOffline Tone = "offline" // grey, hollow circle
	ToneMuted   Tone = "muted"   // struck-through, slash
	ToneOverdue Tone = "overdue" // red outline, clock
)

// Badge is a status shown as a word plus an icon.
type Badge struct {
	Word string
	Tone Tone
}

// backupBadges maps a lower-cased backup or restore state name to its badge.
var backupBadges = map[string]Badge{
	"completed":           {"Completed", ToneSuccess},
	"completedwitherrors": {"Completed with errors", ToneWarning},
	"failed":              {"Failed", ToneDanger},
	"missed":              {"Missed", ToneDanger},
	"skipped":             {"Skipped", ToneNeutral},
	"stopped":             {"Stopped", ToneNeutral},
	"startrequested":      {"Starting", ToneInfo},
	"startscheduled":      {"Starting", ToneInfo},
	"queued":              {"Queued", ToneInfo},
	"preparing":           {"Preparing", ToneInfo},
	"inprogress":          {"In progress", ToneInfo},
	"running":             {"In progress", ToneInfo},
	"stoprequested":       {"Stopping", ToneInfo},
	"":                    {"Unknown", ToneNeutral},
}

// BackupBadge maps a backup or restore state name (as the API spells it) to
// its badge; an unknown state shows as itself, in neutral.
func BackupBadge(state string) Badge {
	if b, ok := backupBadges[strings.ToLower(state)]; ok {
		return b
	}
	return Badge{state, ToneNeutral}
}

// AgentBadge maps an agent's state to its badge: disabled wins, then the
// live status ("Online", "Offline"); anything else is "Unknown".
func AgentBadge(status string, disabled bool) Badge {
	switch {
	case disabled:
		return Badge{"Disabled", ToneMuted}
	case strings.EqualFold(status, "online"):
		return Badge{"Online", ToneSuccess}
	case strings.EqualFold(status, "offline"):
		return Badge{"Offline", ToneOffline}
	default:
		return Badge{"Unknown", ToneNeutral}
	}
}

// OverdueBadge is the badge for something late by the given words ("2 d").
func OverdueBadge(by string) Badge {
	return Badge{"Overdue by " + by, ToneOverdue}
}
