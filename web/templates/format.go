// Package templates holds the console's templ components and the view models
// they render. Components are pure: they get everything they show in a view
// model filled by the handlers, and never do I/O. The small formatting
// functions here (times, sizes, durations, counts, statuses) are shared by
// every page.
package templates

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// TimeView is a moment shown relatively ("3 h ago") with its absolute time and
// zone in a title and a machine-readable datetime, per UX "Status language".
type TimeView struct {
	Rel string // "3 h ago", "in 20 min"; "Never" for the zero time
	Abs string // "2026-11-27 09:45 UTC"
	ISO string // RFC 3339, for <time datetime>
}

// IsZero reports whether the view stands for no time at all.
func (t TimeView) IsZero() bool { return t.ISO == "" }

// NewTimeView formats t relative to now, and absolutely in loc. The zero time
// reads "Never".
func NewTimeView(t, now time.Time, loc *time.Location) TimeView {
	if t.IsZero() {
		return TimeView{Rel: "Never"}
	}
	if loc == nil {
		loc = time.UTC
	}
	return TimeView{Rel: RelTime(t, now), Abs: AbsTime(t, loc), ISO: t.UTC().Format(time.RFC3339)}
}

// AbsTime formats t in loc with its zone abbreviation: "2026-11-27 09:45 UTC".
func AbsTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// RelTime says how long ago (or how far ahead) t is from now, in the largest
// whole unit: "just now", "45 s ago", "3 min ago", "5 h ago", "2 d ago",
// "in 20 min".
func RelTime(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		s = fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%d d", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// Bytes formats a size with binary multiples and one decimal, as the API
// does: "0 bytes", "318 bytes", "35.3 MB", "2 GB".
func Bytes(n int64) string {
	if n < 0 {
		return "—"
	}
	if n < 1024 {
		if n == 1 {
			return "1 byte"
		}
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KB", "MB", "GB", "TB", "PB", "EB"}
	v := float64(n)
	i := -1
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	r := math.Round(v*10) / 10
	if r >= 1024 && i < len(units)-1 {
		r = math.Round(r/1024*10) / 10
		i++
	}
	if r == math.Trunc(r) {
		return fmt.Sprintf("%.0f %s", r, units[i])
	}
	return fmt.Sprintf("%.1f %s", r, units[i])
}

// Duration formats d in words with at most two units: "12 s", "4 min 33 s",
// "2 h 5 min", "3 d 4 h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return joinUnits(s/60, "min", s%60, "s")
	case s < 86400:
		return joinUnits(s/3600, "h", s%3600/60, "min")
	default:
		return joinUnits(s/86400, "d", s%86400/3600, "h")
	}
}

func joinUnits(a int64, ua string, b int64, ub string) string {
	if b == 0 {
		return fmt.Sprintf("%d %s", a, ua)
	}
	return fmt.Sprintf("%d %s %d %s", a, ua, b, ub)
}

// Count formats n with thousands separators: "12,345".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 && !(neg && b.Len() == 1) {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Plural returns "1 file" or "12,345 files".
func Plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}

// ActionName is the accessible name of a button whose visible text is
// generic ("Run again", "Start backup"): the visible text first, then what it
// acts on. Voice control users say what they see, so the name must contain
// the visible text (WCAG 2.5.3, label in name).
func ActionName(visible, object string) string {
	if object == "" || strings.Contains(visible, object) {
		return visible
	}
	return visible + ": " + object
}
