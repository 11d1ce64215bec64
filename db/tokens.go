package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

const tokenColumns = `id, user_id, name, hash, hint, created_unix, expires_unix, last_used_unix`

func scanToken(r rowScanner) (app.Token, error) {
	var t app.Token
	err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.Hint, (*unixTime)(&t.Created), (*unixTime)(&t.Expires), (*unixTime)(&t.LastUsed))
	return t, err
}

// CreateToken inserts t and returns it with its id; a name the user already
// uses wraps app.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t app.Token) (app.Token, error) {
	var id int64
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO api_tokens (user_id, name, hash, hint, created_unix, expires_unix, last_used_unix) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.UserID, t.Name, t.Hash, t.Hint, unix(t.Created), unix(t.Expires), unix(t.LastUsed)).Scan(&id)
	if err != nil {
		if isUnique(err) {
			return app.Token{}, fmt.Errorf("token %q: %w", t.Name, app.ErrConflict)
		}
		return app.Token{}, fmt.Errorf("db: create token: %w", err)
	}
	t.ID = app.TokenID(id)
	return t, nil
}

// UserTokens returns the user's tokens, newest first.
func (s *Store) UserTokens(ctx context.Context, user app.UserID) ([]app.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY created_unix DESC, id DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("db: user %d tokens: %w", user, err)
	}
	defer rows.Close()
	out := []app.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("db: user %d tokens: %w", user, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: user %d tokens: %w", user, err)
	}
	return out, nil
}

// TokenByHash returns the token with the hash; a missing one wraps
// app.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (app.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Token{}, fmt.Errorf("token: %w", app.ErrNotFound)
	}
	if err != nil {
		return app.Token{}, fmt.Errorf("db: token by hash: %w", err)
	}
	return t, nil
}

// TouchToken sets the token's last-used time (no error when it is gone).
func (s *Store) TouchToken(ctx context.Context, id app.TokenID, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_unix = ? WHERE id = ?`, unix(at), id); err != nil {
		return fmt.Errorf("db: touch token %d: %w", id, err)
	}
	return nil
}

// DeleteToken deletes the user's token and returns it; one that is missing
// or belongs to another user wraps app.ErrNotFound.
func (s *Store) DeleteToken(ctx context.Context, user app.UserID, id app.TokenID) (app.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx,
		`DELETE FROM api_tokens WHERE id = ? AND user_id = ? RETURNING `+tokenColumns, id, user))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Token{}, fmt.Errorf("token %d: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return app.Token{}, fmt.Errorf("db: delete token %d: %w", id, err)
	}
	return t, nil
}

// RevokeUserAccess deletes every personal access token and one-time link
// of the user, in one transaction.
func (s *Store) RevokeUserAccess(ctx context.Context, id app.UserID) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM api_tokens WHERE user_id = ?`, `DELETE FROM user_links WHERE user_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("db: revoke access of user %d: %w", id, err)
			}
		}
		return nil
	})
}
