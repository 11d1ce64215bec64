package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"
)

// User is a person who signs in to the console.
type User struct {
	ID           UserID
	Email        string // lower-case, unique
	Name         string // display name
	PasswordHash string // argon2id, encoded; never rendered
	// Role is the user's role on every account, or with AccountsOnly the
	// highest role of Grants (Observer with none): what a route's minimum
	// role is checked against. An action on an object checks RoleOn the
	// object's account.
	Role Role
	// AccountsOnly limits the user to the accounts of Grants, each with
	// its own role (see Access); otherwise the user has every account.
	// Admins always have every account.
	AccountsOnly bool
	Grants       []Grant // with AccountsOnly, sorted by account
	Disabled     bool
	TimeZone     string // IANA name, "UTC" by default
	// MustChangePassword sends the user to change their password before
	// anything else: somebody else chose it (the first admin's, generated
	// and printed at the first start).
	MustChangePassword bool
	// SingleSignOn: the user has an identity at the OpenID Connect
	// provider and signs in there; without a password they are not
	// waiting for an invitation.
	SingleSignOn bool
	Created      time.Time
	Updated      time.Time
}

// Invited reports whether the user was invited and has not set a password
// yet: they cannot sign in until they use their link. A single sign-on
// user without a password is not waiting for anything.
func (u User) Invited() bool { return u.PasswordHash == "" && !u.SingleSignOn }

// HasPassword reports whether the user has a console password (one who
// signs in only through single sign-on has none).
func (u User) HasPassword() bool { return u.PasswordHash != "" }

// DisplayName returns the name, or the email when the name is empty.
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// Location returns the user's time zone, UTC if it cannot be loaded.
func (u User) Location() *time.Location {
	if u.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(u.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// UserStore is the persistence Users and Auth need.
type UserStore interface {
	// CreateUser inserts u and returns it with its id; a duplicate email wraps ErrConflict.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns one user; a missing one wraps ErrNotFound.
	User(ctx context.Context, id UserID) (User, error)
	// UserByEmail returns the user with that (lower-case) email; a missing one wraps ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns every user ordered by email.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser writes u's mutable fields and, when revoke is set, deletes
	// all of the user's sessions, personal access tokens and unused one-time
	// links in the same transaction.
	UpdateUser(ctx context.Context, u User, revoke bool) error
	// RevokeUserAccess deletes every personal access token and one-time
	// link of the user: what opens the account without the password.
	RevokeUserAccess(ctx context.Context, id UserID) error
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int, error)
	// CountActiveAdmins returns the number of enabled admins.
	CountActiveAdmins(ctx context.Context) (int, error)
	// SetUserAccess writes u's role, AccountsOnly and Grants (replacing
	// every grant) and, with revoke, deletes the user's sessions and
	// personal access tokens, all in one transaction.
	SetUserAccess(ctx context.Context, u User, revoke bool) error
	// Account returns one Rackspace account; a missing one wraps ErrNotFound.
	Account(ctx context.Context, id AccountID) (Account, error)
}

// Users manages console users: the first admin, invitations by admins, role
// changes, disabling, password resets and each user's own profile.
type Users struct {
	store  UserStore
	audit  *Audit
	params PasswordParams
	now    func() time.Time
	log    *slog.Logger
	// last are the users last read, served by Get while the store is
	// unavailable.
	last *lastGood[UserID, User]
}

// NewUsers returns the user service.
func NewUsers(store UserStore, audit *Audit, params PasswordParams, now func() time.Time, log *slog.Logger) *Users {
	return &Users{store: store, audit: audit, params: params, now: now, log: log, last: newLastGood[UserID, User](now)}
}

// NewUserRequest is the input for creating a user.
type NewUserRequest struct {
	Email    string
	Name     string
	Role     string // a Role name
	Password string
}

// ProfileRequest is the input for a user's own profile.
type ProfileRequest struct {
	Name     string
	TimeZone string
}

// normalizeEmail trims and lower-cases an email address.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validateEmail(v validation, field, email string) {
	switch {
	case email == "":
		v.add(field, "Enter an email address.")
	case len(email) > 254:
		v.add(field, "Use at most 254 characters.")
	default:
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || !strings.Contains(email, "@") {
			v.add(field, "Enter an email address like name@example.com.")
		}
	}
}

