package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Audit actions of two-factor sign-in.
const (
	ActionMFAVerify             AuditAction = "mfa.verify"              // a second-step code at sign-in, ok or refused
	ActionMFARecoveryUsed       AuditAction = "mfa.recovery_used"       // a recovery code opened a sign-in
	ActionMFAEnrol              AuditAction = "mfa.enrol"               // a TOTP factor confirmed with a code
	ActionMFARecoveryRegenerate AuditAction = "mfa.recovery_regenerate" // ten new recovery codes replace the old
	ActionMFADisable            AuditAction = "mfa.disable"             // a user turned their factor off
	ActionMFAReset              AuditAction = "mfa.reset"               // an admin removed a user's factor
	ActionMFARequire            AuditAction = "mfa.require"             // an admin changed the roles that need a factor
	ActionMFAExpired            AuditAction = "mfa.expired"             // a second step came after its half sign-in ended
)

// Sign-in methods, the first factor of a pending sign-in.
const (
	FirstFactorPassword = "password"
	FirstFactorOIDC     = "oidc"
)

// SealedTOTPSecret is the additional data of user_totp.secret_sealed.
const SealedTOTPSecret SealedKind = "totp-secret"

// Defaults of two-factor sign-in.
const (
	// DefaultPendingSignInTTL is how long a half sign-in waits for its
	// second step.
	DefaultPendingSignInTTL = 5 * time.Minute
	// RecoveryCodeCount is how many recovery codes an enrolment makes.
	RecoveryCodeCount = 10
	// totpPeriod is the TOTP step (RFC 6238's default, what every
	// authenticator app uses).
	totpPeriod = 30
	// totpIssuer names the console in authenticator apps.
	totpIssuer = "RCBU Console"
)

// SecondStepKind is what a user who passed a first factor must do next.
type SecondStepKind int

// The second steps.
const (
	SecondStepNone   SecondStepKind = iota // no second factor: the session starts now
	SecondStepVerify                       // enter a code of the enrolled factor (or a recovery code)
	SecondStepEnrol                        // the role requires a factor and the user has none: enrol first
)

// SecondStep is AfterFirstFactor's answer. With Kind SecondStepNone the
// caller starts the session at once; otherwise it gives the browser Token
// (in a cookie of its own) and sends it to the second-step page.
type SecondStep struct {
	Kind    SecondStepKind
	Token   string // the half sign-in's token; "" for SecondStepNone
	Expires time.Time
}

// PendingSignIn is a half sign-in as stored: a user who passed a first
// factor and has yet to pass the second. It grants nothing but the
// second-step pages, ends after PendingTTL and is consumed by the step that
// completes it. Only the token's hash is kept.
type PendingSignIn struct {
	Hash    string
	UserID  UserID
	Method  string // FirstFactorPassword or FirstFactorOIDC
	Enrol   bool   // the user must enrol before going in
	Next    string // the local path to go on to
	Created time.Time
	Expires time.Time
}

// TOTPFactor is a user's authenticator app as stored.
type TOTPFactor struct {
	UserID       UserID
	SecretSealed []byte
	Confirmed    time.Time // zero: enrolment not confirmed, so it does not count
	LastStep     int64     // the latest step a code was accepted in
	Created      time.Time
}

