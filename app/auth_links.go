package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Audit actions of invitations and one-time links.
const (
	ActionUserInvite    AuditAction = "user.invite"
	ActionUserResetLink AuditAction = "user.reset_link"
	ActionLinkUsed      AuditAction = "user.link_used"
	ActionLinkRefused   AuditAction = "user.link_refused"
)

// LinkActorOperator is the audit log's actor of a reset link printed at the
// console (rcbu-web reset-admin): whoever can run the binary against the
// database.
const LinkActorOperator = "console operator"

// DefaultLinkTTL is how long an invitation or reset link works.
const DefaultLinkTTL = 72 * time.Hour

// LinkPath starts the path of every one-time link; the token follows.
const LinkPath = "/password/"

// LinkKind says what a one-time link is for.
type LinkKind string

// The link kinds.
const (
	LinkInvite LinkKind = "invite" // a new user sets their first password
	LinkReset  LinkKind = "reset"  // a user sets a new password
)

// UserLinkID identifies a one-time link.
type UserLinkID int64

// UserLink is a one-time link as stored: only the hash of its token is
// kept, so a copy of the database opens nothing.
type UserLink struct {
	ID        UserLinkID
	UserID    UserID
	Kind      LinkKind
	Hash      string // hex SHA-256 of the token
	CreatedBy string // the admin's email, or LinkActorOperator
	Created   time.Time
	Expires   time.Time
	Used      time.Time // zero: not used yet
}

// LinkStore is the persistence Links needs.
type LinkStore interface {
	UserStore
	// CreateUserLink deletes the user's other links and inserts l, so that
	// only the newest link of a user works, and returns it with its id.
	CreateUserLink(ctx context.Context, l UserLink) (UserLink, error)
	// UserLinkByHash returns the link with the hash; a missing one wraps ErrNotFound.
	UserLinkByHash(ctx context.Context, hash string) (UserLink, error)
	// UseUserLink, in one transaction, marks the link used, sets the user's
	// password hash (clearing must-change-password), and deletes the user's
	// sessions, personal access tokens and other links. A link that was used
	// meanwhile wraps ErrConflict and changes nothing.
	UseUserLink(ctx context.Context, id UserLinkID, user UserID, passwordHash string, at time.Time) error
}

// LinkMailer sends a message to one address through the email channel the
// console has, if any; *Alerts is one. via names the channel used, and is
// empty (with a nil error) when there is no email channel.
type LinkMailer interface {
	MailUser(ctx context.Context, to, subject, text string) (via string, err error)
}

// LinkOptions configures Links; zero values take the defaults.
type LinkOptions struct {
	TTL time.Duration // default DefaultLinkTTL
	Now func() time.Time
	Log *slog.Logger
}

// Links makes and honours one-time links: an admin's invitation (the user
// is created without a password and sets one through the link), an admin's
// reset link, and the console operator's reset link for an admin. A link is
// shown once, works once and until it expires, and setting a password
// through it ends every session and personal access token of the user.
type Links struct {
	store  LinkStore
	audit  *Audit
	mailer LinkMailer // nil: links are only shown
	params PasswordParams
	opts   LinkOptions
}

// NewLinks returns the link service; mailer may be nil.
func NewLinks(store LinkStore, audit *Audit, mailer LinkMailer, params PasswordParams, opts LinkOptions) *Links {
	orDefault(&opts.TTL, DefaultLinkTTL)
	clockAndLog(&opts.Now, &opts.Log)
	return &Links{store: store, audit: audit, mailer: mailer, params: params, opts: opts}
}

// TTL is how long a new link works.
func (l *Links) TTL() time.Duration { return l.opts.TTL }

// InviteRequest is an admin's invitation.
type InviteRequest struct {
	Email string
	Name  string
	Role  string // a Role name: the role on every account
	// AccountsOnly invites to the accounts of Grants only, each with its
	// role (see Access); Role is then not used.
	AccountsOnly bool
	Grants       []Grant
}

// access returns the access the invitation gives, adding what is wrong
// with it to v.
func (r InviteRequest) access(ctx context.Context, store accountGetter, v validation, role Role) (Access, map[AccountID]string, error) {
	a := AllAccounts(role)
	if r.AccountsOnly {
		a = OnlyAccounts(r.Grants...)
	} else if role == RoleNone {
		return a, nil, nil // checkNewUser said so already
	}
	a, names, err := checkAccess(ctx, store, a)
	var ve *ValidationError
	if errors.As(err, &ve) {
		for f, m := range ve.Fields {
			v.add(f, m)
		}
		return a, names, nil
	}
	return a, names, err
}