// checkNewUser normalizes a new user's email, name and role, adding what is
// wrong with them to v.
func checkNewUser(v validation, email, name, roleName string) (string, string, Role) {
	email, name = normalizeEmail(email), strings.TrimSpace(name)
	validateEmail(v, "email", email)
	validateName(v, "name", name)
	role, err := ParseRole(roleName)
	if err != nil {
		v.add("role", "Choose a role.")
	}
	return email, name, role
}

func validateName(v validation, field, name string) {
	if len([]rune(name)) > 100 {
		v.add(field, "Use at most 100 characters.")
	}
}

func validateTimeZone(v validation, field, tz string) {
	if tz == "" {
		v.add(field, "Choose a time zone.")
		return
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		v.add(field, "Choose a time zone from the list.")
	}
}

// EnsureAdmin creates the first admin when there are no users yet. When
// password is empty a random one is generated, printed by the caller, and
// must be changed at the first sign-in. It reports whether the user was
// created and the password used (only then); later starts change nothing,
// and of replicas starting together on one database one creates it.
func (s *Users) EnsureAdmin(ctx context.Context, email, password string) (created bool, usedPassword string, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	generated := password == ""
	if generated {
		if password, err = RandomPassword(); err != nil {
			return false, "", fmt.Errorf("ensure admin: %w", err)
		}
	}
	email = normalizeEmail(email)
	v := validation{}
	validateEmail(v, "email", email)
	validatePassword(v, "password", password)
	if err := v.err(); err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	now := s.now().UTC()
	u, err := s.store.CreateUser(ctx, User{Email: email, Name: "Administrator", PasswordHash: hash, Role: RoleAdmin, TimeZone: "UTC",
		MustChangePassword: generated, Created: now, Updated: now})
	if errors.Is(err, ErrConflict) {
		// Another replica starting at the same time on the same database
		// created the admin between the count and this insert: the first
		// admin exists, as on a later start.
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("ensure admin: %w", err)
	}
	s.audit.Record(ctx, AuditEntry{Actor: "system", Action: ActionUserCreate, Target: u.Email, Outcome: OutcomeOK, Message: "first admin created at start"})
	return true, password, nil
}

// Get returns one user.
func (s *Users) Get(ctx context.Context, id UserID) (User, error) {
	u, err := s.store.User(ctx, id)
	u, err = s.last.read(ctx, id, u, err)
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// List returns every user, for admins.
func (s *Users) List(ctx context.Context, actor User) ([]User, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return nil, fmt.Errorf("list users: %w", ErrForbidden)
	}
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// Create adds a user with a known password. Only admins may; the input is
// validated field by field. The console's pages invite instead
// (Links.Invite), so that nobody but the user knows their password.
func (s *Users) Create(ctx context.Context, actor User, req NewUserRequest) (User, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return User{}, fmt.Errorf("create user: %w", ErrForbidden)
	}
	v := validation{}
	email, name, role := checkNewUser(v, req.Email, req.Name, req.Role)
	validatePassword(v, "password", req.Password)
	if err := v.err(); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	hash, err := HashPassword(req.Password, s.params)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	now := s.now().UTC()
	u, err := s.store.CreateUser(ctx, User{Email: email, Name: name, PasswordHash: hash, Role: role, TimeZone: "UTC", Created: now, Updated: now})
	if errors.Is(err, ErrConflict) {
		return User{}, fmt.Errorf("create user: %w", Invalid("email", "A user with this email already exists."))
	}
	if err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionUserCreate, email, err))
		return User{}, fmt.Errorf("create user: %w", err)
	}
	s.audit.Record(ctx, actorEntry(actor, ActionUserCreate, email, nil, "role "+role.String()))
	return u, nil
}

// SetRole gives the user every account with the named role (SetAccess
// with AllAccounts): a user limited to some accounts is no longer.
func (s *Users) SetRole(ctx context.Context, actor User, id UserID, roleName string) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("set role: %w", ErrForbidden)
	}
	role, err := ParseRole(roleName)
	if err != nil {
		return fmt.Errorf("set role: %w", Invalid("role", "Choose a role."))
	}
	return s.SetAccess(ctx, actor, id, AllAccounts(role))
}

