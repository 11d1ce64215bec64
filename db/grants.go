package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/rcbu-console/rcbu-console/app"
)

// The users.access values: every account with the user's role, or only
// the accounts of user_grants.
const (
	accessAll      = "all"
	accessAccounts = "accounts"
)

func accessName(u app.User) string {
	if u.AccountsOnly {
		return accessAccounts
	}
	return accessAll
}

// withGrants fills the grants of a user limited to some accounts.
func (s *Store) withGrants(ctx context.Context, u app.User) (app.User, error) {
	if !u.AccountsOnly {
		return u, nil
	}
	gs, err := s.grants(ctx, `SELECT user_id, account_id, role FROM user_grants WHERE user_id = ? ORDER BY account_id`, u.ID)
	if err != nil {
		return app.User{}, err
	}
	u.Grants = gs[u.ID]
	return u, nil
}

// withAllGrants fills the grants of every user of us limited to some
// accounts, in one query.
func (s *Store) withAllGrants(ctx context.Context, us []app.User) ([]app.User, error) {
	gs, err := s.grants(ctx, `SELECT user_id, account_id, role FROM user_grants ORDER BY user_id, account_id`)
	if err != nil {
		return nil, err
	}
	for i := range us {
		if us[i].AccountsOnly {
			us[i].Grants = gs[us[i].ID]
		}
	}
	return us, nil
}

func (s *Store) grants(ctx context.Context, q string, args ...any) (map[app.UserID][]app.Grant, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: grants: %w", err)
	}
	defer rows.Close()
	out := map[app.UserID][]app.Grant{}
	for rows.Next() {
		var uid app.UserID
		var g app.Grant
		var role string
		if err := rows.Scan(&uid, &g.Account, &role); err != nil {
			return nil, fmt.Errorf("db: grants: %w", err)
		}
		if g.Role, err = app.ParseRole(role); err != nil {
			return nil, fmt.Errorf("db: grants: %w", err)
		}
		out[uid] = append(out[uid], g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: grants: %w", err)
	}
	return out, nil
}

func insertGrants(ctx context.Context, tx *sql.Tx, u app.User) error {
	if !u.AccountsOnly {
		return nil
	}
	for _, g := range u.Grants {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_grants (user_id, account_id, role) VALUES (?, ?, ?)`, u.ID, g.Account, g.Role.String()); err != nil {
			if isForeignKey(err) {
				return fmt.Errorf("account %d: %w", g.Account, app.ErrNotFound)
			}
			return fmt.Errorf("db: grant on account %d to user %d: %w", g.Account, u.ID, err)
		}
	}
	return nil
}

// SetUserAccess writes u's role, access and grants (replacing every grant)
// and, with revoke, deletes the user's sessions and personal access tokens,
// all in one transaction: a narrowed access leaves nothing open that had
// the old one.
func (s *Store) SetUserAccess(ctx context.Context, u app.User, revoke bool) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := s.updateUserRow(ctx, tx, u.ID, "set access of", `UPDATE users SET role = ?, access = ?, updated_unix = ? WHERE id = ?`,
			u.Role.String(), accessName(u), unix(u.Updated), u.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_grants WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("db: set access of user %d: %w", u.ID, err)
		}
		if err := insertGrants(ctx, tx, u); err != nil {
			return err
		}
		if !revoke {
			return nil
		}
		for _, q := range []string{`DELETE FROM sessions WHERE user_id = ?`, `DELETE FROM api_tokens WHERE user_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, u.ID); err != nil {
				return fmt.Errorf("db: revoke access of user %d: %w", u.ID, err)
			}
		}
		return nil
	})
	if err == nil && revoke {
		s.endedSessions(u.ID)
	}
	return err
}

// isForeignKey reports whether err is a foreign key violation (SQLite's and
// PostgreSQL's wording): a grant on an account deleted meanwhile.
func isForeignKey(err error) bool {
	s := err.Error()
	return strings.Contains(s, "FOREIGN KEY constraint failed") || strings.Contains(s, "violates foreign key constraint")
}
