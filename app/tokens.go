package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// TokenID identifies a personal access token.
type TokenID int64

// String returns the id in decimal.
func (id TokenID) String() string { return strconv.FormatInt(int64(id), 10) }

// TokenPrefix starts every personal access token, so that a leaked one is
// easy to recognise (and for secret scanners to find).
const TokenPrefix = "rcbu_pat_"

// tokenSecretLen is the length of the random part: 32 bytes, base64url.
const tokenSecretLen = 43

// MaxTokensPerUser bounds how many tokens one user may hold.
const MaxTokensPerUser = 20

// Audit actions of personal access tokens.
const (
	ActionTokenCreate AuditAction = "token.create"
	ActionTokenRevoke AuditAction = "token.revoke"
)

// Token is a personal access token of the read-only JSON API as stored: the
// token itself is shown once at creation and only its hash is kept. A token
// carries no role of its own: each request gets its user's current role, so
// disabling the user or lowering the role takes effect at once.
type Token struct {
	ID       TokenID
	UserID   UserID
	Name     string
	Hash     string // hex SHA-256 of the token (HashToken); never rendered
	Hint     string // the token's last 4 characters
	Created  time.Time
	Expires  time.Time // zero: never
	LastUsed time.Time // zero: never used
}

// Expired reports whether the token has expired at now.
func (t Token) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// TokenStore is the persistence Tokens needs.
type TokenStore interface {
	// User returns one user; a missing one wraps ErrNotFound.
	User(ctx context.Context, id UserID) (User, error)
	// CreateToken inserts t and returns it with its id; a name the user
	// already uses wraps ErrConflict.
	CreateToken(ctx context.Context, t Token) (Token, error)
	// UserTokens returns the user's tokens, newest first.
	UserTokens(ctx context.Context, user UserID) ([]Token, error)
	// TokenByHash returns the token with the hash; a missing one wraps ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// TouchToken sets the token's last-used time.
	TouchToken(ctx context.Context, id TokenID, at time.Time) error
	// DeleteToken deletes the user's token and returns it; a token that is
	// missing or belongs to someone else wraps ErrNotFound.
	DeleteToken(ctx context.Context, user UserID, id TokenID) (Token, error)
}

// TokenExpiries are the lifetimes offered when creating a token, in days;
// 0 is "never expires".
func TokenExpiries() []int { return []int{7, 30, 90, 365, 0} }

// DefaultTokenExpiry is the lifetime preselected in the form, in days.
const DefaultTokenExpiry = 90

// TokenRequest is the input for creating a token.
type TokenRequest struct {
	Name string
	// ExpiresInDays is one of TokenExpiries as text ("0": never).
	ExpiresInDays string
}

// Tokens creates, lists, revokes and checks personal access tokens.
type Tokens struct {
	store TokenStore
	audit *Audit
	now   func() time.Time
	log   *slog.Logger
}

// NewTokens returns the token service.
func NewTokens(store TokenStore, audit *Audit, now func() time.Time, log *slog.Logger) *Tokens {
	return &Tokens{store: store, audit: audit, now: now, log: log}
}