// IssuedLink is a link just made: its URL is shown once and never again.
type IssuedLink struct {
	User    User
	Kind    LinkKind
	URL     string
	Expires time.Time
	// MailedVia names the email channel the link was sent through; empty
	// when it was not sent (no channel, or MailError).
	MailedVia string
	// MailError says in words why sending failed; the link still works.
	MailError string
}

// LinkRefusedError is a link that cannot be used, with the reason in words.
// It wraps ErrInvalid.
type LinkRefusedError struct {
	Reason string
}

func (e *LinkRefusedError) Error() string { return "link refused: " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *LinkRefusedError) Unwrap() error { return ErrInvalid }

// The reasons a link is refused.
const (
	linkUnknown  = "This link is not valid. Check that it was copied whole, or ask an admin for a new one."
	linkUsed     = "This link was already used. Sign in with the password you set, or ask an admin for a new link."
	linkExpired  = "This link has expired. Ask an admin for a new one."
	linkDisabled = "This user is disabled. Ask an admin."
)

// Invite creates a user without a password and a link for them to set one
// (Admins only). The link goes out by email when the console has an email
// channel; either way the admin sees it once.
func (l *Links) Invite(ctx context.Context, actor User, req InviteRequest, baseURL string) (IssuedLink, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return IssuedLink{}, fmt.Errorf("invite: %w", ErrForbidden)
	}
	v := validation{}
	roleName := req.Role
	if req.AccountsOnly {
		roleName = RoleObserver.String() // each grant carries its own
	}
	email, name, role := checkNewUser(v, req.Email, req.Name, roleName)
	access, names, err := req.access(ctx, l.store, v, role)
	if err != nil {
		return IssuedLink{}, fmt.Errorf("invite: %w", err)
	}
	if err := v.err(); err != nil {
		return IssuedLink{}, fmt.Errorf("invite: %w", err)
	}
	now := l.opts.Now().UTC()
	u, err := l.store.CreateUser(ctx, User{Email: email, Name: name, TimeZone: "UTC", Created: now, Updated: now}.withAccess(access))
	if errors.Is(err, ErrConflict) {
		return IssuedLink{}, fmt.Errorf("invite: %w", Invalid("email", "A user with this email already exists."))
	}
	if err != nil {
		l.audit.Record(ctx, actorEntry(actor, ActionUserInvite, email, err))
		return IssuedLink{}, fmt.Errorf("invite: %w", err)
	}
	out, err := l.issue(ctx, u, LinkInvite, actor.Email, baseURL)
	if err != nil {
		l.audit.Record(ctx, actorEntry(actor, ActionUserInvite, email, err))
		return IssuedLink{}, fmt.Errorf("invite: %w", err)
	}
	l.mail(ctx, &out)
	l.audit.Record(ctx, actorEntry(actor, ActionUserInvite, email, nil, access.Describe(func(id AccountID) string { return names[id] }), mailDetail(out)))
	return out, nil
}

// ResetLink makes a new link for a user (Admins only): an invitation again
// for a user who never set a password, else a reset. It replaces the user's
// earlier links; the password stays as it is until the link is used.
func (l *Links) ResetLink(ctx context.Context, actor User, id UserID, baseURL string) (IssuedLink, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return IssuedLink{}, fmt.Errorf("reset link: %w", ErrForbidden)
	}
	u, err := l.store.User(ctx, id)
	if err != nil {
		return IssuedLink{}, fmt.Errorf("reset link: %w", err)
	}
	if u.Disabled {
		err := Invalid("", "This user is disabled. Enable them first.")
		l.audit.Record(ctx, actorEntry(actor, ActionUserResetLink, u.Email, err))
		return IssuedLink{}, fmt.Errorf("reset link: %w", err)
	}
	kind := LinkReset
	if u.Invited() {
		kind = LinkInvite
	}
	out, err := l.issue(ctx, u, kind, actor.Email, baseURL)
	if err != nil {
		l.audit.Record(ctx, actorEntry(actor, ActionUserResetLink, u.Email, err))
		return IssuedLink{}, fmt.Errorf("reset link: %w", err)
	}
	l.mail(ctx, &out)
	l.audit.Record(ctx, actorEntry(actor, ActionUserResetLink, u.Email, nil, string(kind), mailDetail(out)))
	return out, nil
}

