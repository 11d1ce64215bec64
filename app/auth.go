package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// LoginFailedMessage is the one message every failed sign-in shows, so that
// it reveals neither which part was wrong nor whether an account exists.
const LoginFailedMessage = "Email or password is incorrect, or too many attempts; try again later."

// Session is a signed-in (or anonymous, flash-carrying) browser session as
// stored on the server. The browser holds only the random token; the store
// keeps its SHA-256, so a copy of the database cannot be replayed as cookies.
type Session struct {
	Hash     string // hex SHA-256 of the token
	UserID   UserID // 0 for an anonymous session
	Data     []byte // opaque to app: the HTTP layer's flashes and selections (JSON)
	Created  time.Time
	LastSeen time.Time
	Expires  time.Time // absolute expiry
}

// SessionStore is the persistence of sessions.
type SessionStore interface {
	// CreateSession inserts s.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with the hash; a missing one wraps ErrNotFound.
	Session(ctx context.Context, hash string) (Session, error)
	// UpdateSession writes s's data and last-seen time.
	UpdateSession(ctx context.Context, s Session) error
	// DeleteSession deletes one session (no error when it is already gone).
	DeleteSession(ctx context.Context, hash string) error
	// DeleteUserSessions deletes every session of the user.
	DeleteUserSessions(ctx context.Context, id UserID) error
	// DeleteExpiredSessions deletes sessions past their absolute expiry or idle since before idleSince.
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error)
}

// LoginAttempts counts recent failed sign-ins for one key (an email or an IP).
type LoginAttempts struct {
	Key          string // "email:alice@example.com" or "ip:203.0.113.9"
	Failures     int
	LastFailure  time.Time
	RefusedUntil time.Time
}

// ThrottleStore is the persistence of the sign-in throttle.
type ThrottleStore interface {
	// LoginAttempts returns the counter for key, a zero counter (with Key set) when there is none.
	LoginAttempts(ctx context.Context, key string) (LoginAttempts, error)
	// PutLoginAttempts writes the counter.
	PutLoginAttempts(ctx context.Context, a LoginAttempts) error
	// DeleteLoginAttempts removes the counter for key.
	DeleteLoginAttempts(ctx context.Context, key string) error
}

// AuthStore is everything Auth needs from the store.
type AuthStore interface {
	UserStore
	SessionStore
	ThrottleStore
}

// AuthConfig holds the session lifetimes and the throttle policy.
type AuthConfig struct {
	IdleTimeout     time.Duration // a session unused this long ends
	AbsoluteTimeout time.Duration // a session ends this long after sign-in regardless
	MaxFailures     int           // failures allowed before sign-in is refused for a while
	BaseDelay       time.Duration // the first refusal; doubles with each further failure
	MaxDelay        time.Duration
	FailureWindow   time.Duration // failures older than this are forgotten
	Password        PasswordParams
}

// DefaultAuthConfig returns 12 h idle and 7 d absolute session lifetimes, and
// a throttle that refuses sign-in for 30 s after 5 failures, doubling up to
// 1 h.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{
		IdleTimeout:     12 * time.Hour,
		AbsoluteTimeout: 7 * 24 * time.Hour,
		MaxFailures:     5,
		BaseDelay:       30 * time.Second,
		MaxDelay:        time.Hour,
		FailureWindow:   time.Hour,
		Password:        DefaultPasswordParams(),
	}
}

// Auth signs users in and out, throttles failed attempts, and keeps the
// server side of sessions.
type Auth struct {
	store     AuthStore
	audit     *Audit
	cfg       AuthConfig
	now       func() time.Time
	log       *slog.Logger
	dummyHash string // checked for unknown emails so their timing matches known ones
}

// NewAuth returns the auth service.
func NewAuth(store AuthStore, audit *Audit, cfg AuthConfig, now func() time.Time, log *slog.Logger) (*Auth, error) {
	dummy, err := HashPassword("not-a-real-password", cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("new auth: %w", err)
	}
	return &Auth{store: store, audit: audit, cfg: cfg, now: now, log: log, dummyHash: dummy}, nil
}

// Config returns the session and throttle settings.
func (a *Auth) Config() AuthConfig { return a.cfg }

