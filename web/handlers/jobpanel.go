package handlers

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
	"github.com/rcbu-console/rcbu-console/words"
)

// The steps of the timeline, in order (§11.1, §11.2 "Typical order").
const (
	stepRequested = iota
	stepQueued
	stepPreparing
	stepInProgress
	stepFinal
)

var stepLabels = [...]string{"Requested", "Queued", "Preparing", "In progress", "Finished"}

// stepOf places a state on the timeline; -1 for a state it does not know.
func stepOf(state string) int {
	switch strings.ToLower(strings.ReplaceAll(state, " ", "")) {
	case "startrequested", "startscheduled", "creating":
		return stepRequested
	case "queued":
		return stepQueued
	case "preparing":
		return stepPreparing
	case "inprogress", "running", "stoprequested":
		return stepInProgress
	case "completed", "completedwitherrors", "failed", "stopped", "skipped", "missed", "finished":
		return stepFinal
	}
	return -1
}

// jobTimeline lays a job's states out as requested → queued → preparing →
// in progress → final. Steps the console saw carry the time it first saw
// them; the request falls back to the start time; the final step carries
// the end. A run that never ran (missed, skipped) shows the steps before
// the end as not reached.
func jobTimeline(trail []app.StateSeen, state string, started, ended, now time.Time, loc *time.Location) []templates.TimelineStep {
	cur := stepOf(state)
	if cur < 0 {
		return nil
	}
	seen := map[int]time.Time{}
	for _, s := range trail {
		if i := stepOf(s.State); i >= 0 {
			if _, ok := seen[i]; !ok {
				seen[i] = s.At
			}
		}
	}
	if _, ok := seen[stepRequested]; !ok && !started.IsZero() {
		seen[stepRequested] = started
	}
	if cur == stepFinal && !ended.IsZero() {
		// Cloud Backup's clock may run ahead of ours: an end is never
		// shown in the future.
		if ended.After(now) {
			ended = now
		}
		seen[stepFinal] = ended
	}
	norm := strings.ToLower(strings.ReplaceAll(state, " ", ""))
	neverRan := norm == "missed" || norm == "skipped"
	out := make([]templates.TimelineStep, 0, len(stepLabels))
	for i, label := range stepLabels {
		st := templates.TimelineStep{Label: label}
		if t, ok := seen[i]; ok && !t.IsZero() {
			st.Time = templates.NewTimeView(t, now, loc)
		}
		switch {
		case i == stepFinal && cur == stepFinal:
			b := templates.BackupBadge(state)
			st.Label, st.Status = b.Word, string(b.Tone)
		case i < cur && neverRan:
			if _, ok := seen[i]; ok {
				st.Status = "done"
			} else {
				st.Status = "skipped"
			}
		case i < cur:
			st.Status = "done"
		case i == cur:
			st.Status = "current"
			if norm == "stoprequested" {
				st.Label = "Stopping"
			}
		default:
			st.Status = "next"
		}
		out = append(out, st)
	}
	return out
}

// shownElapsed rounds a running job's elapsed time to what the panel shows:
// 10 s steps in the first minute, whole minutes after. The panel changes
// (and is swapped and announced) only when the shown value changes.
func shownElapsed(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Truncate(10 * time.Second)
	}
	return d.Truncate(time.Minute)
}

// about says a typical duration loosely: "under a minute", "about 4 min",
// "about 1 h 20 min".
func about(d time.Duration) string {
	if d < time.Minute {
		return "under a minute"
	}
	return "about " + templates.Duration(d.Round(time.Minute))
}

// jobEstimate reads a running job's estimate, or says why there is none.
func (s *server) jobEstimate(c echo.Context, account app.AccountID, kind app.ReportKind, config rcbu.ConfigurationID, elapsed time.Duration) (*templates.EstimateView, string) {
	e, err := s.History.Estimate(c.Request().Context(), []app.AccountID{account}, kind, config)
	if err != nil {
		return nil, "No estimate: the history could not be read."
	}
	return estimateView(e, kind, elapsed)
}

