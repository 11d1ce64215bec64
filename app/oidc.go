package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Audit actions of single sign-on.
const (
	// ActionSSOLogin is a sign-in through the identity provider, or its refusal.
	ActionSSOLogin AuditAction = "auth.sso_login"
	// ActionSSOCreate is a user created at their first single sign-on.
	ActionSSOCreate AuditAction = "user.sso_create"
	// ActionSSOLink is an existing user linked to their identity at the provider.
	ActionSSOLink AuditAction = "user.sso_link"
	// ActionBreakGlass is a password sign-in while password sign-in is off.
	ActionBreakGlass AuditAction = "auth.break_glass"
)

// SSOActor is the audit log's actor of what single sign-on does by itself
// (a user created, a role set from the claim).
const SSOActor = "single sign-on"

// DefaultOIDCClaim is the ID token claim the role mapping reads by default.
const DefaultOIDCClaim = "groups"

// DefaultOIDCScopes are the scopes asked for besides openid.
func DefaultOIDCScopes() []string { return []string{"email", "profile"} }

// DefaultOIDCPendingTTL is how long a started sign-in may take at the
// identity provider before the console refuses its answer.
const DefaultOIDCPendingTTL = 10 * time.Minute

// OIDCCallbackPath is where the identity provider sends the browser back.
const OIDCCallbackPath = "/login/oidc/callback"

// UserIdentity links a console user to a subject at an OpenID Connect issuer.
type UserIdentity struct {
	UserID  UserID
	Issuer  string
	Subject string
	Created time.Time
}

// IdentityStore is the persistence single sign-on needs.
type IdentityStore interface {
	UserStore
	// UserIdentityBySubject returns the identity; a missing one wraps ErrNotFound.
	UserIdentityBySubject(ctx context.Context, issuer, subject string) (UserIdentity, error)
	// UserIdentityOf returns the user's identity at the issuer; a missing one wraps ErrNotFound.
	UserIdentityOf(ctx context.Context, user UserID, issuer string) (UserIdentity, error)
	// CreateUserIdentity links a user; a taken subject or a second subject for the user wraps ErrConflict.
	CreateUserIdentity(ctx context.Context, id UserIdentity) error
	// CreateUserWithIdentity inserts a user linked to the identity in one
	// transaction; a duplicate email or a taken subject wraps ErrConflict.
	CreateUserWithIdentity(ctx context.Context, u User, id UserIdentity) (User, error)
	// ListAccounts returns every Rackspace account ordered by name.
	ListAccounts(ctx context.Context) ([]Account, error)
}

// OIDCOptions configure single sign-on with an OpenID Connect provider.
type OIDCOptions struct {
	Issuer       string // RCBU_WEB_OIDC_ISSUER, discovered at /.well-known/openid-configuration
	ClientID     string
	ClientSecret string // never logged or rendered
	RedirectURL  string // the console's callback, registered at the provider
	Name         string // the provider's name on the sign-in button; empty: the issuer's host
	Claim        string // the ID token claim the mapping reads (a dotted path); empty: "groups"
	// Scopes are asked for besides openid (nil: email and profile); some
	// providers release the groups claim only for a "groups" scope.
	Scopes []string
	Rules  []RoleRule
	// CreateUsers creates a console user at a person's first sign-in;
	// without it only existing users (by email) may sign in.
	CreateUsers bool
	// PasswordOff refuses password sign-in except to the admins whose
	// emails are in BreakGlass.
	PasswordOff bool
	BreakGlass  []string
	// Connect builds the protocol half from these options, defaults
	// applied (package openid's New); required.
	Connect func(OIDCOptions) OIDCProvider
	// PendingTTL bounds the time between starting a sign-in and the
	// provider's answer (0: DefaultOIDCPendingTTL).
	PendingTTL time.Duration
	Now        func() time.Time
	Log        *slog.Logger
}

