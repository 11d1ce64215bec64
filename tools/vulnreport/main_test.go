package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	cfgMsg    = `{"config":{"scanner_version":"v1.9.0","go_version":"go1.26.8","db":"file:///db"}}`
	osvStd    = `{"osv":{"id":"GO-1","summary":"net/http bug","aliases":["CVE-1"]}}`
	osvMod    = `{"osv":{"id":"GO-2","summary":"module bug"}}`
	stdModule = `{"finding":{"osv":"GO-1","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8"}]}}`
	stdCalled = `{"finding":{"osv":"GO-1","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"ReadRequest"},{"module":"example.com/us","package":"example.com/us/web","function":"Serve","position":{"filename":"web/serve.go","line":12}}]}}`
	modImport = `{"finding":{"osv":"GO-2","fixed_version":"v1.2.0","trace":[{"module":"example.com/dep","version":"v1.1.0","package":"example.com/dep"}]}}`
	modCalled = `{"finding":{"osv":"GO-2","fixed_version":"v1.2.0","trace":[{"module":"example.com/dep","version":"v1.1.0","package":"example.com/dep","function":"Parse","receiver":"*Parser"}]}}`
)

func TestPolicy(t *testing.T) {
	acceptFile := filepath.Join(t.TempDir(), "accepted.txt")
	if err := os.WriteFile(acceptFile, []byte("# reviewed\nGO-2 we never parse untrusted input\n\nGO-9 gone since # old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		stream   []string
		wantCode int
		wantOut  []string
	}{
		{"clean scan passes", nil, []string{cfgMsg}, 0, []string{"0 called in modules we require, 0 called in the standard library, 0 accepted, 0 more"}},
		{"only imported vulnerabilities pass and are counted", nil, []string{cfgMsg, osvMod, modImport}, 0, []string{"1 more imported or required but not called"}},
		{"called module vulnerability fails", nil, []string{cfgMsg, osvMod, modImport, modCalled}, 1,
			[]string{"GO-2: module bug", "example.com/dep@v1.1.0, fixed in v1.2.0", "example.com/dep.Parser.Parse", "FAIL: upgrade"}},
		{"called stdlib vulnerability warns by default", nil, []string{cfgMsg, osvStd, stdModule, stdCalled}, 0,
			[]string{"GO-1: net/http bug (CVE-1)", "stdlib@v1.26.8, fixed in v1.26.9", "example.com/us/web.Serve (web/serve.go:12) → net/http.ReadRequest", "WARNING: go1.26.8"}},
		{"called stdlib vulnerability fails when asked", []string{"-stdlib=fail"}, []string{cfgMsg, osvStd, stdCalled}, 1, []string{"FAIL: build with a Go toolchain"}},
		{"accepted module vulnerability passes with its reason", []string{"-accept", acceptFile}, []string{cfgMsg, osvMod, modCalled}, 0,
			[]string{"GO-2: module bug\n  accepted: we never parse untrusted input", "1 accepted", "note: GO-9 is accepted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := run(tt.args, strings.NewReader(strings.Join(tt.stream, "\n")), &out)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s", code, tt.wantCode, out.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		args  []string
		input string
	}{
		"no scan output":      {nil, ""},
		"not json":            {nil, "govulncheck: loading packages: errors"},
		"bad stdlib value":    {[]string{"-stdlib=ignore"}, cfgMsg},
		"missing accept file": {[]string{"-accept", "/nonexistent/accepted.txt"}, cfgMsg},
	} {
		t.Run(name, func(t *testing.T) {
			code, err := run(tc.args, strings.NewReader(tc.input), &bytes.Buffer{})
			if err == nil || code != 2 {
				t.Errorf("code %d, err %v; want 2 and an error", code, err)
			}
		})
	}
}

func TestAcceptedNeedsReason(t *testing.T) {
	if _, err := parseAccepted("GO-1\n"); err == nil {
		t.Error("an id without a reason was accepted")
	}
}
