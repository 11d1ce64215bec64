package app

import (
	"fmt"
	"slices"
	"strings"
)

// RoleRule is one entry of the single sign-on role mapping: a person whose
// claim holds Value gets Role, everywhere (Account empty) or on the one
// Rackspace account named Account.
type RoleRule struct {
	Value   string
	Role    Role
	Account string // an account's name or id; empty: the global role
}

// String returns the entry as it is written in the mapping.
func (r RoleRule) String() string {
	s := r.Value + "=" + r.Role.String()
	if r.Account != "" {
		s += "@" + r.Account
	}
	return s
}

// ParseRoleRules parses a role mapping: entries separated by ";" (or new
// lines), each "value=role" or "value=role@account", where value is a value
// of the claim (a group name), role is observer, creator or admin, and
// account is a Rackspace account's name or id:
//
//	ops-admins=admin; acme-ops=creator@Acme; viewers=observer
//
// Admin is global: "admin@account" is refused. Empty entries are skipped;
// the error names the first bad entry by its position and text.
func ParseRoleRules(s string) ([]RoleRule, error) {
	var out []RoleRule
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' })
	n := 0
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		n++
		value, target, ok := strings.Cut(e, "=")
		value, target = strings.TrimSpace(value), strings.TrimSpace(target)
		if !ok || value == "" || target == "" {
			return nil, fmt.Errorf("entry %d %q: want value=role or value=role@account, such as ops-admins=admin", n, e)
		}
		roleName, account, perAccount := strings.Cut(target, "@")
		roleName, account = strings.TrimSpace(roleName), strings.TrimSpace(account)
		role, err := ParseRole(strings.ToLower(roleName))
		if err != nil {
			return nil, fmt.Errorf("entry %d %q: role %q is not observer, creator or admin", n, e, roleName)
		}
		if perAccount && account == "" {
			return nil, fmt.Errorf("entry %d %q: name the account after @, or leave out the @", n, e)
		}
		if perAccount && role == RoleAdmin {
			return nil, fmt.Errorf("entry %d %q: admin is global; map the value to admin without @account", n, e)
		}
		r := RoleRule{Value: value, Role: role, Account: account}
		if slices.ContainsFunc(out, func(o RoleRule) bool { return o.Value == r.Value && o.Account == r.Account }) {
			return nil, fmt.Errorf("entry %d %q: %q is mapped twice", n, e, value)
		}
		out = append(out, r)
	}
	return out, nil
}

// RoleMapping is what a person's claim values map to: the highest global
// role of every matching entry, and the highest role per account.
type RoleMapping struct {
	Global   Role
	Accounts map[string]Role // account name or id as written → role
	Matched  []string        // the matching entries, for the audit log
}

// MapRoles applies the rules to a person's claim values.
func MapRoles(rules []RoleRule, values []string) RoleMapping {
	m := RoleMapping{}
	for _, r := range rules {
		if !slices.Contains(values, r.Value) {
			continue
		}
		m.Matched = append(m.Matched, r.String())
		if r.Account == "" {
			m.Global = max(m.Global, r.Role)
			continue
		}
		if m.Accounts == nil {
			m.Accounts = map[string]Role{}
		}
		m.Accounts[r.Account] = max(m.Accounts[r.Account], r.Role)
	}
	return m
}

// None reports whether the mapping gives no access at all.
func (m RoleMapping) None() bool { return m.Global == RoleNone && len(m.Accounts) == 0 }