// OIDCProvider is the OpenID Connect protocol as OIDC needs it (package
// openid implements it): discovery, the authorization URL and the code
// exchange with the ID token verified. A provider that cannot be reached
// answers with an error wrapping ErrOIDCUnreachable.
type OIDCProvider interface {
	// Discover fetches the provider's configuration (kept once it succeeds).
	Discover(ctx context.Context) error
	// AuthCodeURL is the authorization URL for state and nonce, with the
	// S256 challenge of the PKCE verifier.
	AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error)
	// Exchange trades code and verifier for the ID token, verified
	// (signature, issuer, audience, expiry). A refused code is an
	// *OIDCCodeError, an expired token an *OIDCExpiredError, another
	// untrusted one wraps ErrOIDCUntrusted.
	Exchange(ctx context.Context, code, verifier string) (IDToken, error)
}

// IDToken is a verified ID token.
type IDToken struct {
	Issuer, Subject, Nonce string
	Claims                 map[string]any // every claim, as JSON decodes them
}

// The provider's answers that OIDC tells the person about in their words.
var (
	// ErrOIDCUnreachable: the provider's configuration could not be read.
	ErrOIDCUnreachable = errors.New("identity provider unreachable")
	// ErrOIDCUntrusted: the ID token was missing, unreadable, or failed
	// verification (another issuer or client, a bad signature).
	ErrOIDCUntrusted = errors.New("ID token not trusted")
)

// OIDCCodeError is the provider's refusal of the sign-in code.
type OIDCCodeError struct {
	Code   string // the OAuth error code, e.g. invalid_grant (empty if none)
	Status int    // the token endpoint's HTTP status (0 if none)
}

// Error implements error.
func (e *OIDCCodeError) Error() string {
	return fmt.Sprintf("code exchange failed: %q (HTTP %d)", e.Code, e.Status)
}

// OIDCExpiredError is an ID token that had expired.
type OIDCExpiredError struct{ Expiry time.Time }

// Error implements error.
func (e *OIDCExpiredError) Error() string {
	return "ID token expired at " + e.Expiry.UTC().Format(time.RFC3339)
}

// OIDC signs people in through an OpenID Connect provider: the
// authorization code flow with PKCE (S256), a state and a nonce bound to the
// browser's session, the ID token verified by the provider (OIDCProvider)
// and the claim mapped to a role at every sign-in.
//
// The provider is discovered when first needed and again after a failure,
// so a provider that is down at start does not stop the console: its
// sign-in page still offers the password form to break-glass admins.
type OIDC struct {
	store      IdentityStore
	audit      *Audit
	opts       OIDCOptions
	breakGlass map[string]bool
	provider   OIDCProvider
}

// NewOIDC returns the single sign-on service; it does not contact the provider.
func NewOIDC(store IdentityStore, audit *Audit, o OIDCOptions) (*OIDC, error) {
	u, err := url.Parse(o.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("new oidc: issuer %q is not an http(s) URL", o.Issuer)
	}
	if o.ClientID == "" || o.RedirectURL == "" {
		return nil, errors.New("new oidc: client id and redirect URL are required")
	}
	if o.Name == "" {
		o.Name = u.Hostname()
	}
	if o.Claim == "" {
		o.Claim = DefaultOIDCClaim
	}
	if o.Scopes == nil {
		o.Scopes = DefaultOIDCScopes()
	}
	o.Scopes = slices.DeleteFunc(slices.Clone(o.Scopes), func(s string) bool { return s == "openid" })
	if o.PendingTTL <= 0 {
		o.PendingTTL = DefaultOIDCPendingTTL
	}
	if o.Now == nil || o.Log == nil || o.Connect == nil {
		return nil, errors.New("new oidc: Now, Log and Connect are required")
	}
	bg := map[string]bool{}
	for _, e := range o.BreakGlass {
		if e = normalizeEmail(e); e != "" {
			bg[e] = true
		}
	}
	return &OIDC{store: store, audit: audit, opts: o, breakGlass: bg, provider: o.Connect(o)}, nil
}

// OIDCOff returns single sign-on switched off, the console's state when no
// provider is configured: Enabled is false, Start and Finish refuse with an
// error wrapping ErrNotFound, and PasswordGate lets every password sign-in
// through to Auth.
func OIDCOff() *OIDC { return &OIDC{breakGlass: map[string]bool{}} }

