// Command vulnreport reads `govulncheck -format json` on stdin, prints the
// vulnerabilities our code actually calls, and sets the exit status by a
// policy: a called vulnerability in a module we require fails (exit 1); one
// in the Go standard library fails only with -stdlib=fail, because its fix
// is a newer Go toolchain, which the machine provides, not go.mod. Findings
// that are only imported or required, not called, are counted, not shown.
//
// -accept names a file of vulnerabilities reviewed and accepted, one per
// line: the OSV id, then the reason (# starts a comment). An accepted
// finding is printed with its reason and does not fail; an accepted id the
// scan no longer finds is reported so that the line can go.
//
//	go tool govulncheck -db file://$DB -format json ./... | go run ./tools/vulnreport
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

func main() {
	code, err := run(os.Args[1:], os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnreport:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// message is one JSON value of govulncheck's output stream (protocol v1).
type message struct {
	Config *struct {
		ScannerVersion string `json:"scanner_version"`
		GoVersion      string `json:"go_version"`
		DB             string `json:"db"`
	} `json:"config"`
	OSV *struct {
		ID      string   `json:"id"`
		Summary string   `json:"summary"`
		Aliases []string `json:"aliases"`
	} `json:"osv"`
	Finding *finding `json:"finding"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

// vuln is one vulnerability our code calls, with an example call path.
type vuln struct {
	id, summary, module, found, fixed string
	example                           []frame
}

// report is what one govulncheck run found.
type report struct {
	goVersion string
	called    []vuln         // symbol-level findings, one per OSV id
	uncalled  map[string]int // OSV id → 1, for package- or module-level only
}

// parse reads the JSON stream.
func parse(r io.Reader) (report, error) {
	rep := report{uncalled: map[string]int{}}
	summaries := map[string]string{}
	called := map[string]*vuln{}
	dec := json.NewDecoder(r)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return report{}, fmt.Errorf("decode govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			rep.goVersion = m.Config.GoVersion
		case m.OSV != nil:
			s := m.OSV.Summary
			if len(m.OSV.Aliases) > 0 {
				s += " (" + strings.Join(m.OSV.Aliases, ", ") + ")"
			}
			summaries[m.OSV.ID] = s
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			if f.Trace[0].Function == "" {
				rep.uncalled[f.OSV] = 1
				continue
			}
			delete(rep.uncalled, f.OSV)
			if _, seen := called[f.OSV]; !seen {
				called[f.OSV] = &vuln{id: f.OSV, module: f.Trace[0].Module, found: f.Trace[0].Version, fixed: f.FixedVersion, example: f.Trace}
			}
		}
	}
	for id, v := range called {
		delete(rep.uncalled, id)
		v.summary = summaries[id]
		rep.called = append(rep.called, *v)
	}
	slices.SortFunc(rep.called, func(a, b vuln) int { return strings.Compare(a.id, b.id) })
	return rep, nil
}

func run(args []string, stdin io.Reader, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("vulnreport", flag.ContinueOnError)
	stdlib := fs.String("stdlib", "warn", "what a called standard-library vulnerability does: warn or fail")
	acceptFile := fs.String("accept", "", "file of accepted vulnerabilities: `OSV-id reason` per line")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	accepted := map[string]string{}
	if *acceptFile != "" {
		b, err := os.ReadFile(*acceptFile)
		if err != nil {
			return 2, fmt.Errorf("-accept: %w", err)
		}
		if accepted, err = parseAccepted(string(b)); err != nil {
			return 2, fmt.Errorf("-accept %s: %w", *acceptFile, err)
		}
	}
	if *stdlib != "warn" && *stdlib != "fail" {
		return 2, fmt.Errorf("-stdlib: want warn or fail, got %q", *stdlib)
	}
	rep, err := parse(stdin)
	if err != nil {
		return 2, err
	}
	if rep.goVersion == "" {
		return 2, errors.New("no govulncheck config message: did the scan run?")
	}
	var modFails, stdFails, acceptedN int
	for _, v := range rep.called {
		kind := "module"
		if reason, ok := accepted[v.id]; ok {
			fmt.Fprintf(stdout, "%s: %s\n  accepted: %s\n", v.id, v.summary, reason)
			delete(accepted, v.id)
			acceptedN++
			continue
		}
		if v.module == "stdlib" {
			kind = "Go standard library"
			stdFails++
		} else {
			modFails++
		}
		fmt.Fprintf(stdout, "%s: %s\n  %s %s@%s, fixed in %s\n  called from: %s\n",
			v.id, v.summary, kind, v.module, v.found, orNone(v.fixed), callPath(v.example))
	}
	for id := range accepted {
		fmt.Fprintf(stdout, "note: %s is accepted in %s but no longer called: remove its line\n", id, *acceptFile)
	}
	fmt.Fprintf(stdout, "govulncheck (%s): %d called in modules we require, %d called in the standard library, %d accepted, %d more imported or required but not called\n",
		rep.goVersion, modFails, stdFails, acceptedN, len(rep.uncalled))
	switch {
	case modFails > 0:
		fmt.Fprintln(stdout, "FAIL: upgrade the modules above with `go get module@fixed-version`")
		return 1, nil
	case stdFails > 0 && *stdlib == "fail":
		fmt.Fprintln(stdout, "FAIL: build with a Go toolchain that has the fixes")
		return 1, nil
	case stdFails > 0:
		fmt.Fprintf(stdout, "WARNING: %s has called standard-library vulnerabilities: build releases with a Go toolchain that has the fixes (-stdlib=fail makes this an error)\n", rep.goVersion)
	}
	return 0, nil
}

// parseAccepted reads `ID reason...` lines; blank lines and # comments are
// skipped. Every id needs a reason.
func parseAccepted(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if reason = strings.TrimSpace(reason); reason == "" {
			return nil, fmt.Errorf("line %d: %s has no reason", i+1, id)
		}
		out[id] = reason
	}
	return out, nil
}

func orNone(s string) string {
	if s == "" {
		return "no release yet"
	}
	return s
}

// callPath renders a trace, our code first (govulncheck lists the
// vulnerable symbol first).
func callPath(tr []frame) string {
	parts := make([]string, 0, len(tr))
	for i := len(tr) - 1; i >= 0; i-- {
		f := tr[i]
		name := f.Package + "." + f.Function
		if f.Receiver != "" {
			name = f.Package + "." + strings.TrimPrefix(f.Receiver, "*") + "." + f.Function
		}
		if f.Position != nil && f.Position.Filename != "" {
			name += fmt.Sprintf(" (%s:%d)", f.Position.Filename, f.Position.Line)
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, " → ")
}