// MFAStore is the persistence of two-factor sign-in.
type MFAStore interface {
	// User and the rest of the users.
	UserStore
	// CreatePendingSignIn inserts p.
	CreatePendingSignIn(ctx context.Context, p PendingSignIn) error
	// PendingSignIn returns the half sign-in with the hash; a missing one wraps ErrNotFound.
	PendingSignIn(ctx context.Context, hash string) (PendingSignIn, error)
	// ConsumePendingSignIn deletes the half sign-in; when it was gone
	// already (consumed by a concurrent request) it wraps ErrConflict.
	ConsumePendingSignIn(ctx context.Context, hash string) error
	// DeleteExpiredPendingSignIns deletes half sign-ins that expired before now.
	DeleteExpiredPendingSignIns(ctx context.Context, now time.Time) (int64, error)
	// TOTPFactor returns the user's factor, confirmed or not; none wraps ErrNotFound.
	TOTPFactor(ctx context.Context, user UserID) (TOTPFactor, error)
	// PutTOTPFactor stores an unconfirmed factor, replacing an unconfirmed
	// one; a confirmed one wraps ErrConflict and is kept.
	PutTOTPFactor(ctx context.Context, f TOTPFactor) error
	// ConfirmTOTPFactor, in one transaction, marks the factor confirmed at
	// with the step its code was in, and replaces the user's recovery codes
	// with hashes.
	ConfirmTOTPFactor(ctx context.Context, user UserID, step int64, at time.Time, hashes []string) error
	// UseTOTPStep records step as the latest accepted one, only if it is
	// later than the stored one; otherwise (a replay) it wraps ErrConflict.
	UseTOTPStep(ctx context.Context, user UserID, step int64) error
	// DeleteTOTPFactor deletes the user's factor and recovery codes.
	DeleteTOTPFactor(ctx context.Context, user UserID) error
	// ReplaceRecoveryCodes replaces the user's recovery codes with hashes.
	ReplaceRecoveryCodes(ctx context.Context, user UserID, hashes []string, at time.Time) error
	// UseRecoveryCode marks the user's code with hash used at at. An unknown
	// code wraps ErrNotFound; one used already wraps ErrConflict.
	UseRecoveryCode(ctx context.Context, user UserID, hash string, at time.Time) error
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, user UserID) (int, error)
	// MFARequiredRoles returns the roles that must use a second factor.
	MFARequiredRoles(ctx context.Context) ([]Role, error)
	// SetMFARequiredRoles replaces the roles that must use a second factor.
	SetMFARequiredRoles(ctx context.Context, roles []Role) error
	// DeleteUserSessions ends every session of the user.
	DeleteUserSessions(ctx context.Context, id UserID) error
}

// MFAOptions configures MFA; zero values take the defaults.
type MFAOptions struct {
	PendingTTL time.Duration // default DefaultPendingSignInTTL
	Now        func() time.Time
	Log        *slog.Logger
}

// MFA is two-factor sign-in: the second step every first factor passes
// through (AfterFirstFactor), TOTP enrolment and codes, recovery codes,
// and the roles that must use a second factor. Code attempts are throttled
// with the password throttle's machinery, per user.
type MFA struct {
	store  MFAStore
	auth   *Auth
	audit  *Audit
	sealer *Sealer
	opts   MFAOptions
}

// NewMFA returns the two-factor service. auth provides the attempt
// throttle; sealer seals the TOTP secrets at rest.
func NewMFA(store MFAStore, auth *Auth, audit *Audit, sealer *Sealer, opts MFAOptions) *MFA {
	orDefault(&opts.PendingTTL, DefaultPendingSignInTTL)
	clockAndLog(&opts.Now, &opts.Log)
	return &MFA{store: store, auth: auth, audit: audit, sealer: sealer, opts: opts}
}

// PendingTTL is how long a half sign-in waits for its second step.
func (m *MFA) PendingTTL() time.Duration { return m.opts.PendingTTL }