// Login checks an email and password. Every failure, whatever its cause
// (unknown email, wrong password, disabled user, throttled), returns an error
// wrapping ErrUnauthorized with the same LoginFailedMessage. Failures are
// counted per email and per client IP (from ctx); after MaxFailures, sign-in
// is refused until a time that doubles with each further failure.
func (a *Auth) Login(ctx context.Context, email, password string) (User, error) {
	email = normalizeEmail(email)
	ip := ClientIP(ctx)
	keys := []string{"email:" + email}
	if ip != "" {
		keys = append(keys, "ip:"+ip)
	}
	now := a.now().UTC()
	counters := make([]LoginAttempts, 0, len(keys))
	for _, k := range keys {
		c, err := a.store.LoginAttempts(ctx, k)
		if err != nil {
			return User{}, fmt.Errorf("login: %w", err)
		}
		if now.Before(c.RefusedUntil) {
			kind, _, _ := strings.Cut(k, ":")
			a.audit.Record(ctx, AuditEntry{Actor: email, Action: ActionLogin, Outcome: OutcomeFailed, Message: "refused until " + c.RefusedUntil.Format(time.RFC3339) + ": too many failures for this " + kind})
			return User{}, fmt.Errorf("login: throttled: %w", ErrUnauthorized)
		}
		counters = append(counters, c)
	}

	u, err := a.store.UserByEmail(ctx, email)
	reason := ""
	switch {
	case errors.Is(err, ErrNotFound):
		CheckPassword(a.dummyHash, password)
		reason = "unknown email"
	case err != nil:
		return User{}, fmt.Errorf("login: %w", err)
	case !CheckPassword(u.PasswordHash, password):
		reason = "wrong password"
	case u.Disabled:
		reason = "user disabled"
	}
	if reason != "" {
		for _, c := range counters {
			if err := a.store.PutLoginAttempts(ctx, a.fail(c, now)); err != nil {
				return User{}, fmt.Errorf("login: %w", err)
			}
		}
		a.audit.Record(ctx, AuditEntry{ActorID: u.ID, Actor: email, Action: ActionLogin, Outcome: OutcomeFailed, Message: reason})
		return User{}, fmt.Errorf("login: %s: %w", reason, ErrUnauthorized)
	}
	// Success clears the account's counter. The IP counter is left to expire:
	// one valid account must not reset an attacker's budget for the others.
	if err := a.store.DeleteLoginAttempts(ctx, keys[0]); err != nil {
		return User{}, fmt.Errorf("login: %w", err)
	}
	a.audit.Record(ctx, AuditEntry{ActorID: u.ID, Actor: u.Email, Action: ActionLogin, Outcome: OutcomeOK})
	return u, nil
}

// fail counts one more failure on c and computes the refusal.
func (a *Auth) fail(c LoginAttempts, now time.Time) LoginAttempts {
	if !c.LastFailure.IsZero() && now.Sub(c.LastFailure) > a.cfg.FailureWindow {
		c.Failures = 0
	}
	c.Failures++
	c.LastFailure = now
	if c.Failures >= a.cfg.MaxFailures {
		delay := a.cfg.BaseDelay
		for i := a.cfg.MaxFailures; i < c.Failures && delay < a.cfg.MaxDelay; i++ {
			delay *= 2
		}
		c.RefusedUntil = now.Add(min(delay, a.cfg.MaxDelay))
	}
	return c
}

// NewSessionToken returns a fresh random session token (256 bits).
func NewSessionToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the stored form of a session token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession stores a new session for token. userID is 0 for an anonymous
// session that only carries flash messages.
func (a *Auth) CreateSession(ctx context.Context, token string, userID UserID, data []byte) (Session, error) {
	now := a.now().UTC()
	s := Session{Hash: HashToken(token), UserID: userID, Data: data, Created: now, LastSeen: now, Expires: now.Add(a.cfg.AbsoluteTimeout)}
	if err := a.store.CreateSession(ctx, s); err != nil {
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	return s, nil
}

// Session returns the live session for token. An unknown, idle or expired
// session wraps ErrNotFound (and an expired one is deleted). Its last-seen
// time is refreshed at most once a minute to keep writes rare.
func (a *Auth) Session(ctx context.Context, token string) (Session, error) {
	hash := HashToken(token)
	s, err := a.store.Session(ctx, hash)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	now := a.now().UTC()
	if !now.Before(s.Expires) || now.Sub(s.LastSeen) >= a.cfg.IdleTimeout {
		if err := a.store.DeleteSession(ctx, hash); err != nil {
			return Session{}, fmt.Errorf("session: %w", err)
		}
		return Session{}, fmt.Errorf("session: expired: %w", ErrNotFound)
	}
	if now.Sub(s.LastSeen) >= time.Minute {
		s.LastSeen = now
		if err := a.store.UpdateSession(ctx, s); err != nil {
			return Session{}, fmt.Errorf("session: %w", err)
		}
	}
	return s, nil
}

// SaveSession writes the session's data.
func (a *Auth) SaveSession(ctx context.Context, token string, data []byte) error {
	s, err := a.store.Session(ctx, HashToken(token))
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	s.Data = data
	s.LastSeen = a.now().UTC()
	if err := a.store.UpdateSession(ctx, s); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// EndSession deletes the session for token.
func (a *Auth) EndSession(ctx context.Context, token string) error {
	if err := a.store.DeleteSession(ctx, HashToken(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Logout ends the user's current session and records it.
func (a *Auth) Logout(ctx context.Context, actor User, token string) error {
	if err := a.EndSession(ctx, token); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionLogout, actor.Email, err))
		return fmt.Errorf("logout: %w", err)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionLogout, actor.Email, nil))
	return nil
}

// SignOutEverywhere ends every session of the user, this one included.
func (a *Auth) SignOutEverywhere(ctx context.Context, actor User) error {
	if err := a.store.DeleteUserSessions(ctx, actor.ID); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionSignOutEverywhere, actor.Email, err))
		return fmt.Errorf("sign out everywhere: %w", err)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionSignOutEverywhere, actor.Email, nil))
	return nil
}

// PruneSessions deletes expired and idle sessions; run it now and then.
func (a *Auth) PruneSessions(ctx context.Context) (int64, error) {
	now := a.now().UTC()
	n, err := a.store.DeleteExpiredSessions(ctx, now, now.Add(-a.cfg.IdleTimeout))
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return n, nil
}
