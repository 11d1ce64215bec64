package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ActionUserAccess is the audit action of a change to what a user may see
// and do (SetAccess).
const ActionUserAccess AuditAction = "user.access"

// Grant is a role on one Rackspace account.
type Grant struct {
	Account AccountID
	Role    Role // RoleObserver or RoleCreator: Admin is global
}

// Access is what a user may see and do, account by account. It is one of
// two explicit choices, never inferred from an empty list:
//
//   - All: every Rackspace account, present and future, with Role. Every
//     user from before grants existed has this, and an admin always does.
//   - Only the accounts of Grants, each with its own role. An account
//     without a grant does not exist for the user; with no grant at all the
//     user sees no account (removing the last grant never widens access).
type Access struct {
	All    bool
	Role   Role    // with All
	Grants []Grant // without All; one per account
}

// AllAccounts is the access to every account with role.
func AllAccounts(role Role) Access { return Access{All: true, Role: role} }

// OnlyAccounts is the access to the accounts of grants only.
func OnlyAccounts(grants ...Grant) Access { return Access{Grants: grants} }

// RoleOn returns the role the access gives on account id: RoleNone when
// the account is not granted.
func (a Access) RoleOn(id AccountID) Role {
	if a.All {
		return a.Role
	}
	for _, g := range a.Grants {
		if g.Account == id {
			return g.Role
		}
	}
	return RoleNone
}

// Top returns the highest role the access gives on any account: the role
// a route's minimum is checked against before the object's own account is
// known. An access with no grant has Observer, so that its user still
// reaches their profile and sign-out, and sees no account.
func (a Access) Top() Role {
	if a.All {
		return a.Role
	}
	top := RoleObserver
	for _, g := range a.Grants {
		top = max(top, g.Role)
	}
	return top
}

// normalized returns the access with its grants sorted by account, and no
// grants when All.
func (a Access) normalized() Access {
	if a.All {
		return Access{All: true, Role: a.Role}
	}
	gs := slices.Clone(a.Grants)
	slices.SortFunc(gs, func(x, y Grant) int { return cmp.Compare(x.Account, y.Account) })
	return Access{Grants: gs}
}

// Equal reports whether a and b give the same roles on the same accounts.
func (a Access) Equal(b Access) bool {
	a, b = a.normalized(), b.normalized()
	return a.All == b.All && a.Role == b.Role && slices.Equal(a.Grants, b.Grants)
}

// Describe says the access in words, naming accounts through name:
// "Creator on all accounts", "Creator on Acme, Observer on Globex", "No
// account".
func (a Access) Describe(name func(AccountID) string) string {
	if a.All {
		return a.Role.Label() + " on all accounts"
	}
	if len(a.Grants) == 0 {
		return "No account"
	}
	parts := make([]string, 0, len(a.Grants))
	for _, g := range a.normalized().Grants {
		parts = append(parts, g.Role.Label()+" on "+name(g.Account))
	}
	return strings.Join(parts, ", ")
}

// Access returns what the user may see and do.
func (u User) Access() Access {
	if !u.AccountsOnly || u.Role == RoleAdmin {
		return AllAccounts(u.Role)
	}
	return OnlyAccounts(u.Grants...)
}

// RoleOn returns the user's role on account id: RoleNone when the account
// does not exist for them. Every action on an object checks it against
// the object's own account.
func (u User) RoleOn(id AccountID) Role { return u.Access().RoleOn(id) }

// Sees reports whether account id exists for the user.
func (u User) Sees(id AccountID) bool { return u.RoleOn(id) != RoleNone }

// VisibleAccounts returns the accounts of accts that exist for the user,
// in the same order.
func (u User) VisibleAccounts(accts []Account) []Account {
	if u.Access().All {
		return accts
	}
	out := make([]Account, 0, len(u.Grants))
	for _, a := range accts {
		if u.Sees(a.ID) {
			out = append(out, a)
		}
	}
	return out
}

// withAccess returns u holding access a.
func (u User) withAccess(a Access) User {
	a = a.normalized()
	u.AccountsOnly, u.Grants = !a.All, a.Grants
	u.Role = a.Top()
	return u
}

// accountGetter finds a Rackspace account; UserStore is one.
type accountGetter interface {
	Account(ctx context.Context, id AccountID) (Account, error)
}