// AfterFirstFactor is the second step of sign-in, which every successful
// first factor (a password, an OpenID Connect sign-in) must pass through
// before a session is made. It decides, for the user the first factor
// identified:
//   - SecondStepNone: the user has no confirmed factor and their role does
//     not require one; the caller starts the session now.
//   - SecondStepVerify: the user has a confirmed factor; they must enter a
//     code (or a recovery code) first.
//   - SecondStepEnrol: their role requires a factor and they have none;
//     they must enrol one first.
//
// For the last two it stores a half sign-in (method is the first factor,
// next the local path to go on to) that lives PendingTTL, and returns its
// token for the caller to keep in the browser (web/handlers'
// afterFirstFactor does all of that). A disabled user is refused with
// ErrUnauthorized.
func (m *MFA) AfterFirstFactor(ctx context.Context, u User, method, next string) (SecondStep, error) {
	if u.Disabled {
		return SecondStep{}, fmt.Errorf("second step: user disabled: %w", ErrUnauthorized)
	}
	enrolled, err := m.enrolled(ctx, u.ID)
	if err != nil {
		return SecondStep{}, fmt.Errorf("second step: %w", err)
	}
	kind := SecondStepVerify
	if !enrolled {
		required, err := m.Required(ctx, u.Role)
		if err != nil {
			return SecondStep{}, fmt.Errorf("second step: %w", err)
		}
		if !required {
			return SecondStep{Kind: SecondStepNone}, nil
		}
		kind = SecondStepEnrol
	}
	token, err := NewSessionToken()
	if err != nil {
		return SecondStep{}, fmt.Errorf("second step: %w", err)
	}
	now := m.opts.Now().UTC()
	p := PendingSignIn{Hash: HashToken(token), UserID: u.ID, Method: method, Enrol: kind == SecondStepEnrol,
		Next: next, Created: now, Expires: now.Add(m.opts.PendingTTL)}
	if err := m.store.CreatePendingSignIn(ctx, p); err != nil {
		return SecondStep{}, fmt.Errorf("second step: %w", err)
	}
	return SecondStep{Kind: kind, Token: token, Expires: p.Expires}, nil
}

// ErrSignInExpired says a half sign-in is unknown, used or past its time:
// the user must start again with the first factor. It wraps ErrNotFound.
var ErrSignInExpired = fmt.Errorf("the sign-in took too long or was used already; sign in again: %w", ErrNotFound)

// Pending returns the live half sign-in of token and its user. An unknown,
// expired or used one, or one of a user disabled meanwhile, wraps
// ErrSignInExpired; an expired one is audited and deleted.
func (m *MFA) Pending(ctx context.Context, token string) (PendingSignIn, User, error) {
	if token == "" {
		return PendingSignIn{}, User{}, ErrSignInExpired
	}
	p, err := m.store.PendingSignIn(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return PendingSignIn{}, User{}, ErrSignInExpired
	}
	if err != nil {
		return PendingSignIn{}, User{}, fmt.Errorf("pending sign-in: %w", err)
	}
	u, err := m.store.User(ctx, p.UserID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return PendingSignIn{}, User{}, fmt.Errorf("pending sign-in: %w", err)
	}
	if err != nil || u.Disabled || !m.opts.Now().Before(p.Expires) {
		if derr := m.store.ConsumePendingSignIn(ctx, p.Hash); derr != nil && !errors.Is(derr, ErrConflict) {
			return PendingSignIn{}, User{}, fmt.Errorf("pending sign-in: %w", derr)
		}
		m.audit.Record(ctx, AuditEntry{ActorID: u.ID, Actor: u.Email, Action: ActionMFAExpired, Target: u.Email,
			Outcome: OutcomeFailed, Message: "the half sign-in ended before its second step"})
		return PendingSignIn{}, User{}, ErrSignInExpired
	}
	return p, u, nil
}

// CancelPending ends a half sign-in (the user chose to start again).
func (m *MFA) CancelPending(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := m.store.ConsumePendingSignIn(ctx, HashToken(token)); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("cancel sign-in: %w", err)
	}
	return nil
}

// SignInResult is a completed second step: the user to start a session
// for and the local path to go on to. RecoveryCodes are set when the step
// was an enrolment: show them once.
type SignInResult struct {
	User          User
	Next          string
	Method        string
	RecoveryCodes []string
	// RecoveryUsed says a recovery code opened the sign-in, and
	// RecoveryLeft how many remain.
	RecoveryUsed bool
	RecoveryLeft int
}

