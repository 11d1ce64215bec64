package app

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// JobState is the activity page's state filter.
type JobState string

// The job states the activity page filters by.
const (
	JobAny        JobState = ""
	JobRunning    JobState = "running"   // queued or running
	JobFailed     JobState = "failed"    // Failed or Missed: what "Failed in 24 h" counts
	JobWarning    JobState = "warning"   // CompletedWithErrors or Skipped
	JobCompleted  JobState = "completed" // Completed
	JobOtherEnded JobState = "stopped"   // stopped by a user, or another end
)

// JobStates lists the state filter's values.
func JobStates() []JobState {
	return []JobState{JobRunning, JobFailed, JobWarning, JobCompleted, JobOtherEnded}
}

// JobSince is the activity page's time window.
type JobSince string

// The windows the activity page offers.
const (
	SinceAny JobSince = ""
	Since24h JobSince = "24h"
	Since7d  JobSince = "7d"
	Since30d JobSince = "30d"
)

// JobSinces lists the window filter's values.
func JobSinces() []JobSince { return []JobSince{Since24h, Since7d, Since30d} }

// Duration is how far back the window reaches (0: no bound).
func (s JobSince) Duration() time.Duration {
	switch s {
	case Since24h:
		return 24 * time.Hour
	case Since7d:
		return 7 * 24 * time.Hour
	case Since30d:
		return 30 * 24 * time.Hour
	default:
		return 0
	}
}

// JobFilter selects the jobs of the activity page.
type JobFilter struct {
	State JobState
	Since JobSince
	Page  int // 1-based, of the finished jobs
}

// ParseJobFilter reads the activity page's query. A value that is not
// understood is dropped, with a note in words; a page that does not parse
// is the first.
func ParseJobFilter(q url.Values) (JobFilter, []string) {
	var f JobFilter
	var notes []string
	switch st := JobState(strings.ToLower(strings.TrimSpace(q.Get("state")))); {
	case st == JobAny:
	case contains(JobStates(), st):
		f.State = st
	default:
		notes = append(notes, fmt.Sprintf("The state filter %.40q was not understood and is ignored.", string(st)))
	}
	switch s := JobSince(strings.ToLower(strings.TrimSpace(q.Get("since")))); {
	case s == SinceAny:
	case contains(JobSinces(), s):
		f.Since = s
	default:
		notes = append(notes, fmt.Sprintf("The time filter %.40q was not understood and is ignored.", string(s)))
	}
	f.Page = parsePage(q.Get("page"))
	return f, notes
}

// parsePage reads a 1-based page number; anything else is the first page.
func parsePage(s string) int {
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d", &n); err != nil || n < 1 || fmt.Sprint(n) != strings.TrimSpace(s) {
		return 1
	}
	return n
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// finishedState classifies a finished job for the state filter.
func finishedState(a rcbu.Activity) JobState {
	switch strings.ToLower(strings.ReplaceAll(a.CurrentState, " ", "")) {
	case "failed", "missed":
		return JobFailed
	case "completedwitherrors", "skipped":
		return JobWarning
	case "completed":
		return JobCompleted
	default:
		return JobOtherEnded
	}
}

// Matches reports whether a finished job passes the filter at now.
func (f JobFilter) Matches(a rcbu.Activity, now time.Time) bool {
	if f.State == JobRunning {
		return false
	}
	if f.State != JobAny && finishedState(a) != f.State {
		return false
	}
	if d := f.Since.Duration(); d > 0 && (!a.TimeOfActivity.Valid() || now.Sub(a.TimeOfActivity.Time) > d) {
		return false
	}
	return true
}

// ShowsRunning reports whether the running jobs are part of the selection.
func (f JobFilter) ShowsRunning() bool { return f.State == JobAny || f.State == JobRunning }

// ShowsFinished reports whether finished jobs are part of the selection.
func (f JobFilter) ShowsFinished() bool { return f.State != JobRunning }

// FilterFinished returns the finished jobs that pass f, in their order.
func FilterFinished(list []FleetActivity, f JobFilter, now time.Time) []FleetActivity {
	var out []FleetActivity
	for _, a := range list {
		if f.Matches(a.Activity, now) {
			out = append(out, a)
		}
	}
	return out
}