// OperatorResetLink makes a reset link for an enabled admin, for the
// operator at the console (rcbu-web reset-admin) who has lost the way in.
// It is printed, not mailed.
func (l *Links) OperatorResetLink(ctx context.Context, email, baseURL string) (IssuedLink, error) {
	email = normalizeEmail(email)
	entry := AuditEntry{Actor: LinkActorOperator, Action: ActionUserResetLink, Target: email, Outcome: OutcomeFailed}
	u, err := l.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		err = fmt.Errorf("no user has the email %q", email)
	case err != nil:
	case u.Role != RoleAdmin:
		err = fmt.Errorf("%s is not an admin; an admin can make their link under Admin → Users", email)
	case u.Disabled:
		err = fmt.Errorf("%s is disabled", email)
	}
	if err != nil {
		entry.Message = AuditMessage(err)
		l.audit.Record(ctx, entry)
		return IssuedLink{}, fmt.Errorf("reset admin: %w", err)
	}
	out, err := l.issue(ctx, u, LinkReset, LinkActorOperator, baseURL)
	if err != nil {
		entry.Message = AuditMessage(err)
		l.audit.Record(ctx, entry)
		return IssuedLink{}, fmt.Errorf("reset admin: %w", err)
	}
	entry.Outcome, entry.Message = OutcomeOK, "reset link printed at the console"
	l.audit.Record(ctx, entry)
	return out, nil
}

// issue stores a new link of the kind for u and returns it with its URL.
func (l *Links) issue(ctx context.Context, u User, kind LinkKind, by, baseURL string) (IssuedLink, error) {
	base, err := linkBase(baseURL)
	if err != nil {
		return IssuedLink{}, err
	}
	token, err := NewSessionToken() // the same 256 random bits, base64url
	if err != nil {
		return IssuedLink{}, err
	}
	now := l.opts.Now().UTC()
	link := UserLink{UserID: u.ID, Kind: kind, Hash: HashToken(token), CreatedBy: by, Created: now, Expires: now.Add(l.opts.TTL)}
	if _, err := l.store.CreateUserLink(ctx, link); err != nil {
		return IssuedLink{}, err
	}
	return IssuedLink{User: u, Kind: kind, URL: base + LinkPath + token, Expires: link.Expires}, nil
}

// mail sends the link to its user when a mailer is set. A failure is kept
// in words on the link (and logged), never an error: the admin still has
// the link to pass on.
func (l *Links) mail(ctx context.Context, out *IssuedLink) {
	if l.mailer == nil {
		return
	}
	subject, text := linkMail(*out)
	via, err := l.mailer.MailUser(ctx, out.User.Email, subject, text)
	if err != nil {
		l.opts.Log.WarnContext(ctx, "link_mail_failed", slog.Int64("user_id", int64(out.User.ID)), slog.Any("err", err))
		out.MailError = "The email could not be sent (" + err.Error() + "). Copy the link instead."
		return
	}
	out.MailedVia = via
}

// linkMail is the email carrying a link.
func linkMail(out IssuedLink) (subject, text string) {
	expires := out.Expires.UTC().Format("2006-01-02 15:04 MST")
	if out.Kind == LinkInvite {
		return "You are invited to RCBU Console",
			"You have been invited to RCBU Console as " + out.User.Role.Label() + ". Open this link to set your password:\n\n" +
				out.URL + "\n\nThe link works once, until " + expires + "."
	}
	return "Set a new password for RCBU Console",
		"Open this link to set a new password for " + out.User.Email + ":\n\n" + out.URL +
			"\n\nThe link works once, until " + expires + ". If you did not ask for it, tell your admin."
}

func mailDetail(out IssuedLink) string {
	switch {
	case out.MailedVia != "":
		return "sent by email through " + out.MailedVia
	case out.MailError != "":
		return "email failed; link shown"
	default:
		return "link shown"
	}
}

// linkBase checks the console's address that links start with: http or
// https, a host, no query. It returns it without a trailing slash.
func linkBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("the console's address %q is not an http(s) URL", raw)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// linkTokenLen is the length of a link's token: 32 random bytes, base64url
// (NewSessionToken).
const linkTokenLen = 43