// newTokenSecret returns a fresh token: the prefix and 256 random bits.
func newTokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormedToken reports whether s has the shape of a token, so that junk
// is turned away without a database read.
func wellFormedToken(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != tokenSecretLen {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Create makes a token for the actor and returns it with the token itself,
// which is shown once and never again. Any signed-in user may create tokens
// for themselves; the API they open is read-only.
func (s *Tokens) Create(ctx context.Context, actor User, req TokenRequest) (Token, string, error) {
	name := strings.TrimSpace(req.Name)
	v := validation{}
	switch {
	case name == "":
		v.add("name", "Enter a name, such as the script or host that will use the token.")
	case len([]rune(name)) > 100:
		v.add("name", "Use at most 100 characters.")
	}
	days, err := strconv.Atoi(strings.TrimSpace(req.ExpiresInDays))
	valid := err == nil
	if valid {
		valid = false
		for _, d := range TokenExpiries() {
			valid = valid || d == days
		}
	}
	if !valid {
		v.add("expires", "Choose when the token expires.")
	}
	if err := v.err(); err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	existing, err := s.store.UserTokens(ctx, actor.ID)
	if err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	if len(existing) >= MaxTokensPerUser {
		return Token{}, "", fmt.Errorf("create token: %w", Invalid("name", fmt.Sprintf("You have %d tokens, the most allowed; revoke one you no longer use first.", MaxTokensPerUser)))
	}
	secret, err := newTokenSecret()
	if err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	now := s.now().UTC()
	t := Token{UserID: actor.ID, Name: name, Hash: HashToken(secret), Hint: secret[len(secret)-4:], Created: now}
	if days > 0 {
		t.Expires = now.Add(time.Duration(days) * 24 * time.Hour)
	}
	t, err = s.store.CreateToken(ctx, t)
	if errors.Is(err, ErrConflict) {
		return Token{}, "", fmt.Errorf("create token: %w", Invalid("name", "You already have a token with this name."))
	}
	target := tokenTarget(actor, name)
	if err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionTokenCreate, target, err))
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	detail := "never expires"
	if !t.Expires.IsZero() {
		detail = "expires " + t.Expires.Format(time.RFC3339)
	}
	s.audit.Record(ctx, actorEntry(actor, ActionTokenCreate, target, nil, detail))
	return t, secret, nil
}

// List returns the actor's own tokens, newest first.
func (s *Tokens) List(ctx context.Context, actor User) ([]Token, error) {
	ts, err := s.store.UserTokens(ctx, actor.ID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// Revoke deletes one of the actor's own tokens; requests with it fail from
// then on. Someone else's token is not found.
func (s *Tokens) Revoke(ctx context.Context, actor User, id TokenID) error {
	t, err := s.store.DeleteToken(ctx, actor.ID, id)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.audit.Record(ctx, actorEntry(actor, ActionTokenRevoke, "token "+id.String(), err))
		}
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	s.audit.Record(ctx, actorEntry(actor, ActionTokenRevoke, tokenTarget(actor, t.Name), nil))
	return nil
}

// tokenTarget names a token in the audit log (never its secret).
func tokenTarget(owner User, name string) string {
	return fmt.Sprintf("token %q of %s", name, owner.Email)
}

// Authenticate checks a token presented to the API and returns its user,
// with the user's current role, and the token. A malformed, unknown,
// expired or revoked token, or one whose user is disabled or gone, wraps
// ErrUnauthorized. The last-used time is written at most once a minute.
func (s *Tokens) Authenticate(ctx context.Context, secret string) (User, Token, error) {
	if !wellFormedToken(secret) {
		return User{}, Token{}, fmt.Errorf("authenticate token: malformed: %w", ErrUnauthorized)
	}
	t, err := s.store.TokenByHash(ctx, HashToken(secret))
	if errors.Is(err, ErrNotFound) {
		return User{}, Token{}, fmt.Errorf("authenticate token: unknown: %w", ErrUnauthorized)
	}
	if err != nil {
		return User{}, Token{}, fmt.Errorf("authenticate token: %w", err)
	}
	now := s.now().UTC()
	if t.Expired(now) {
		return User{}, Token{}, fmt.Errorf("authenticate token %d: expired: %w", t.ID, ErrUnauthorized)
	}
	u, err := s.store.User(ctx, t.UserID)
	if errors.Is(err, ErrNotFound) {
		return User{}, Token{}, fmt.Errorf("authenticate token %d: user gone: %w", t.ID, ErrUnauthorized)
	}
	if err != nil {
		return User{}, Token{}, fmt.Errorf("authenticate token %d: %w", t.ID, err)
	}
	if u.Disabled {
		return User{}, Token{}, fmt.Errorf("authenticate token %d: user disabled: %w", t.ID, ErrUnauthorized)
	}
	if t.LastUsed.IsZero() || now.Sub(t.LastUsed) >= time.Minute {
		// A failed write must not fail the request it describes.
		if err := s.store.TouchToken(context.WithoutCancel(ctx), t.ID, now); err != nil {
			s.log.WarnContext(ctx, "token_touch_failed", slog.Int64("token_id", int64(t.ID)), slog.Any("err", err))
		} else {
			t.LastUsed = now
		}
	}
	return u, t, nil
}
