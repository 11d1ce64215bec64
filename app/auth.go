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
	"runtime"
	"strconv"
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

// LoginAttempts counts recent sign-in attempts for one key (an email, an IP
// or a known device). Every attempt is counted before its password is
// checked, so concurrent guesses cannot all slip in under the limit; a
// successful sign-in takes its own attempt back.
type LoginAttempts struct {
	Key          string // "email:alice@example.com", "ip:203.0.113.9" or "device:<id>"
	Failures     int
	LastFailure  time.Time
	RefusedUntil time.Time
}

// ThrottleStore is the persistence of the sign-in throttle.
type ThrottleStore interface {
	// LoginAttempts returns the counter for key, a zero counter (with Key set) when there is none.
	LoginAttempts(ctx context.Context, key string) (LoginAttempts, error)
	// UpdateLoginAttempts reads the counters of keys (zero counters with Key
	// set when absent), passes them to fn and writes back what fn returns,
	// all in one transaction that concurrent attempts sharing a key wait
	// for, so that they are serialised. A returned counter with no
	// failures is deleted.
	UpdateLoginAttempts(ctx context.Context, keys []string, fn func([]LoginAttempts) []LoginAttempts) error
}

// AuthStore is everything Auth needs from the store.
type AuthStore interface {
	UserStore
	SessionStore
	ThrottleStore
}

// Bounds on sign-in input, checked before anything else so that an
// anonymous request can make the server neither hash nor store much.
const (
	// MaxLoginEmailLen is the longest email address (RFC 5321's path limit).
	MaxLoginEmailLen = 254
	// MaxLoginPasswordLen is the longest password a sign-in will hash.
	MaxLoginPasswordLen = 1024
)

// AuthConfig holds the session lifetimes and the throttle policy.
type AuthConfig struct {
	IdleTimeout     time.Duration // a session unused this long ends
	AbsoluteTimeout time.Duration // a session ends this long after sign-in regardless
	MaxFailures     int           // attempts allowed before each further one waits
	BaseDelay       time.Duration // the first wait; doubles with each further failure
	MaxDelay        time.Duration // the longest wait: a delay, never a lock
	FailureWindow   time.Duration // failures older than this are forgotten
	Password        PasswordParams
	// HashSlots bounds how many password checks run at once (each takes
	// Password.Memory); 0 is one per CPU.
	HashSlots int
	// HashWait is how long an attempt waits for a free slot before it gets
	// the generic "try again".
	HashWait time.Duration
	// DeviceKey signs the device cookies of browsers that signed in before
	// (at least 32 bytes, derived from the app secret).
	DeviceKey []byte
	// DeviceLifetime is how long a device cookie is honoured.
	DeviceLifetime time.Duration
}

// DefaultAuthConfig returns 12 h idle and 7 d absolute session lifetimes, and
// a throttle that makes each attempt after 5 failures wait 30 s, doubling up
// to 15 min; password checks run one per CPU and wait at most 2 s for a
// slot. DeviceKey must still be set.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{
		IdleTimeout:     12 * time.Hour,
		AbsoluteTimeout: 7 * 24 * time.Hour,
		MaxFailures:     5,
		BaseDelay:       30 * time.Second,
		MaxDelay:        15 * time.Minute,
		FailureWindow:   time.Hour,
		Password:        DefaultPasswordParams(),
		HashWait:        2 * time.Second,
		DeviceLifetime:  365 * 24 * time.Hour,
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
	dummyHash string        // checked for unknown emails so their timing matches known ones
	hashSlots chan struct{} // one token per password check allowed to run
	// sessions are the sessions last read, by token hash, served while
	// the store is unavailable (never past their expiry, never once
	// ended here).
	sessions *lastGood[string, Session]
}

// NewAuth returns the auth service.
func NewAuth(store AuthStore, audit *Audit, cfg AuthConfig, now func() time.Time, log *slog.Logger) (*Auth, error) {
	if len(cfg.DeviceKey) < 32 {
		return nil, errors.New("new auth: device key shorter than 32 bytes")
	}
	if cfg.HashSlots <= 0 {
		cfg.HashSlots = runtime.NumCPU()
	}
	dummy, err := HashPassword("not-a-real-password", cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("new auth: %w", err)
	}
	return &Auth{store: store, audit: audit, cfg: cfg, now: now, log: log, dummyHash: dummy,
		hashSlots: make(chan struct{}, cfg.HashSlots), sessions: newLastGood[string, Session](now)}, nil
}

