package app

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRoleRules(t *testing.T) {
	got, err := ParseRoleRules("ops-admins=admin; acme-ops = creator@Acme ;\nviewers=OBSERVER;;")
	if err != nil {
		t.Fatal(err)
	}
	want := []RoleRule{{Value: "ops-admins", Role: RoleAdmin}, {Value: "acme-ops", Role: RoleCreator, Account: "Acme"}, {Value: "viewers", Role: RoleObserver}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if got[1].String() != "acme-ops=creator@Acme" {
		t.Errorf("String %q", got[1])
	}
	for in, says := range map[string]string{
		"ops":                       `entry 1 "ops": want value=role`,
		"ops=":                      `entry 1 "ops=": want value=role`,
		"=admin":                    `entry 1 "=admin"`,
		"a=observer; b=root":        `entry 2 "b=root": role "root" is not observer, creator or admin`,
		"a=creator@":                `entry 1 "a=creator@": name the account`,
		"a=admin@Acme":              "admin is global",
		"a=observer; a=creator":     `"a" is mapped twice`,
		"a=observer@X; a=creator@X": `"a" is mapped twice`,
	} {
		if _, err := ParseRoleRules(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseRoleRules(%q) = %v, want it to say %q", in, err, says)
		}
	}
}

func TestMapRoles(t *testing.T) {
	rules, err := ParseRoleRules("viewers=observer; ops=creator; acme-ops=creator@Acme; acme-view=observer@Acme; root=admin")
	if err != nil {
		t.Fatal(err)
	}
	m := MapRoles(rules, []string{"acme-view", "viewers", "acme-ops", "ops"})
	if m.Global != RoleCreator || m.Accounts["Acme"] != RoleCreator || len(m.Matched) != 4 {
		t.Errorf("mapping %+v", m)
	}
	if m := MapRoles(rules, []string{"nobody"}); !m.None() {
		t.Errorf("no match gives %+v", m)
	}
	if m := MapRoles(rules, []string{"acme-view"}); m.None() || m.Global != RoleNone {
		t.Errorf("an account-only match gives %+v", m)
	}
}

func TestClaimValues(t *testing.T) {
	claims := map[string]any{
		"groups":       []any{"a", 7, "b"},
		"role":         "ops",
		"realm_access": map[string]any{"roles": []any{"x"}},
	}
	for path, want := range map[string][]string{
		"groups": {"a", "b"}, "role": {"ops"}, "realm_access.roles": {"x"}, "realm_access.none": nil, "role.deeper": nil, "missing": nil,
	} {
		if diff := cmp.Diff(want, claimValues(claims, path)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}
