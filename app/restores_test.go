package app

import (
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

func TestRestorePlanRoundTrip(t *testing.T) {
	t.Parallel()
	p := RestorePlan{
		ConfigurationID: 7, BackupID: 9, DestinationID: 11, PathMode: PathOther, Path: `C:\Restore "x"`,
		Overwrite: true, Include: []string{"/var/www/", "/etc/hosts"}, Exclude: []string{"/var/www/cache/"},
	}
	if d := cmp.Diff(p, ParseRestorePlan(p.Values())); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	// The original location is the default and is left out of URLs.
	o := RestorePlan{ConfigurationID: 7, PathMode: PathOriginal}
	if got := o.Values().Encode(); got != "configuration=7" {
		t.Errorf("values %q", got)
	}
	if d := cmp.Diff(o, ParseRestorePlan(o.Values())); d != "" {
		t.Errorf("default round trip (-want +got):\n%s", d)
	}
}

func TestParseRestorePlanGarbage(t *testing.T) {
	t.Parallel()
	q := url.Values{"configuration": {"abc"}, "backup": {"-4"}, "destination": {"1e9"}, "path_mode": {"elsewhere"},
		"overwrite": {"yes"}, "include": {"\n  \n/a\n\n"}}
	want := RestorePlan{PathMode: PathOriginal, Include: []string{"/a"}}
	if d := cmp.Diff(want, ParseRestorePlan(q)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestDestinationPath(t *testing.T) {
	t.Parallel()
	linux := rcbu.Agent{OperatingSystem: "Ubuntu"}
	win := rcbu.Agent{OperatingSystem: "Windows Server 2019"}
	tests := []struct {
		p     RestorePlan
		agent rcbu.Agent
		want  string
	}{
		{RestorePlan{PathMode: PathOriginal}, linux, "/"},
		{RestorePlan{PathMode: PathOriginal}, win, `C:\`},
		{RestorePlan{PathMode: PathOther, Path: "/srv/restore"}, linux, "/srv/restore"},
	}
	for _, tt := range tests {
		if got := tt.p.DestinationPath(tt.agent); got != tt.want {
			t.Errorf("%+v on %s: %q, want %q", tt.p, tt.agent.OperatingSystem, got, tt.want)
		}
	}
}

func TestRestoreItemType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, path string
		typ      rcbu.RestoreItemType
	}{
		{"/var/www/", "/var/www", rcbu.RestoreItemFolder},
		{`D:\Shares\`, `D:\Shares`, rcbu.RestoreItemFolder},
		{"/etc/hosts", "/etc/hosts", rcbu.RestoreItemFile},
		{"/", "/", rcbu.RestoreItemFolder},
		{`C:\`, `C:\`, rcbu.RestoreItemFolder},
	}
	for _, tt := range tests {
		p, typ := itemType(tt.in)
		if p != tt.path || typ != tt.typ {
			t.Errorf("itemType(%q) = %q, %v; want %q, %v", tt.in, p, typ, tt.path, tt.typ)
		}
	}
}

func TestWizardErrorUnwraps(t *testing.T) {
	t.Parallel()
	err := stepInvalid(StepDestination, "path", "Enter a path.")
	var we *WizardError
	var ve *ValidationError
	if !errors.As(err, &we) || we.Step != StepDestination || !errors.As(err, &ve) || ve.Fields["path"] == "" || !errors.Is(err, ErrInvalid) {
		t.Errorf("WizardError chain broken: %v", err)
	}
}
