package words_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/words"
)

// contract is the repository's copy of the API contract.
func contract(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/rcbu-api.md")
	if err != nil {
		t.Fatalf("read the contract: %v", err)
	}
	return string(b)
}

// section returns the body of the section whose heading starts with head,
// up to the next heading.
func section(t *testing.T, doc, head string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+head)
	if i < 0 {
		t.Fatalf("the contract has no section %q", head)
	}
	body := doc[i+1:]
	body = body[strings.IndexByte(body, '\n')+1:]
	if j := regexp.MustCompile(`(?m)^#{2,3} `).FindStringIndex(body); j != nil {
		body = body[:j[0]]
	}
	return body
}

// row returns the table row of a section that describes field.
func row(t *testing.T, sec, field string) string {
	t.Helper()
	for l := range strings.SplitSeq(sec, "\n") {
		if strings.HasPrefix(l, "| `"+field+"`") {
			return strings.TrimPrefix(l, "| `"+field+"`")
		}
	}
	t.Fatalf("no table row for %s", field)
	return ""
}

var tick = regexp.MustCompile("`([^`]+)`")

// values returns the backticked words of s that look like enum values:
// letters and spaces ("InProgress", "Not Available", "startRequested").
func values(s string, skip ...string) []string {
	enum := regexp.MustCompile(`^[A-Za-z][A-Za-z ]*$`)
	var out []string
	for _, m := range tick.FindAllStringSubmatch(s, -1) {
		v := strings.Trim(m[1], `"`)
		if !enum.MatchString(v) || strings.HasPrefix(v, "py") {
			continue
		}
		skipped := false
		for _, k := range skip {
			skipped = skipped || v == k
		}
		if !skipped {
			out = append(out, v)
		}
	}
	return out
}

// listed returns the comma-separated names in the parentheses of s:
// "final state (Completed, Failed, …)".
func listed(s string) []string {
	m := regexp.MustCompile(`\(([^)]*)\)`).FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	var out []string
	for v := range strings.SplitSeq(m[1], ",") {
		if v = strings.TrimSpace(v); v != "" && v != "…" {
			out = append(out, v)
		}
	}
	return out
}

// tableNames returns the first word of a table column, for tables that list
// names without backticks (§11.2).
func tableNames(sec string, col int) []string {
	var out []string
	for l := range strings.SplitSeq(sec, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) <= col+1 || !strings.HasPrefix(l, "| ") {
			continue
		}
		f := strings.Fields(cells[col+1])
		if len(f) == 0 || !regexp.MustCompile(`^[A-Z][A-Za-z]+$`).MatchString(f[0]) || f[0] == "Name" {
			continue
		}
		out = append(out, f[0])
	}
	return out
}

// TestEveryContractValueHasWords walks the enum lists of the contract and
// fails on any value that a page, an alert or an export would have to show
// raw.
func TestEveryContractValueHasWords(t *testing.T) {
	doc := contract(t)
	// Field names mentioned beside the values.
	fields := []string{"CurrentState", "BackupState", "State", "RestoreStateId", "Reason", "Diagnostics", "NumErrors", "MissedBackupActionId"}
	s111 := section(t, doc, "### 11.1")
	s112 := section(t, doc, "### 11.2")
	s51 := section(t, doc, "### 5.1")
	cases := []struct {
		name   string
		table  words.Table
		values []string
	}{
		{"§11.1 backup states", words.States, values(s111, fields...)},
		{"§11.2 restore states", words.States, append(tableNames(s112, 1), values(s112, fields...)...)},
		{"§11.3 agent statuses", words.AgentStatuses, values(section(t, doc, "### 11.3"))},
		{"§11.4 report reasons", words.Reasons, values(section(t, doc, "### 11.4"), append(fields, "CompletedWithErrors")...)},
		{"§6.4 final states", words.States, listed(row(t, section(t, doc, "### 6.4"), "State"))},
		{"§5.1 frequencies", words.Frequencies, values(row(t, s51, "Frequency"))},
		{"§5.1 configuration backup states", words.States, values(row(t, s51, "BackupState"))},
		{"§5.1 filters", words.Filters, values(row(t, s51, "Filter"))},
		{"§5.1 item types", words.ItemTypes, values(row(t, s51, "FileItemType"))},
		{"§9.1 activity types", words.ActivityTypes, values(row(t, section(t, doc, "### 9.1"), "Type"))},
		{"§3 datacenters", words.Datacenters, values(row(t, section(t, doc, "## 3."), "Datacenter"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.values) < 2 {
				t.Fatalf("found %d values (%q): the contract's list moved, update the walk", len(c.values), c.values)
			}
			for _, v := range c.values {
				if !c.table.Known(v) {
					t.Errorf("%s %q has no words", c.table.Name(), v)
				}
			}
		})
	}
}

func TestSay(t *testing.T) {
	for _, c := range []struct {
		table words.Table
		raw   string
		want  string
	}{
		{words.States, "CompletedWithErrors", "Completed with errors"},
		{words.States, "Completed WithErrors", "Completed with errors"},
		{words.States, "startRequested", "Starting"},
		{words.States, "Not Available", "No run yet"},
		{words.Reasons, "StoppedByUser", "Stopped by a user"},
		{words.Reasons, "Success", ""},
		{words.Reasons, "UnableToFrobnicate", "Unable to frobnicate"},
		{words.Reasons, "VSSWriterTimeout", "VSS writer timeout"},
		{words.AuditActions, "auth.login", "Signed in"},
		{words.AuditActions, "widget.self_destruct", "Widget self destruct"},
		{words.Datacenters, "iad", "Northern Virginia (IAD)"},
		{words.States, "", ""},
	} {
		if got := c.table.Say(c.raw); got != c.want {
			t.Errorf("%s %q: got %q, want %q", c.table.Name(), c.raw, got, c.want)
		}
	}
}

// TestEveryFinalStateHasAnOutcome: each final state of the contract reads
// as the end of a sentence from the one table.
func TestEveryFinalStateHasAnOutcome(t *testing.T) {
	doc := contract(t)
	final := listed(row(t, section(t, doc, "### 6.4"), "State"))
	if len(final) < 2 {
		t.Fatalf("found %d final states (%q): the contract's list moved", len(final), final)
	}
	for _, st := range append(final, "Missed", "Skipped") {
		if !words.Outcomes.Known(st) {
			t.Errorf("final state %q has no outcome words", st)
		}
	}
	for raw, want := range map[string]string{
		"Failed": "failed", "Completed WithErrors": "completed with errors", "Missed": "was missed",
		"Stopped": "was stopped", "InProgress": "ended in progress", "": "ended in an unknown state",
	} {
		if got := words.Outcome(raw); got != want {
			t.Errorf("Outcome(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestEvery(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "Hourly", 24 * time.Hour: "Daily", 7 * 24 * time.Hour: "Weekly",
		6 * time.Hour: "Every 6 hours", 72 * time.Hour: "Every 3 days", 90 * time.Minute: "Every 90 minutes", 0: "Never",
	} {
		if got := words.Every(d); got != want {
			t.Errorf("Every(%v) = %q, want %q", d, got, want)
		}
	}
}