// estimateView turns a configuration's history into the panel's estimate:
// a bar from the elapsed time against the median duration (held at 99 %
// while the job runs, since the median is not a promise), or why there is
// no estimate. elapsed < 0 means the start is unknown: the label without a
// bar.
func estimateView(e app.Estimate, kind app.ReportKind, elapsed time.Duration) (*templates.EstimateView, string) {
	if e.Runs == 0 || e.Duration <= 0 {
		if kind == app.KindRestore {
			return nil, "No estimate yet: no earlier restore from this configuration has finished."
		}
		return nil, "No estimate yet: this configuration has no finished backup in the history to go by."
	}
	basis := "the last run"
	if e.Runs > 1 {
		basis = "the median of the last " + strconv.Itoa(e.Runs) + " runs"
	}
	size := ""
	if e.Bytes > 0 {
		size = ", " + templates.Bytes(e.Bytes)
	}
	v := &templates.EstimateView{Percent: -1, Label: "usually " + about(e.Duration) + size + " (" + basis + ")"}
	if elapsed >= 0 {
		pct := int(elapsed * 100 / e.Duration)
		if pct >= 100 {
			v.Over = true
			v.Label = "taking longer than usual; usually " + about(e.Duration) + size + " (" + basis + ")"
		}
		v.Percent = min(max(pct, 0), 99)
		v.Percent -= v.Percent % 5
	}
	return v, ""
}

// jobVersion fingerprints what a panel shows, so a poll that would show
// the same answers 204 (htmx leaves the panel, and the screen reader, alone).
// "b" or "d" first says whether the panel polled while busy.
func jobVersion(v templates.JobPanelView) string {
	v.StatusURL, v.Message, v.MessageKind = "", "", ""
	v.Since.Rel = ""
	for i := range v.Timeline {
		v.Timeline[i].Time.Rel = ""
	}
	h := fnv.New64a()
	// JSON follows the pointers (estimate, summary), where %v would print
	// their addresses.
	b, _ := json.Marshal(v) // plain data: strings, numbers, slices
	h.Write(b)
	prefix := "d"
	if v.Busy {
		prefix = "b"
	}
	return prefix + strconv.FormatUint(h.Sum64(), 36)
}

// withVersion sets the poll URL to carry the panel's version.
func withVersion(v *templates.JobPanelView, base string) {
	if base == "" {
		return
	}
	tl := v.Timeline
	v.Timeline = append([]templates.TimelineStep(nil), tl...)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	v.StatusURL = base + sep + "v=" + jobVersion(*v)
	v.Timeline = tl
}

// answerPoll renders a polled panel fragment: 204 when the poller already
// shows this version, and the running-changed event when the job it showed
// as busy has ended, so the overview's and the agent's Running indicators
// follow.
func answerPoll(c echo.Context, v templates.JobPanelView) error {
	had := c.QueryParam("v")
	now := jobVersion(v)
	if had != "" && had == now && isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	if strings.HasPrefix(had, "b") && !v.Busy {
		c.Response().Header().Set("HX-Trigger", "running-changed")
	}
	return render(c, http.StatusOK, templates.JobPanelBody(v))
}

// reportSummary is a finished job's report as the panel sums it up: files
// says what became of the files ("3 files restored"), and the first three
// errors are listed, "path: what".
func reportSummary(kind app.ReportKind, ok bool, state string, took time.Duration, files string, bytes, numErrors int64, reason string, errs []rcbu.ReportError) *templates.JobSummaryView {
	sum := &templates.JobSummaryView{OK: ok, Final: finalWords(kind, state), Duration: templates.Duration(took), Files: files,
		Bytes: templates.Bytes(bytes), Errors: "No errors"}
	if numErrors > 0 {
		sum.Errors = templates.Plural(numErrors, "error", "errors")
	}
	if !ok {
		sum.Reason = words.Reason(reason)
	}
	for i, e := range errs {
		if i == 3 {
			sum.MoreErrors = "… and " + templates.Count(int64(len(errs)-3)) + " more in the full report"
			break
		}
		sum.FirstErrors = append(sum.FirstErrors, e.Path+": "+e.ErrorDesc)
	}
	return sum
}

// finalWords says how a run ended as a sentence, for the summary.
func finalWords(kind app.ReportKind, state string) string {
	what := "The backup"
	if kind == app.KindRestore {
		what = "The restore"
	}
	switch strings.ToLower(strings.ReplaceAll(state, " ", "")) {
	case "completed", "finished":
		return what + " completed."
	case "completedwitherrors":
		return what + " completed, but some files had errors."
	case "failed":
		return what + " failed."
	case "stopped":
		return what + " was stopped."
	case "skipped":
		return what + " was skipped."
	case "missed":
		return what + " was missed."
	}
	return what + " ended: " + strings.ToLower(words.State(state)) + "."
}