// VerifySignIn completes a half sign-in with a code of the user's
// authenticator app or one of their recovery codes. A wrong, reused or
// throttled code is refused with a ValidationError on "code" (audited,
// nothing changes but the throttle's count); a half sign-in that ended
// wraps ErrSignInExpired. On success the half sign-in is consumed: the
// caller starts the session.
func (m *MFA) VerifySignIn(ctx context.Context, token, code string) (SignInResult, error) {
	p, u, err := m.Pending(ctx, token)
	if err != nil {
		return SignInResult{}, err
	}
	if p.Enrol {
		return SignInResult{}, fmt.Errorf("verify sign-in: enrolment pending: %w", ErrSignInExpired)
	}
	res := SignInResult{User: u, Next: p.Next, Method: p.Method}
	if !strings.ContainsFunc(code, unicode.IsLetter) {
		err = m.checkTOTP(ctx, u, code, ActionMFAVerify)
	} else {
		res.RecoveryLeft, err = m.useRecoveryCode(ctx, u, code)
		res.RecoveryUsed = err == nil
	}
	if err != nil {
		return SignInResult{}, err
	}
	if err := m.store.ConsumePendingSignIn(ctx, p.Hash); err != nil {
		if errors.Is(err, ErrConflict) {
			return SignInResult{}, ErrSignInExpired
		}
		return SignInResult{}, fmt.Errorf("verify sign-in: %w", err)
	}
	return res, nil
}

// TOTPEnrolment is what the enrolment page shows: the secret for manual
// entry, the otpauth URL and its QR code as a PNG.
type TOTPEnrolment struct {
	Secret  string // base32, grouped by four for reading
	URL     string // otpauth://totp/...
	QRPNG   []byte
	Account string // the name the app shows: the user's email
}

// BeginEnrolment returns the user's unconfirmed TOTP secret, making one
// when there is none. A user whose factor is confirmed already gets
// ErrConflict (turn it off first).
func (m *MFA) BeginEnrolment(ctx context.Context, u User) (TOTPEnrolment, error) {
	f, err := m.store.TOTPFactor(ctx, u.ID)
	switch {
	case err == nil && !f.Confirmed.IsZero():
		return TOTPEnrolment{}, fmt.Errorf("begin enrolment: two-factor sign-in is on already: %w", ErrConflict)
	case err == nil:
	case errors.Is(err, ErrNotFound):
		secret := make([]byte, 20) // 160 bits, RFC 4226's recommendation
		if _, err := rand.Read(secret); err != nil {
			return TOTPEnrolment{}, fmt.Errorf("begin enrolment: %w", err)
		}
		text := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
		sealed, err := m.sealer.Seal([]byte(text), []byte(SealedTOTPSecret))
		if err != nil {
			return TOTPEnrolment{}, fmt.Errorf("begin enrolment: %w", err)
		}
		f = TOTPFactor{UserID: u.ID, SecretSealed: sealed, Created: m.opts.Now().UTC()}
		if err := m.store.PutTOTPFactor(ctx, f); err != nil {
			return TOTPEnrolment{}, fmt.Errorf("begin enrolment: %w", err)
		}
	default:
		return TOTPEnrolment{}, fmt.Errorf("begin enrolment: %w", err)
	}
	secret, err := m.secret(f)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin enrolment: %w", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin enrolment: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, Secret: raw,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin enrolment: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin enrolment: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin enrolment: qr code: %w", err)
	}
	return TOTPEnrolment{Secret: groupBy4(key.Secret()), URL: key.URL(), QRPNG: buf.Bytes(), Account: u.Email}, nil
}