// SetDisabled disables or enables a user. Disabling signs them out
// everywhere; the last enabled admin cannot be disabled.
func (s *Users) SetDisabled(ctx context.Context, actor User, id UserID, disabled bool) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("set disabled: %w", ErrForbidden)
	}
	u, err := s.store.User(ctx, id)
	if err != nil {
		return fmt.Errorf("set disabled: %w", err)
	}
	action := ActionUserEnable
	if disabled {
		action = ActionUserDisable
	}
	if u.Disabled == disabled {
		return nil
	}
	if disabled && u.Role == RoleAdmin {
		if err := s.keepOneAdmin(ctx, "", "disable"); err != nil {
			s.audit.Record(ctx, actorEntry(actor, action, u.Email, err))
			return fmt.Errorf("set disabled: %w", err)
		}
	}
	u.Disabled = disabled
	u.Updated = s.now().UTC()
	// Disabling ends access at once, with the change: sessions, scripts'
	// tokens and unused links.
	if err := s.store.UpdateUser(ctx, u, disabled); err != nil {
		s.audit.Record(ctx, actorEntry(actor, action, u.Email, err))
		return fmt.Errorf("set disabled: %w", err)
	}
	s.audit.Record(ctx, actorEntry(actor, action, u.Email, nil))
	return nil
}

func (s *Users) keepOneAdmin(ctx context.Context, field, verb string) error {
	n, err := s.store.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return Invalid(field, "You cannot "+verb+" the last enabled admin; make another user an admin first.")
	}
	return nil
}

// ResetPassword sets a new password for a user (an admin's action), signs
// the user out everywhere and revokes the user's personal access tokens. An
// empty password generates a random one, which is returned so the admin can
// pass it on. The console's pages make a reset link instead
// (Links.ResetLink).
func (s *Users) ResetPassword(ctx context.Context, actor User, id UserID, password string) (string, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return "", fmt.Errorf("reset password: %w", ErrForbidden)
	}
	u, err := s.store.User(ctx, id)
	if err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	if password == "" {
		if password, err = RandomPassword(); err != nil {
			return "", fmt.Errorf("reset password: %w", err)
		}
	}
	v := validation{}
	validatePassword(v, "password", password)
	if err := v.err(); err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	if err := s.setPassword(ctx, u, password); err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionUserResetPassword, u.Email, err))
		return "", fmt.Errorf("reset password: %w", err)
	}
	s.audit.Record(ctx, actorEntry(actor, ActionUserResetPassword, u.Email, nil))
	return password, nil
}

// ChangePassword changes the user's own password after checking the current
// one, signs them out everywhere (the caller starts a fresh session) and
// revokes their personal access tokens.
func (s *Users) ChangePassword(ctx context.Context, actor User, current, next, confirm string) error {
	u, err := s.store.User(ctx, actor.ID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !u.HasPassword() {
		err := error(Conflict("you sign in through single sign-on and have no console password to change"))
		s.audit.Record(ctx, actorEntry(actor, ActionPasswordChange, u.Email, err))
		return fmt.Errorf("change password: %w", err)
	}
	v := validation{}
	if !CheckPassword(u.PasswordHash, current) {
		v.add("current_password", "The current password is not correct.")
	}
	validatePassword(v, "new_password", next)
	if next != confirm {
		v.add("confirm_password", "The two new passwords differ.")
	}
	if err := v.err(); err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionPasswordChange, u.Email, err))
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.setPassword(ctx, u, next); err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionPasswordChange, u.Email, err))
		return fmt.Errorf("change password: %w", err)
	}
	s.audit.Record(ctx, actorEntry(actor, ActionPasswordChange, u.Email, nil))
	return nil
}

func (s *Users) setPassword(ctx context.Context, u User, password string) error {
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return err
	}
	u.PasswordHash, u.MustChangePassword = hash, false
	u.Updated = s.now().UTC()
	// A new password ends everything the old one opened, scripts' tokens too.
	return s.store.UpdateUser(ctx, u, true)
}

// UpdateProfile changes the user's own display name and time zone.
func (s *Users) UpdateProfile(ctx context.Context, actor User, req ProfileRequest) (User, error) {
	u, err := s.store.User(ctx, actor.ID)
	if err != nil {
		return User{}, fmt.Errorf("update profile: %w", err)
	}
	name := strings.TrimSpace(req.Name)
	tz := strings.TrimSpace(req.TimeZone)
	v := validation{}
	validateName(v, "name", name)
	validateTimeZone(v, "time_zone", tz)
	if err := v.err(); err != nil {
		return User{}, fmt.Errorf("update profile: %w", err)
	}
	u.Name, u.TimeZone, u.Updated = name, tz, s.now().UTC()
	if err := s.store.UpdateUser(ctx, u, false); err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionProfileUpdate, u.Email, err))
		return User{}, fmt.Errorf("update profile: %w", err)
	}
	s.audit.Record(ctx, actorEntry(actor, ActionProfileUpdate, u.Email, nil))
	return u, nil
}