// linkHash is the stored form of a link token; junk that cannot be a token
// gets "" (and no database read).
func linkHash(token string) string {
	if len(token) != linkTokenLen {
		return ""
	}
	for _, r := range token {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return HashToken(token)
}

// OpenLink is what the page of a usable link shows.
type OpenLink struct {
	Kind    LinkKind
	Email   string
	Expires time.Time
}

// Open checks a link for its page. A link that cannot be used is a
// *LinkRefusedError saying why, audited; it changes nothing.
func (l *Links) Open(ctx context.Context, token string) (OpenLink, error) {
	link, u, err := l.usable(ctx, token)
	if err != nil {
		return OpenLink{}, fmt.Errorf("open link: %w", err)
	}
	return OpenLink{Kind: link.Kind, Email: u.Email, Expires: link.Expires}, nil
}

// SetPasswordRequest is the form of a link's page.
type SetPasswordRequest struct {
	Password string
	Confirm  string
}

// Use sets the user's password through the link: once, before it expires.
// It ends every session and personal access token of the user and returns
// the user. A refused link is a *LinkRefusedError and changes nothing; bad
// input is a *ValidationError and keeps the link usable.
func (l *Links) Use(ctx context.Context, token string, req SetPasswordRequest) (User, error) {
	link, u, err := l.usable(ctx, token)
	if err != nil {
		return User{}, fmt.Errorf("use link: %w", err)
	}
	v := validation{}
	validatePassword(v, "password", req.Password)
	if req.Password != req.Confirm {
		v.add("confirm_password", "The two passwords differ.")
	}
	if err := v.err(); err != nil {
		return User{}, fmt.Errorf("use link: %w", err)
	}
	hash, err := HashPassword(req.Password, l.params)
	if err != nil {
		return User{}, fmt.Errorf("use link: %w", err)
	}
	now := l.opts.Now().UTC()
	err = l.store.UseUserLink(ctx, link.ID, u.ID, hash, now)
	if errors.Is(err, ErrConflict) {
		// Another request used it first.
		return User{}, fmt.Errorf("use link: %w", l.refuse(ctx, u.Email, link.Kind, linkUsed))
	}
	entry := AuditEntry{ActorID: u.ID, Actor: u.Email, Action: ActionLinkUsed, Target: u.Email, Outcome: OutcomeOK, Message: string(link.Kind) + " link: password set"}
	if err != nil {
		entry.Outcome, entry.Message = OutcomeFailed, AuditMessage(err)
		l.audit.Record(ctx, entry)
		return User{}, fmt.Errorf("use link: %w", err)
	}
	l.audit.Record(ctx, entry)
	u.PasswordHash, u.MustChangePassword = hash, false
	return u, nil
}

// usable returns the link of the token and its user, or refuses it.
func (l *Links) usable(ctx context.Context, token string) (UserLink, User, error) {
	hash := linkHash(token)
	if hash == "" {
		return UserLink{}, User{}, l.refuse(ctx, "", "", linkUnknown)
	}
	link, err := l.store.UserLinkByHash(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return UserLink{}, User{}, l.refuse(ctx, "", "", linkUnknown)
	}
	if err != nil {
		return UserLink{}, User{}, err
	}
	u, err := l.store.User(ctx, link.UserID)
	if errors.Is(err, ErrNotFound) {
		return UserLink{}, User{}, l.refuse(ctx, "", link.Kind, linkUnknown)
	}
	if err != nil {
		return UserLink{}, User{}, err
	}
	switch {
	case !link.Used.IsZero():
		return UserLink{}, User{}, l.refuse(ctx, u.Email, link.Kind, linkUsed)
	case !l.opts.Now().Before(link.Expires):
		return UserLink{}, User{}, l.refuse(ctx, u.Email, link.Kind, linkExpired)
	case u.Disabled:
		return UserLink{}, User{}, l.refuse(ctx, u.Email, link.Kind, linkDisabled)
	}
	return link, u, nil
}

// refuse records a refused link and returns the refusal. Refusals of
// unknown links are counted on one row per hour and client address, so
// that guessing cannot flood the log.
func (l *Links) refuse(ctx context.Context, email string, kind LinkKind, reason string) error {
	e := AuditEntry{Actor: email, Action: ActionLinkRefused, Target: email, Outcome: OutcomeFailed, Message: reason}
	if kind != "" {
		e.Message = string(kind) + " link: " + reason
	}
	if email == "" {
		e.Actor, e.Target = "anonymous", "unknown link"
		e.Aggregate = "link-refused:" + strconv.FormatInt(l.opts.Now().Unix()/3600, 10)
	}
	l.audit.Record(ctx, e)
	return &LinkRefusedError{Reason: reason}
}