// Enabled reports whether a provider is configured (NewOIDC requires its
// issuer); only then do the sign-in pages offer single sign-on.
func (o *OIDC) Enabled() bool { return o.opts.Issuer != "" }

// errOIDCOff is Start's and Finish's answer while single sign-on is off.
var errOIDCOff = fmt.Errorf("single sign-on is not configured: %w", ErrNotFound)

// Name is the provider's name for the sign-in button.
func (o *OIDC) Name() string { return o.opts.Name }

// PasswordOff reports whether password sign-in is only for break-glass admins.
func (o *OIDC) PasswordOff() bool { return o.opts.PasswordOff }

// OIDCPending is a started sign-in, kept in the browser's server-side
// session until the provider sends the browser back: used once, then gone.
type OIDCPending struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"` // the PKCE code verifier
	Next     string    `json:"next,omitempty"`
	Expires  time.Time `json:"expires"`
}

// OIDCCallback is what the provider sent back in the callback's query.
type OIDCCallback struct {
	State, Code             string
	Error, ErrorDescription string
}

// SSORefusal is a single sign-on that the console refused or could not
// finish. Message is for the person (it never holds a secret); Reason is
// for the audit log. It wraps ErrUnauthorized.
type SSORefusal struct {
	Message string
	Reason  string
	// Unavailable says the provider could not be reached: nothing the
	// person did was wrong.
	Unavailable bool
}

// Error implements error.
func (e *SSORefusal) Error() string { return "single sign-on refused: " + e.Reason }

// Unwrap makes errors.Is(err, ErrUnauthorized) true.
func (e *SSORefusal) Unwrap() error { return ErrUnauthorized }

// Discover contacts the provider now; cmd/web calls it at start to log
// early that the provider cannot be reached.
func (o *OIDC) Discover(ctx context.Context) error {
	if !o.Enabled() {
		return errOIDCOff
	}
	return o.provider.Discover(ctx)
}

// Start begins a sign-in: it returns the provider's authorization URL and
// the pending sign-in the caller keeps in the browser's session. A provider
// that cannot be reached is an SSORefusal with Unavailable set. While
// single sign-on is off, the error wraps ErrNotFound.
func (o *OIDC) Start(ctx context.Context, next string) (string, OIDCPending, error) {
	if !o.Enabled() {
		return "", OIDCPending{}, errOIDCOff
	}
	state, err := randomToken()
	if err != nil {
		return "", OIDCPending{}, fmt.Errorf("oidc start: %w", err)
	}
	nonce, err := randomToken()
	if err != nil {
		return "", OIDCPending{}, fmt.Errorf("oidc start: %w", err)
	}
	// A PKCE verifier is 43 to 128 unreserved characters: 32 random bytes
	// in base64url are 43.
	verifier, err := randomToken()
	if err != nil {
		return "", OIDCPending{}, fmt.Errorf("oidc start: %w", err)
	}
	pending := OIDCPending{State: state, Nonce: nonce, Verifier: verifier, Next: next,
		Expires: o.opts.Now().UTC().Add(o.opts.PendingTTL)}
	u, err := o.provider.AuthCodeURL(ctx, state, nonce, verifier)
	if err != nil {
		o.refused(ctx, "", "provider unreachable: "+err.Error())
		return "", OIDCPending{}, &SSORefusal{Unavailable: true, Reason: err.Error(),
			Message: fmt.Sprintf("%s cannot be reached just now, so single sign-on is unavailable. Try again in a minute.", o.opts.Name)}
	}
	return u, pending, nil
}

// randomToken is 32 random bytes in base64url (43 characters).
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// emailVerified reads the email_verified claim: ok is false when the token
// has none. A value that is neither a boolean nor "true"/"false" (some
// providers send strings) counts as not verified.
func emailVerified(claims map[string]any) (verified, ok bool) {
	v, ok := claims["email_verified"]
	if !ok || v == nil {
		return false, false
	}
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		return strings.EqualFold(v, "true"), true
	}
	return false, true
}