// ConfirmEnrolment checks a code of the user's new secret; a right one
// turns two-factor sign-in on and returns ten recovery codes to show once.
// A wrong code is refused with a ValidationError on "code" (audited,
// throttled).
func (m *MFA) ConfirmEnrolment(ctx context.Context, u User, code string) ([]string, error) {
	f, err := m.store.TOTPFactor(ctx, u.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && !f.Confirmed.IsZero()) {
		return nil, fmt.Errorf("confirm enrolment: %w", Invalid("code", "Start the setup again: there is no new secret to confirm."))
	}
	if err != nil {
		return nil, fmt.Errorf("confirm enrolment: %w", err)
	}
	now := m.opts.Now().UTC()
	step, err := m.matchCode(ctx, u, f, code, ActionMFAEnrol, now)
	if err != nil {
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, fmt.Errorf("confirm enrolment: %w", err)
	}
	if err := m.store.ConfirmTOTPFactor(ctx, u.ID, step, now, hashes); err != nil {
		return nil, fmt.Errorf("confirm enrolment: %w", err)
	}
	m.audit.Record(ctx, actorEntry(u, ActionMFAEnrol, u.Email, nil, "authenticator app"))
	return codes, nil
}

// EnrolSignIn completes a half sign-in whose user had to enrol: it
// confirms the new factor with code (see ConfirmEnrolment) and consumes the
// half sign-in. The result carries the recovery codes to show once.
func (m *MFA) EnrolSignIn(ctx context.Context, token, code string) (SignInResult, error) {
	p, u, err := m.Pending(ctx, token)
	if err != nil {
		return SignInResult{}, err
	}
	if !p.Enrol {
		return SignInResult{}, fmt.Errorf("enrol sign-in: no enrolment pending: %w", ErrSignInExpired)
	}
	codes, err := m.ConfirmEnrolment(ctx, u, code)
	if err != nil {
		return SignInResult{}, err
	}
	if err := m.store.ConsumePendingSignIn(ctx, p.Hash); err != nil {
		if errors.Is(err, ErrConflict) {
			return SignInResult{}, ErrSignInExpired
		}
		return SignInResult{}, fmt.Errorf("enrol sign-in: %w", err)
	}
	return SignInResult{User: u, Next: p.Next, Method: p.Method, RecoveryCodes: codes}, nil
}

// MFAStatus is a user's two-factor state, for the profile page.
type MFAStatus struct {
	Enrolled     bool
	Since        time.Time
	Required     bool // the user's role requires a second factor
	RecoveryLeft int
}

// Status returns the user's two-factor state.
func (m *MFA) Status(ctx context.Context, u User) (MFAStatus, error) {
	var st MFAStatus
	f, err := m.store.TOTPFactor(ctx, u.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return MFAStatus{}, fmt.Errorf("two-factor status: %w", err)
	}
	if err == nil && !f.Confirmed.IsZero() {
		st.Enrolled, st.Since = true, f.Confirmed
		if st.RecoveryLeft, err = m.store.RecoveryCodesLeft(ctx, u.ID); err != nil {
			return MFAStatus{}, fmt.Errorf("two-factor status: %w", err)
		}
	}
	if st.Required, err = m.Required(ctx, u.Role); err != nil {
		return MFAStatus{}, fmt.Errorf("two-factor status: %w", err)
	}
	return st, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with ten new
// ones, to show once; a current code of the authenticator app proves it is
// the user.
func (m *MFA) RegenerateRecoveryCodes(ctx context.Context, u User, code string) ([]string, error) {
	if err := m.checkTOTP(ctx, u, code, ActionMFARecoveryRegenerate); err != nil {
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes()
	if err == nil {
		err = m.store.ReplaceRecoveryCodes(ctx, u.ID, hashes, m.opts.Now().UTC())
	}
	if err != nil {
		m.audit.Record(ctx, actorEntry(u, ActionMFARecoveryRegenerate, u.Email, err))
		return nil, fmt.Errorf("regenerate recovery codes: %w", err)
	}
	m.audit.Record(ctx, actorEntry(u, ActionMFARecoveryRegenerate, u.Email, nil))
	return codes, nil
}

// Disable turns the user's second factor off, proven with a current code;
// a user whose role requires a factor is refused.
func (m *MFA) Disable(ctx context.Context, u User, code string) error {
	required, err := m.Required(ctx, u.Role)
	if err != nil {
		return fmt.Errorf("turn off two-factor: %w", err)
	}
	if required {
		err := Invalid("code", "Your role requires two-factor sign-in, so it cannot be turned off.")
		m.audit.Record(ctx, actorEntry(u, ActionMFADisable, u.Email, err))
		return fmt.Errorf("turn off two-factor: %w", err)
	}
	if err := m.checkTOTP(ctx, u, code, ActionMFADisable); err != nil {
		return err
	}
	if err := m.store.DeleteTOTPFactor(ctx, u.ID); err != nil {
		m.audit.Record(ctx, actorEntry(u, ActionMFADisable, u.Email, err))
		return fmt.Errorf("turn off two-factor: %w", err)
	}
	m.audit.Record(ctx, actorEntry(u, ActionMFADisable, u.Email, nil))
	return nil
}

// Reset removes a user's second factor and recovery codes and ends their
// sessions (an admin helping a user who lost their phone). The user
// enrols again at the next sign-in if their role requires it.
func (m *MFA) Reset(ctx context.Context, actor User, id UserID) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("reset two-factor: %w", ErrForbidden)
	}
	u, err := m.store.User(ctx, id)
	if err != nil {
		return fmt.Errorf("reset two-factor: %w", err)
	}
	err = m.store.DeleteTOTPFactor(ctx, id)
	if err == nil {
		err = m.store.DeleteUserSessions(ctx, id)
	}
	m.audit.Record(ctx, actorEntry(actor, ActionMFAReset, u.Email, err))
	if err != nil {
		return fmt.Errorf("reset two-factor: %w", err)
	}
	return nil
}

