package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// CreateUserLink deletes the user's other links and inserts l, in one
// transaction, and returns l with its id.
func (s *Store) CreateUserLink(ctx context.Context, l app.UserLink) (app.UserLink, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Two links created at once for one user leave one (see inTx).
		if err := s.lockTx(ctx, tx, fmt.Sprintf("user links %d", l.UserID)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_links WHERE user_id = ?`, l.UserID); err != nil {
			return fmt.Errorf("db: create user link: %w", err)
		}
		var id int64
		err := tx.QueryRowContext(ctx,
			`INSERT INTO user_links (user_id, kind, hash, created_by, created_unix, expires_unix, used_unix) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			l.UserID, string(l.Kind), l.Hash, l.CreatedBy, unix(l.Created), unix(l.Expires), unix(l.Used)).Scan(&id)
		if err != nil {
			return fmt.Errorf("db: create user link: %w", err)
		}
		l.ID = app.UserLinkID(id)
		return nil
	})
	if err != nil {
		return app.UserLink{}, err
	}
	return l, nil
}

// UserLinkByHash returns the link with the hash; a missing one wraps
// app.ErrNotFound.
func (s *Store) UserLinkByHash(ctx context.Context, hash string) (app.UserLink, error) {
	var l app.UserLink
	var kind string
	err := s.db.QueryRowContext(ctx,
		`SELECT id, user_id, kind, hash, created_by, created_unix, expires_unix, used_unix FROM user_links WHERE hash = ?`, hash,
	).Scan(&l.ID, &l.UserID, &kind, &l.Hash, &l.CreatedBy, (*unixTime)(&l.Created), (*unixTime)(&l.Expires), (*unixTime)(&l.Used))
	if errors.Is(err, sql.ErrNoRows) {
		return app.UserLink{}, fmt.Errorf("user link: %w", app.ErrNotFound)
	}
	if err != nil {
		return app.UserLink{}, fmt.Errorf("db: user link: %w", err)
	}
	l.Kind = app.LinkKind(kind)
	return l, nil
}

// UseUserLink marks the link used and sets the user's password hash
// (clearing must_change_password), and deletes the user's sessions,
// personal access tokens and other links, in one transaction. A link that
// is used already wraps app.ErrConflict and changes nothing: the update
// that marks it is the check, so two requests cannot both use it.
func (s *Store) UseUserLink(ctx context.Context, id app.UserLinkID, user app.UserID, passwordHash string, at time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE user_links SET used_unix = ? WHERE id = ? AND user_id = ? AND used_unix = 0`, unix(at), id, user)
		if err != nil {
			return fmt.Errorf("db: use user link %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("user link %d: %w", id, app.ErrConflict)
		}
		res, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change_password = 0, updated_unix = ? WHERE id = ?`, passwordHash, unix(at), user)
		if err != nil {
			return fmt.Errorf("db: use user link %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("user %d: %w", user, app.ErrNotFound)
		}
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`DELETE FROM sessions WHERE user_id = ?`, []any{user}},
			{`DELETE FROM api_tokens WHERE user_id = ?`, []any{user}},
			{`DELETE FROM user_links WHERE user_id = ? AND id <> ?`, []any{user, id}},
		} {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return fmt.Errorf("db: use user link %d: %w", id, err)
			}
		}
		return nil
	})
	if err == nil {
		s.endedSessions(user)
	}
	return err
}