// Config returns the session and throttle settings.
func (a *Auth) Config() AuthConfig { return a.cfg }

// LoginRequest is one sign-in attempt.
type LoginRequest struct {
	Email, Password string
	// Device is the device cookie the browser sent ("" for none): a browser
	// that signed in as this user before is throttled on its own, so
	// failures from elsewhere cannot keep the user out.
	Device string
}

// LoginResult is a successful sign-in: the user, and the device cookie to
// (re)set in the browser.
type LoginResult struct {
	User   User
	Device string
}

// Login checks an email and password from an unknown device; see SignIn.
func (a *Auth) Login(ctx context.Context, email, password string) (User, error) {
	r, err := a.SignIn(ctx, LoginRequest{Email: email, Password: password})
	return r.User, err
}

// SignIn checks an email and password. Every failure, whatever its cause
// (unknown email, wrong password, disabled user, throttled, busy), returns
// an error wrapping ErrUnauthorized with the same LoginFailedMessage.
//
// Each attempt is counted, in one transaction, before the password is
// checked: per email and per client IP (from ctx), or, from a device that
// signed in as this user before, per device only. After MaxFailures, each
// further attempt on a key must wait a delay that doubles up to MaxDelay.
// At most HashSlots password checks run at once.
func (a *Auth) SignIn(ctx context.Context, r LoginRequest) (LoginResult, error) {
	// Bounds first: an over-long attempt costs neither a hash nor a row.
	if len(strings.TrimSpace(r.Email)) > MaxLoginEmailLen || len(r.Password) > MaxLoginPasswordLen {
		return LoginResult{}, fmt.Errorf("login: input too long: %w", ErrUnauthorized)
	}
	email := normalizeEmail(r.Email)
	u, err := a.store.UserByEmail(ctx, email)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	now := a.now().UTC()
	var keys []string
	if dev, ok := a.verifyDevice(r.Device, now); ok && known && dev.user == u.ID {
		keys = []string{"device:" + dev.id}
	} else {
		keys = []string{"email:" + email}
		if ip := ClientIP(ctx); ip != "" {
			keys = append(keys, "ip:"+ip)
		}
	}
	allowed, refusedBy, err := a.charge(ctx, keys, now)
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	if !allowed {
		a.audit.Record(ctx, a.failureEntry(ctx, u, known, email, "refused: too many failures for this "+refusedBy, now))
		return LoginResult{}, fmt.Errorf("login: throttled: %w", ErrUnauthorized)
	}

	hash := a.dummyHash
	if known {
		hash = u.PasswordHash
	}
	match, err := a.checkPassword(ctx, hash, r.Password)
	reason := ""
	switch {
	case err != nil:
		reason = "busy: " + err.Error()
	case !known:
		reason = "unknown email"
	case !match:
		reason = "wrong password"
	case u.Disabled:
		reason = "user disabled"
	}
	if reason != "" {
		a.audit.Record(ctx, a.failureEntry(ctx, u, known, email, reason, now))
		return LoginResult{}, fmt.Errorf("login: %s: %w", reason, ErrUnauthorized)
	}
	if err := a.succeed(ctx, keys); err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	device, err := a.newDevice(u.ID, now)
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	a.audit.Record(ctx, AuditEntry{ActorID: u.ID, Actor: u.Email, Action: ActionLogin, Outcome: OutcomeOK})
	return LoginResult{User: u, Device: device}, nil
}

// failureEntry is the audit entry of a failed or refused attempt. Failures
// are counted on one row per account (for an unknown email, per client
// address) and failure window, so a flood of attempts adds a count, not rows.
func (a *Auth) failureEntry(ctx context.Context, u User, known bool, email, reason string, now time.Time) AuditEntry {
	key := "ip:" + ClientIP(ctx)
	switch {
	case known:
		key = "user:" + strconv.FormatInt(int64(u.ID), 10)
	case ClientIP(ctx) == "":
		key = "email:" + email
	}
	window := now.Unix() / max(int64(a.cfg.FailureWindow/time.Second), 1)
	return AuditEntry{ActorID: u.ID, Actor: email, Action: ActionLogin, Outcome: OutcomeFailed, Message: reason,
		Aggregate: fmt.Sprintf("%s failed %s %d", ActionLogin, key, window)}
}