// Required reports whether users of role must use a second factor.
func (m *MFA) Required(ctx context.Context, role Role) (bool, error) {
	roles, err := m.store.MFARequiredRoles(ctx)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if r == role {
			return true, nil
		}
	}
	return false, nil
}

// RequiredRoles returns the roles that must use a second factor.
func (m *MFA) RequiredRoles(ctx context.Context) ([]Role, error) {
	roles, err := m.store.MFARequiredRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("required roles: %w", err)
	}
	return roles, nil
}

// SetRequiredRoles makes the named roles (Role names) the ones that must
// use a second factor; an admin only. Users of those roles without a
// factor enrol at their next sign-in, and their sessions end now (the
// actor's own aside), so that none of them goes on without one. It returns
// how many users must enrol.
func (m *MFA) SetRequiredRoles(ctx context.Context, actor User, names []string) (int, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return 0, fmt.Errorf("set required roles: %w", ErrForbidden)
	}
	var roles []Role
	var labels []string
	for _, n := range names {
		r, err := ParseRole(n)
		if err != nil {
			return 0, fmt.Errorf("set required roles: %w", Invalid("roles", "Choose roles from the list."))
		}
		roles = append(roles, r)
		labels = append(labels, r.Label())
	}
	detail := "no role requires a second factor"
	if len(labels) > 0 {
		detail = "required for " + strings.Join(labels, ", ")
	}
	err := m.store.SetMFARequiredRoles(ctx, roles)
	var must int
	if err == nil {
		must, err = m.endSessionsWithoutFactor(ctx, actor, roles)
	}
	if must > 0 {
		detail += fmt.Sprintf("; %d user(s) must set it up", must)
	}
	m.audit.Record(ctx, actorEntry(actor, ActionMFARequire, "two-factor sign-in", err, detail))
	if err != nil {
		return 0, fmt.Errorf("set required roles: %w", err)
	}
	return must, nil
}

// endSessionsWithoutFactor ends the sessions of the enabled users of roles
// who have no confirmed factor, except actor's, and returns how many users
// (the actor included) must enrol.
func (m *MFA) endSessionsWithoutFactor(ctx context.Context, actor User, roles []Role) (int, error) {
	if len(roles) == 0 {
		return 0, nil
	}
	users, err := m.store.ListUsers(ctx)
	if err != nil {
		return 0, err
	}
	must := 0
	for _, u := range users {
		if u.Disabled || !slices.Contains(roles, u.Role) {
			continue
		}
		enrolled, err := m.enrolled(ctx, u.ID)
		if err != nil {
			return must, err
		}
		if enrolled {
			continue
		}
		must++
		if u.ID == actor.ID {
			continue // told on the page instead; signing them out would lose the form
		}
		if err := m.store.DeleteUserSessions(ctx, u.ID); err != nil {
			return must, err
		}
	}
	return must, nil
}