// claimString is a claim's value when it is a string ("" otherwise).
func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// Finish completes a sign-in from the provider's callback. pending is the
// sign-in this browser started (nil when it has none: a replay, another
// browser, or one used already); the caller removes it from the session
// before calling, so it is used once whatever happens. Every refusal is an
// SSORefusal, audited, and changes nothing. While single sign-on is off,
// the error wraps ErrNotFound instead: there is no sign-in to refuse.
func (o *OIDC) Finish(ctx context.Context, pending *OIDCPending, cb OIDCCallback) (User, error) {
	if !o.Enabled() {
		return User{}, errOIDCOff
	}
	refuse := func(email, message, reason string) (User, error) {
		o.refused(ctx, email, reason)
		return User{}, &SSORefusal{Message: message, Reason: reason}
	}
	again := "Start again with “Sign in with " + o.opts.Name + "”."
	switch {
	case pending == nil:
		return refuse("", "This sign-in was not started in this browser, or its answer was used already. "+again,
			"callback without a pending sign-in in this session (replayed, or from another browser)")
	case subtle.ConstantTimeCompare([]byte(cb.State), []byte(pending.State)) != 1:
		return refuse("", "The answer from "+o.opts.Name+" does not belong to the sign-in this browser started. "+again,
			"state mismatch")
	case !o.opts.Now().Before(pending.Expires):
		return refuse("", "The sign-in took longer than "+durationWords(o.opts.PendingTTL)+". "+again,
			"pending sign-in expired")
	case cb.Error != "":
		desc := cb.ErrorDescription
		if len(desc) > 200 {
			desc = desc[:200]
		}
		msg := o.opts.Name + " did not sign you in"
		if cb.Error == "access_denied" {
			msg = o.opts.Name + " refused the sign-in (access denied)"
		}
		reason := "provider error " + strconv.Quote(cb.Error)
		if desc != "" {
			reason += ": " + strconv.Quote(desc)
		}
		return refuse("", msg+". "+again, reason)
	case cb.Code == "":
		return refuse("", "The answer from "+o.opts.Name+" holds no sign-in code. "+again, "callback without a code")
	}
	idt, err := o.provider.Exchange(ctx, cb.Code, pending.Verifier)
	var codeErr *OIDCCodeError
	var expired *OIDCExpiredError
	switch {
	case errors.Is(err, ErrOIDCUnreachable):
		o.refused(ctx, "", "provider unreachable: "+err.Error())
		return User{}, &SSORefusal{Unavailable: true, Reason: err.Error(),
			Message: o.opts.Name + " cannot be reached just now. " + again}
	case errors.As(err, &codeErr):
		return refuse("", o.opts.Name+" did not accept the sign-in code (it may have been used already). "+again, codeErr.Error())
	case errors.As(err, &expired):
		return refuse("", "The sign-in from "+o.opts.Name+" has expired. "+again, expired.Error())
	case err != nil:
		return refuse("", "The ID token from "+o.opts.Name+" could not be trusted (another issuer or client, or a bad signature). "+again, err.Error())
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pending.Nonce)) != 1 {
		return refuse("", "The ID token from "+o.opts.Name+" was made for another sign-in (its nonce does not match). "+again, "nonce mismatch")
	}
	all := idt.Claims
	email := normalizeEmail(claimString(all, "email"))
	v := validation{}
	validateEmail(v, "email", email)
	if v.err() != nil {
		return refuse("", o.opts.Name+" did not send a usable email address, which the console needs to know you. Ask your identity provider's admin to release the email claim.",
			"ID token without a valid email (subject "+strconv.Quote(idt.Subject)+")")
	}
	if verified, ok := emailVerified(all); ok && !verified {
		return refuse(email, o.opts.Name+" has not verified the email address "+email+", so the console cannot trust it. Verify it there first.",
			"email not verified")
	}
	values := claimValues(all, o.opts.Claim)
	mapping := MapRoles(o.opts.Rules, values)
	access, names, notes, err := o.access(ctx, mapping)
	if err != nil {
		return User{}, fmt.Errorf("oidc sign-in: %w", err)
	}
	if mapping.None() || (!access.All && len(access.Grants) == 0) {
		reason := fmt.Sprintf("claim %s maps to no role (values %s)", o.opts.Claim, quoteList(values))
		if len(notes) > 0 {
			reason += "; " + strings.Join(notes, "; ")
		}
		return refuse(email, "Your account at "+o.opts.Name+" is not in a group that has access to this console. Ask an admin of the console to map one of your groups to a role.", reason)
	}
	return o.signIn(ctx, ssoPerson{issuer: idt.Issuer, subject: idt.Subject, email: email, name: strings.TrimSpace(claimString(all, "name"))},
		ssoAccess{access: access, names: names, mapping: mapping, notes: notes})
}

