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

// BackupBadge maps a backup or restore state name (as the API spells it) to
// its badge.
func BackupBadge(state string) Badge {
	switch strings.ToLower(state) {
	case "completed":
		return Badge{"Completed", ToneSuccess}
	case "completedwitherrors":
		return Badge{"Completed with errors", ToneWarning}
	case "failed":
		return Badge{"Failed", ToneDanger}
	case "missed":
		return Badge{"Missed", ToneDanger}
	case "skipped":
		return Badge{"Skipped", ToneNeutral}
	case "stopped":
		return Badge{"Stopped", ToneNeutral}
	case "startrequested", "startscheduled":
		return Badge{"Starting", ToneInfo}
	case "queued":
		return Badge{"Queued", ToneInfo}
	case "preparing":
		return Badge{"Preparing", ToneInfo}
	case "inprogress", "running":
		return Badge{"In progress", ToneInfo}
	case "stoprequested":
		return Badge{"Stopping", ToneInfo}
	case "":
		return Badge{"Unknown", ToneNeutral}
	default:
		return Badge{state, ToneNeutral}
	}
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
