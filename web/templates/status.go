package templates

import (
	"strings"

	"github.com/rcbu-console/rcbu-console/words"
)

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
	// Raw is the API's own value, shown on hover for support ("" when the
	// badge is not an API value).
	Raw string
}

// backupTones maps a normalised backup or restore state name to its tone;
// the words come from the words table.
var backupTones = map[string]Tone{
	"completed":           ToneSuccess,
	"finished":            ToneSuccess,
	"completedwitherrors": ToneWarning,
	"failed":              ToneDanger,
	"missed":              ToneDanger,
	"skipped":             ToneNeutral,
	"stopped":             ToneNeutral,
	"creating":            ToneNeutral,
	"startrequested":      ToneInfo,
	"startscheduled":      ToneInfo,
	"queued":              ToneInfo,
	"preparing":           ToneInfo,
	"inprogress":          ToneInfo,
	"running":             ToneInfo,
	"stoprequested":       ToneInfo,
}

// BackupBadge maps a backup or restore state name (as the API spells it) to
// its badge: the words of the words table, the raw name kept for a title.
// An unknown state reads as its name split into words, in neutral.
func BackupBadge(state string) Badge {
	if strings.TrimSpace(state) == "" {
		return Badge{Word: "Unknown", Tone: ToneNeutral}
	}
	tone, ok := backupTones[strings.ToLower(strings.ReplaceAll(state, " ", ""))]
	if !ok {
		tone = ToneNeutral
	}
	return Badge{Word: words.State(state), Tone: tone, Raw: state}
}

// AgentBadge maps an agent's state to its badge: disabled wins, then the
// live status ("Online", "Offline"); anything else is "Unknown".
func AgentBadge(status string, disabled bool) Badge {
	switch {
	case disabled:
		return Badge{Word: "Disabled", Tone: ToneMuted}
	case strings.EqualFold(status, "online"):
		return Badge{Word: "Online", Tone: ToneSuccess}
	case strings.EqualFold(status, "offline"):
		return Badge{Word: "Offline", Tone: ToneOffline}
	default:
		return Badge{Word: "Unknown", Tone: ToneNeutral}
	}
}

// OverdueBadge is the badge for something late by the given words ("2 d").
func OverdueBadge(by string) Badge {
	return Badge{Word: "Overdue by " + by, Tone: ToneOverdue}
}