// ssoPerson is who a verified ID token names.
type ssoPerson struct{ issuer, subject, email, name string }

// ssoAccess is the access a person's claim gives, with what explains it.
type ssoAccess struct {
	access  Access
	names   map[AccountID]string // the accounts' names, for the audit log
	mapping RoleMapping
	notes   []string // entries that matched but could not apply
}

// access turns a mapping into an access. A global entry wins: the person
// has every account with its role (Access cannot hold a role on every
// account and another on some), and higher per-account entries are noted
// as not applied. Without a global entry, each per-account entry names an
// account by name (any case) or id; one that names no account is noted and
// skipped.
func (o *OIDC) access(ctx context.Context, m RoleMapping) (Access, map[AccountID]string, []string, error) {
	accts, err := o.store.ListAccounts(ctx)
	if err != nil {
		return Access{}, nil, nil, err
	}
	names := map[AccountID]string{}
	for _, a := range accts {
		names[a.ID] = a.Name
	}
	var notes []string
	if m.Global != RoleNone {
		for acct, r := range m.Accounts {
			if r > m.Global {
				notes = append(notes, fmt.Sprintf("%s on %s not applied: a global entry gives %s on every account", r, acct, m.Global))
			}
		}
		slices.Sort(notes)
		return AllAccounts(m.Global), names, notes, nil
	}
	var grants []Grant
	for acct, r := range m.Accounts {
		i := slices.IndexFunc(accts, func(a Account) bool { return strings.EqualFold(a.Name, acct) || a.ID.String() == acct })
		if i < 0 {
			notes = append(notes, fmt.Sprintf("no Rackspace account is named %q", acct))
			continue
		}
		grants = append(grants, Grant{Account: accts[i].ID, Role: r})
	}
	slices.Sort(notes)
	return OnlyAccounts(grants...).normalized(), names, notes, nil
}