// charge counts one attempt on every key, atomically. The attempt is allowed
// when no key is waiting out a delay; an allowed attempt that reaches
// MaxFailures starts the next delay at once, so attempts racing it are
// refused without a hash. refusedBy names the kind of key that refused.
func (a *Auth) charge(ctx context.Context, keys []string, now time.Time) (allowed bool, refusedBy string, err error) {
	err = a.store.UpdateLoginAttempts(ctx, keys, func(cs []LoginAttempts) []LoginAttempts {
		allowed, refusedBy = true, ""
		for _, c := range cs {
			if now.Before(c.RefusedUntil) {
				allowed = false
				refusedBy, _, _ = strings.Cut(c.Key, ":")
				break
			}
		}
		for i, c := range cs {
			if !c.LastFailure.IsZero() && now.Sub(c.LastFailure) > a.cfg.FailureWindow {
				c.Failures, c.RefusedUntil = 0, time.Time{}
			}
			c.Failures++
			c.LastFailure = now
			if allowed && c.Failures >= a.cfg.MaxFailures {
				c.RefusedUntil = now.Add(a.delay(c.Failures))
			}
			cs[i] = c
		}
		return cs
	})
	return allowed, refusedBy, err
}

// succeed takes back the attempt a successful sign-in was charged. The
// account's (or device's) counter is cleared; the IP's only loses this
// attempt: one valid account must not reset an attacker's budget for the
// others.
func (a *Auth) succeed(ctx context.Context, keys []string) error {
	return a.store.UpdateLoginAttempts(ctx, keys, func(cs []LoginAttempts) []LoginAttempts {
		for i, c := range cs {
			if !strings.HasPrefix(c.Key, "ip:") {
				cs[i] = LoginAttempts{Key: c.Key}
				continue
			}
			c.Failures = max(c.Failures-1, 0)
			if c.Failures < a.cfg.MaxFailures {
				c.RefusedUntil = time.Time{}
			}
			cs[i] = c
		}
		return cs
	})
}

// delay is the wait after the given number of failures.
func (a *Auth) delay(failures int) time.Duration {
	d := a.cfg.BaseDelay
	for i := a.cfg.MaxFailures; i < failures && d < a.cfg.MaxDelay; i++ {
		d *= 2
	}
	return min(d, a.cfg.MaxDelay)
}

// errBusy says every password-check slot stayed taken for HashWait.
var errBusy = errors.New("every password check slot is busy")

// checkPassword runs CheckPassword in one of the bounded slots, waiting at
// most HashWait for one: argon2 takes Password.Memory per check, and a
// burst of sign-ins must not take the process's memory with it.
func (a *Auth) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	t := time.NewTimer(a.cfg.HashWait)
	defer t.Stop()
	select {
	case a.hashSlots <- struct{}{}:
	case <-t.C:
		return false, errBusy
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.hashSlots }()
	return CheckPassword(hash, password), nil
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
	s, err = a.sessions.read(ctx, hash, s, err)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	now := a.now().UTC()
	if !now.Before(s.Expires) || now.Sub(s.LastSeen) >= a.cfg.IdleTimeout {
		a.sessions.forget(hash)
		// With the store away the row stays until the next prune; the
		// session has ended all the same.
		if err := a.store.DeleteSession(ctx, hash); err != nil && !errors.Is(err, ErrUnavailable) {
			return Session{}, fmt.Errorf("session: %w", err)
		}
		return Session{}, fmt.Errorf("session: expired: %w", ErrNotFound)
	}
	if now.Sub(s.LastSeen) >= time.Minute {
		s.LastSeen = now
		// A touch the store cannot take while it is away is skipped: the
		// session stays usable, and the next touch records it.
		if err := a.store.UpdateSession(ctx, s); err != nil {
			if !errors.Is(err, ErrUnavailable) {
				return Session{}, fmt.Errorf("session: %w", err)
			}
			noteStoreAway(ctx)
		}
	}
	return s, nil
}

// forgetUser drops the last good reads of the user's sessions: they were
// ended, here or on another replica.
func (a *Auth) forgetUser(id UserID) {
	a.sessions.forgetIf(func(s Session) bool { return s.UserID == id })
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
	a.sessions.forget(HashToken(token))
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

// SignOutEverywhere ends every session of the user, this one included, and
// revokes the user's personal access tokens.
func (a *Auth) SignOutEverywhere(ctx context.Context, actor User) error {
	err := a.store.DeleteUserSessions(ctx, actor.ID)
	if err == nil {
		err = a.store.RevokeUserAccess(ctx, actor.ID)
	}
	if err != nil {
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