// PrunePending deletes half sign-ins that have expired; run it now and then.
func (m *MFA) PrunePending(ctx context.Context) (int64, error) {
	n, err := m.store.DeleteExpiredPendingSignIns(ctx, m.opts.Now().UTC())
	if err != nil {
		return 0, fmt.Errorf("prune pending sign-ins: %w", err)
	}
	return n, nil
}

// enrolled reports whether the user has a confirmed factor.
func (m *MFA) enrolled(ctx context.Context, id UserID) (bool, error) {
	f, err := m.store.TOTPFactor(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !f.Confirmed.IsZero(), nil
}

// checkTOTP checks a code of the user's confirmed factor and records its
// step, so that it cannot be used again.
func (m *MFA) checkTOTP(ctx context.Context, u User, code string, action AuditAction) error {
	f, err := m.store.TOTPFactor(ctx, u.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && f.Confirmed.IsZero()) {
		return Invalid("code", "Two-factor sign-in is not set up for this user.")
	}
	if err != nil {
		return fmt.Errorf("check code: %w", err)
	}
	now := m.opts.Now().UTC()
	step, err := m.matchCode(ctx, u, f, code, action, now)
	if err != nil {
		return err
	}
	if err := m.store.UseTOTPStep(ctx, u.ID, step); err != nil {
		if errors.Is(err, ErrConflict) {
			return m.refuse(ctx, u, action, "code used already", errCodeReused, now)
		}
		return fmt.Errorf("check code: %w", err)
	}
	return nil
}

// The refusals of a code, in words.
var (
	errCodeWrong     = Invalid("code", "That code is not right. Enter the 6-digit code your authenticator app shows now.")
	errCodeReused    = Invalid("code", "That code was used already. Wait for the next code and enter it.")
	errCodeThrottled = Invalid("code", "Too many wrong codes. Wait a few minutes, then try again.")
	errRecoveryWrong = Invalid("code", "That recovery code is not right.")
	errRecoveryUsed  = Invalid("code", "That recovery code was used already: each works once. Use another one.")
)

// matchCode charges the user's throttle and returns the step whose code,
// within ±1 step of now, is code. It refuses a code of a step at or before
// the last accepted one (a replay) and any code while throttled. A right
// code takes its attempt back.
func (m *MFA) matchCode(ctx context.Context, u User, f TOTPFactor, code string, action AuditAction, now time.Time) (int64, error) {
	keys := []string{"mfa:" + strconv.FormatInt(int64(u.ID), 10)}
	allowed, _, err := m.auth.charge(ctx, keys, now)
	if err != nil {
		return 0, fmt.Errorf("check code: %w", err)
	}
	if !allowed {
		return 0, m.refuse(ctx, u, action, "refused: too many wrong codes", errCodeThrottled, now)
	}
	secret, err := m.secret(f)
	if err != nil {
		return 0, fmt.Errorf("check code: %w", err)
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if !looksLikeTOTP(code) {
		return 0, m.refuse(ctx, u, action, "wrong code", errCodeWrong, now)
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := now.Unix() / totpPeriod
	for _, step := range []int64{cur, cur - 1, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, fmt.Errorf("check code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if step <= f.LastStep {
			return 0, m.refuse(ctx, u, action, "code used already", errCodeReused, now)
		}
		if err := m.auth.succeed(ctx, keys); err != nil {
			return 0, fmt.Errorf("check code: %w", err)
		}
		return step, nil
	}
	return 0, m.refuse(ctx, u, action, "wrong code", errCodeWrong, now)
}

// useRecoveryCode spends one of the user's recovery codes and returns how
// many are left. Attempts share the TOTP throttle.
func (m *MFA) useRecoveryCode(ctx context.Context, u User, code string) (int, error) {
	now := m.opts.Now().UTC()
	keys := []string{"mfa:" + strconv.FormatInt(int64(u.ID), 10)}
	allowed, _, err := m.auth.charge(ctx, keys, now)
	if err != nil {
		return 0, fmt.Errorf("recovery code: %w", err)
	}
	if !allowed {
		return 0, m.refuse(ctx, u, ActionMFARecoveryUsed, "refused: too many wrong codes", errCodeThrottled, now)
	}
	err = m.store.UseRecoveryCode(ctx, u.ID, HashToken(normalizeRecoveryCode(code)), now)
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, m.refuse(ctx, u, ActionMFARecoveryUsed, "wrong recovery code", errRecoveryWrong, now)
	case errors.Is(err, ErrConflict):
		return 0, m.refuse(ctx, u, ActionMFARecoveryUsed, "recovery code used already", errRecoveryUsed, now)
	case err != nil:
		return 0, fmt.Errorf("recovery code: %w", err)
	}
	if err := m.auth.succeed(ctx, keys); err != nil {
		return 0, fmt.Errorf("recovery code: %w", err)
	}
	left, err := m.store.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return 0, fmt.Errorf("recovery code: %w", err)
	}
	m.audit.Record(ctx, actorEntry(u, ActionMFARecoveryUsed, u.Email, nil, fmt.Sprintf("%d left", left)))
	return left, nil
}

// refuse audits a refused code (one row per user, action and failure
// window, counted) and returns msg.
func (m *MFA) refuse(ctx context.Context, u User, action AuditAction, reason string, msg *ValidationError, now time.Time) error {
	window := now.Unix() / max(int64(m.auth.cfg.FailureWindow/time.Second), 1)
	m.audit.Record(ctx, AuditEntry{ActorID: u.ID, Actor: u.Email, Action: action, Target: u.Email, Outcome: OutcomeFailed,
		Message: reason, Aggregate: fmt.Sprintf("%s failed user:%d %d", action, u.ID, window)})
	return fmt.Errorf("%s: %s: %w", action, reason, msg)
}

// secret opens the factor's sealed secret. The additional data is the
// kind only, as for every sealed column, so that rotate-secret can re-seal
// it without knowing the row.
func (m *MFA) secret(f TOTPFactor) (string, error) {
	b, err := m.sealer.Open(f.SecretSealed, []byte(SealedTOTPSecret))
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return string(b), nil
}

// looksLikeTOTP reports whether code is six digits (spaces aside).
func looksLikeTOTP(code string) bool {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// recoveryAlphabet is lower-case base32 without the letters and digits
// people confuse (0/o, 1/l/i, 8/b).
const recoveryAlphabet = "acdefghjkmnpqrstuvwxyz2345679"

// newRecoveryCodes returns RecoveryCodeCount fresh codes ("xxxx-xxxx-xxxx",
// 12 characters of a 29-letter alphabet: 58 bits each, beyond guessing
// under the throttle and costly to reverse from their SHA-256) and their
// hashes.
func newRecoveryCodes() (codes, hashes []string, err error) {
	for range RecoveryCodeCount {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("recovery codes: %w", err)
		}
		var sb strings.Builder
		for i, c := range b {
			if i > 0 && i%4 == 0 {
				sb.WriteByte('-')
			}
			// 256 is not a multiple of 29: the first 24 letters come 9
			// times in 256, the rest 8, which costs a fraction of a bit.
			sb.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		code := sb.String()
		codes = append(codes, code)
		hashes = append(hashes, HashToken(normalizeRecoveryCode(code)))
	}
	return codes, hashes, nil
}

// normalizeRecoveryCode drops the dashes and spaces people type or leave
// out, and lower-cases the rest.
func normalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, code)
}

// groupBy4 splits a base32 secret into groups of four for reading aloud
// or typing.
func groupBy4(s string) string {
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			sb.WriteByte(' ')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