// signIn finds, links or creates the user of a verified identity and sets
// the role the mapping gives.
func (o *OIDC) signIn(ctx context.Context, p ssoPerson, a ssoAccess) (User, error) {
	issuer, subject, email := p.issuer, p.subject, p.email
	refuse := func(message, reason string) (User, error) {
		o.refused(ctx, email, reason)
		return User{}, &SSORefusal{Message: message, Reason: reason}
	}
	now := o.opts.Now().UTC()
	var u User
	id, err := o.store.UserIdentityBySubject(ctx, issuer, subject)
	switch {
	case err == nil:
		if u, err = o.store.User(ctx, id.UserID); err != nil {
			return User{}, fmt.Errorf("oidc sign-in: %w", err)
		}
	case errors.Is(err, ErrNotFound):
		u, err = o.store.UserByEmail(ctx, email)
		switch {
		case err == nil:
			if other, err := o.store.UserIdentityOf(ctx, u.ID, issuer); err == nil {
				return refuse("The console user "+email+" is linked to another account at "+o.opts.Name+". Ask an admin of the console.",
					fmt.Sprintf("subject %q differs from the linked subject %q", subject, other.Subject))
			} else if !errors.Is(err, ErrNotFound) {
				return User{}, fmt.Errorf("oidc sign-in: %w", err)
			}
			if u.Disabled {
				return refuse("The console user "+email+" is disabled. Ask an admin of the console.", "user disabled")
			}
			if err := o.store.CreateUserIdentity(ctx, UserIdentity{UserID: u.ID, Issuer: issuer, Subject: subject, Created: now}); err != nil {
				if errors.Is(err, ErrConflict) {
					return refuse("The console user "+email+" is linked to another account at "+o.opts.Name+". Ask an admin of the console.", "identity link conflict")
				}
				return User{}, fmt.Errorf("oidc sign-in: %w", err)
			}
			o.audit.Record(ctx, AuditEntry{Actor: SSOActor, Action: ActionSSOLink, Target: email, Outcome: OutcomeOK,
				Message: "linked to subject " + strconv.Quote(subject) + " at " + issuer})
		case errors.Is(err, ErrNotFound):
			if !o.opts.CreateUsers {
				return refuse("There is no console user for "+email+", and single sign-on does not create users here. Ask an admin of the console to invite you.",
					"no user for this email and user creation is off")
			}
			nu := User{Email: email, Name: p.name, TimeZone: "UTC", Created: now, Updated: now}.withAccess(a.access)
			if len([]rune(nu.Name)) > 100 {
				nu.Name = string([]rune(nu.Name)[:100])
			}
			u, err = o.store.CreateUserWithIdentity(ctx, nu, UserIdentity{Issuer: issuer, Subject: subject, Created: now})
			if errors.Is(err, ErrConflict) {
				return refuse("The console user "+email+" could not be created (it was created at the same moment). Try again.", "user creation conflict")
			}
			if err != nil {
				return User{}, fmt.Errorf("oidc sign-in: %w", err)
			}
			o.audit.Record(ctx, AuditEntry{Actor: SSOActor, Action: ActionSSOCreate, Target: email, Outcome: OutcomeOK,
				Message: "created by single sign-on: " + a.describe()})
		default:
			return User{}, fmt.Errorf("oidc sign-in: %w", err)
		}
	default:
		return User{}, fmt.Errorf("oidc sign-in: %w", err)
	}
	if u.Disabled {
		return refuse("The console user "+u.Email+" is disabled. Ask an admin of the console.", "user disabled")
	}
	if !u.Access().Equal(a.access) {
		var err error
		if u, err = o.setAccess(ctx, u, a); err != nil {
			return User{}, err
		}
	}
	o.audit.Record(ctx, AuditEntry{ActorID: u.ID, Actor: u.Email, Action: ActionSSOLogin, Outcome: OutcomeOK,
		Message: "signed in at " + issuer + ": " + u.Access().Describe(a.name)})
	return u, nil
}

func (a ssoAccess) name(id AccountID) string {
	if n, ok := a.names[id]; ok {
		return n
	}
	return "account " + id.String()
}

// describe says the access and the entries that gave it.
func (a ssoAccess) describe() string {
	s := a.access.Describe(a.name) + " (" + strings.Join(a.mapping.Matched, "; ") + ")"
	if len(a.notes) > 0 {
		s += "; " + strings.Join(a.notes, "; ")
	}
	return s
}

// setAccess gives u the access the claim maps to, ending the user's other
// sessions and tokens as any change of access does. The last enabled admin
// keeps Admin: a claim must not leave the console without an admin.
func (o *OIDC) setAccess(ctx context.Context, u User, a ssoAccess) (User, error) {
	old := u.Access()
	if u.Role == RoleAdmin && a.access.Top() != RoleAdmin && !u.Disabled {
		n, err := o.store.CountActiveAdmins(ctx)
		if err != nil {
			return User{}, fmt.Errorf("oidc sign-in: %w", err)
		}
		if n <= 1 {
			o.audit.Record(ctx, AuditEntry{Actor: SSOActor, Action: ActionUserAccess, Target: u.Email, Outcome: OutcomeFailed,
				Message: "kept Admin, the last admin's role: the claim gives " + a.describe()})
			return u, nil
		}
	}
	next := u.withAccess(a.access)
	next.Updated = o.opts.Now().UTC()
	if err := o.store.SetUserAccess(ctx, next, true); err != nil {
		return User{}, fmt.Errorf("oidc sign-in: %w", err)
	}
	o.audit.Record(ctx, AuditEntry{Actor: SSOActor, Action: ActionUserAccess, Target: u.Email, Outcome: OutcomeOK,
		Message: old.Describe(a.name) + " → " + a.access.Describe(a.name) + " from claim " + o.opts.Claim + " " + a.describe() + "; other sessions and tokens ended"})
	return next, nil
}