// checkAccess validates an access an admin chose: a known role, grants only
// on accounts that exist, one per account, and none of Admin (which is
// global). It returns the access normalized and the accounts' names.
func checkAccess(ctx context.Context, store accountGetter, a Access) (Access, map[AccountID]string, error) {
	names := map[AccountID]string{}
	if a.All {
		if !slices.Contains(Roles(), a.Role) {
			return Access{}, nil, Invalid("role", "Choose a role.")
		}
		return a.normalized(), names, nil
	}
	v := validation{}
	seen := map[AccountID]bool{}
	for _, g := range a.Grants {
		switch {
		case g.Role == RoleAdmin:
			v.add("grants", "Admin is a role on all accounts: choose “All accounts” to make an admin.")
		case g.Role != RoleObserver && g.Role != RoleCreator:
			v.add("grants", "Choose Observer or Creator for each account.")
		case seen[g.Account]:
			v.add("grants", "Give each account one role.")
		}
		seen[g.Account] = true
		acct, err := store.Account(ctx, g.Account)
		switch {
		case errors.Is(err, ErrNotFound):
			v.add("grants", fmt.Sprintf("There is no Rackspace account with id %d; reload the page and choose again.", g.Account))
		case err != nil:
			return Access{}, nil, err
		default:
			names[g.Account] = acct.Name
		}
	}
	if err := v.err(); err != nil {
		return Access{}, nil, err
	}
	return a.normalized(), names, nil
}

// SetAccess changes what user id may see and do (admins only): every
// account with one role, or only some accounts with a role each. Any change
// ends the user's sessions and personal access tokens in the same
// transaction, so nothing they opened keeps the old access (each request
// reads the access anew as well). An admin cannot take their own Admin
// away, and the last enabled admin cannot be demoted. Refusals change
// nothing and are audited.
func (s *Users) SetAccess(ctx context.Context, actor User, id UserID, access Access) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("set access: %w", ErrForbidden)
	}
	entry := func(target string, err error, detail ...string) AuditEntry {
		return actorEntry(actor, ActionUserAccess, target, err, detail...)
	}
	return s.setAccess(ctx, entry, actor.ID, id, access)
}

// SyncAccess sets the access an identity provider's claims map to (source
// names it in the audit log, e.g. "oidc"), when the user signs in through
// it: the same rules and revocation as SetAccess, without an admin acting.
// The caller makes the new session after it.
func (s *Users) SyncAccess(ctx context.Context, source string, id UserID, access Access) error {
	entry := func(target string, err error, detail ...string) AuditEntry {
		return actorEntry(User{Email: source}, ActionUserAccess, target, err, detail...)
	}
	return s.setAccess(ctx, entry, 0, id, access)
}

func (s *Users) setAccess(ctx context.Context, entry func(target string, err error, detail ...string) AuditEntry, actorID, id UserID, access Access) error {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return fmt.Errorf("set access: %w", err)
	}
	fail := func(err error) error {
		s.audit.Record(ctx, entry(u.Email, err))
		return fmt.Errorf("set access: %w", err)
	}
	access, names, err := checkAccess(ctx, s.store, access)
	if err != nil {
		return fail(err)
	}
	old := u.Access()
	if old.Equal(access) {
		return nil
	}
	if u.Role == RoleAdmin && access.Top() != RoleAdmin {
		if u.ID == actorID {
			return fail(Invalid("role", "You cannot take away your own Admin role; ask another admin."))
		}
		if !u.Disabled {
			if err := s.keepOneAdmin(ctx, "role", "demote"); err != nil {
				return fail(err)
			}
		}
	}
	next := u.withAccess(access)
	next.Updated = s.now().UTC()
	if err := s.store.SetUserAccess(ctx, next, true); err != nil {
		return fail(err)
	}
	name := s.accountName(ctx, names)
	s.audit.Record(ctx, entry(u.Email, nil, old.Describe(name)+" → "+access.Describe(name), "sessions and tokens ended"))
	return nil
}

// accountName names accounts for the audit log: from known, else from the
// store, else by id (an account deleted since).
func (s *Users) accountName(ctx context.Context, known map[AccountID]string) func(AccountID) string {
	return func(id AccountID) string {
		if n, ok := known[id]; ok {
			return n
		}
		if a, err := s.store.Account(ctx, id); err == nil {
			known[id] = a.Name
			return a.Name
		}
		return "account " + id.String()
	}
}

// permitOn is the check of every action on an object: actor's role on the
// object's own account must be at least min (a Creator on one account and
// an Observer on another may start backups on the first only). It wraps
// ErrForbidden.
func permitOn(actor User, acct AccountID, min Role) error {
	if actor.RoleOn(acct).Allows(min) {
		return nil
	}
	return fmt.Errorf("needs the %s role on account %d: %w", min.Label(), acct, ErrForbidden)
}