// refused audits a refused single sign-on. Refusals are counted on one row
// per client address (or email) and hour, so a flood cannot grow the log.
func (o *OIDC) refused(ctx context.Context, email, reason string) {
	actor, key := email, "email:"+email
	if actor == "" {
		actor = SSOActor
		key = "ip:" + ClientIP(ctx)
	}
	o.audit.Record(ctx, AuditEntry{Actor: actor, Action: ActionSSOLogin, Target: email, Outcome: OutcomeFailed, Message: reason,
		Aggregate: fmt.Sprintf("%s failed %s %d", ActionSSOLogin, key, o.opts.Now().Unix()/3600)})
}

// claimValues returns the string values of the claim at path (dots walk
// into objects, as in Keycloak's realm_access.roles): a list of strings, or
// one string.
func claimValues(claims map[string]any, path string) []string {
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func quoteList(values []string) string {
	if len(values) == 0 {
		return "none"
	}
	q := make([]string, 0, min(len(values), 20))
	for _, v := range values[:min(len(values), 20)] {
		q = append(q, strconv.Quote(v))
	}
	return strings.Join(q, ", ")
}

func durationWords(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

// ErrPasswordLoginOff is a password sign-in refused because password
// sign-in is off and the email is no break-glass admin's.
var ErrPasswordLoginOff = fmt.Errorf("password sign-in is off: %w", ErrUnauthorized)

// PasswordGate is password sign-in under the single sign-on policy.
type PasswordGate struct {
	o    *OIDC
	auth *Auth
}

// PasswordGate returns password sign-in through auth under the policy:
// with password sign-in off, only break-glass admins may use it.
func (o *OIDC) PasswordGate(auth *Auth) *PasswordGate { return &PasswordGate{o: o, auth: auth} }

// SignIn is Auth.SignIn, refused first (without checking the password) for
// an email that is not a break-glass admin's while password sign-in is off,
// and refused after it for a break-glass email whose user is not an admin.
func (g *PasswordGate) SignIn(ctx context.Context, r LoginRequest) (LoginResult, error) {
	if !g.o.opts.PasswordOff {
		return g.auth.SignIn(ctx, r)
	}
	email := normalizeEmail(r.Email)
	if len(email) > MaxLoginEmailLen || !g.o.breakGlass[email] {
		if len(email) > MaxLoginEmailLen {
			email = ""
		}
		g.o.audit.Record(ctx, AuditEntry{Actor: email, Action: ActionLogin, Target: email, Outcome: OutcomeFailed,
			Message:   "password sign-in is off and this is no break-glass admin",
			Aggregate: fmt.Sprintf("%s off %s %d", ActionLogin, ClientIP(ctx), g.o.opts.Now().Unix()/3600)})
		return LoginResult{}, ErrPasswordLoginOff
	}
	res, err := g.auth.SignIn(ctx, r)
	if err != nil {
		return LoginResult{}, err
	}
	if res.User.Role != RoleAdmin {
		g.o.audit.Record(ctx, AuditEntry{ActorID: res.User.ID, Actor: email, Action: ActionBreakGlass, Outcome: OutcomeFailed,
			Message: "listed as break-glass but not an admin"})
		return LoginResult{}, fmt.Errorf("break-glass sign-in by a %s: %w", res.User.Role, ErrUnauthorized)
	}
	g.o.audit.Record(ctx, AuditEntry{ActorID: res.User.ID, Actor: email, Action: ActionBreakGlass, Outcome: OutcomeOK,
		Message: "password sign-in while password sign-in is off"})
	return res, nil
}

// BreakGlass lists the break-glass admins' emails, sorted.
func (o *OIDC) BreakGlass() []string {
	out := make([]string, 0, len(o.breakGlass))
	for e := range o.breakGlass {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}
