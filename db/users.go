package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rcbu-console/rcbu-console/app"
)

// userColumns are a user's columns in scanUser's order; the last says
// whether the user has a single sign-on identity (queries select FROM users
// without an alias).
const userColumns = `id, email, name, password_hash, role, disabled, time_zone, must_change_password, created_unix, updated_unix, access,
	EXISTS (SELECT 1 FROM user_identities ui WHERE ui.user_id = users.id)`

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(r rowScanner) (app.User, error) {
	var u app.User
	var role, access string
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &role, &u.Disabled, &u.TimeZone, &u.MustChangePassword, (*unixTime)(&u.Created), (*unixTime)(&u.Updated), &access, &u.SingleSignOn)
	if err != nil {
		return app.User{}, err
	}
	u.AccountsOnly = access == accessAccounts
	if u.Role, err = app.ParseRole(role); err != nil {
		return app.User{}, err
	}
	return u, nil
}

// CreateUser inserts u; a duplicate email wraps app.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u app.User) (app.User, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		u, err = insertUser(ctx, tx, u)
		return err
	})
	if err != nil {
		return app.User{}, err
	}
	return u, nil
}

// insertUser inserts u and its grants in tx and returns u with its id; a
// duplicate email wraps app.ErrConflict.
func insertUser(ctx context.Context, tx *sql.Tx, u app.User) (app.User, error) {
	var id int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO users (email, name, password_hash, role, disabled, time_zone, must_change_password, created_unix, updated_unix, access) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, u.Name, u.PasswordHash, u.Role.String(), u.Disabled, u.TimeZone, u.MustChangePassword, unix(u.Created), unix(u.Updated), accessName(u)).Scan(&id)
	if err != nil {
		if isUnique(err) {
			return app.User{}, fmt.Errorf("user %q: %w", u.Email, app.ErrConflict)
		}
		return app.User{}, fmt.Errorf("db: create user: %w", err)
	}
	u.ID = app.UserID(id)
	return u, insertGrants(ctx, tx, u)
}

// User returns the user with id; a missing one wraps app.ErrNotFound.
func (s *Store) User(ctx context.Context, id app.UserID) (app.User, error) {
	u, err := scanUser(s.hot.user.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return app.User{}, fmt.Errorf("user %d: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return app.User{}, fmt.Errorf("db: user %d: %w", id, err)
	}
	return s.withGrants(ctx, u)
}

// UserByEmail returns the user with the email; a missing one wraps app.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (app.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return app.User{}, fmt.Errorf("user %q: %w", email, app.ErrNotFound)
	}
	if err != nil {
		return app.User{}, fmt.Errorf("db: user by email: %w", err)
	}
	return s.withGrants(ctx, u)
}

// ListUsers returns every user ordered by email.
func (s *Store) ListUsers(ctx context.Context) ([]app.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	defer rows.Close()
	var out []app.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	return s.withAllGrants(ctx, out)
}

// UpdateUser writes u's mutable fields and, with revoke, deletes all of the
// user's sessions, personal access tokens and unused one-time links in the
// same transaction, so nothing the change shuts out outlives it.
func (s *Store) UpdateUser(ctx context.Context, u app.User, revoke bool) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := s.updateUserRow(ctx, tx, u.ID, "update",
			`UPDATE users SET name = ?, password_hash = ?, role = ?, disabled = ?, time_zone = ?, must_change_password = ?, updated_unix = ? WHERE id = ?`,
			u.Name, u.PasswordHash, u.Role.String(), u.Disabled, u.TimeZone, u.MustChangePassword, unix(u.Updated), u.ID)
		if err != nil {
			return err
		}
		if revoke {
			for _, q := range []string{`DELETE FROM sessions WHERE user_id = ?`, `DELETE FROM api_tokens WHERE user_id = ?`, `DELETE FROM user_links WHERE user_id = ?`} {
				if _, err := tx.ExecContext(ctx, q, u.ID); err != nil {
					return fmt.Errorf("db: revoke access of user %d: %w", u.ID, err)
				}
			}
		}
		return nil
	})
	if err == nil && revoke {
		s.endedSessions(u.ID)
	}
	return err
}

// updateUserRow runs query, an UPDATE of the row of user id with args (a
// missing user wraps app.ErrNotFound), so that it cannot leave the console
// without an enabled admin. The services check before they ask (and say so
// in words); this is the check two changes at once cannot both pass, on two
// replicas or two requests: when the user is an enabled admin, the
// transaction takes the admins' lock before writing and counts the enabled
// admins after, refusing the change if none is left.
func (s *Store) updateUserRow(ctx context.Context, tx *sql.Tx, id app.UserID, what, query string, args ...any) error {
	write := func() error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("db: %s user %d: %w", what, id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("user %d: %w", id, app.ErrNotFound)
		}
		return nil
	}
	var role string
	var disabled int
	err := tx.QueryRowContext(ctx, `SELECT role, disabled FROM users WHERE id = ?`, id).Scan(&role, &disabled)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (role != app.RoleAdmin.String() || disabled != 0) {
		return write() // not an enabled admin (or missing: write says so)
	}
	if err != nil {
		return fmt.Errorf("db: user %d: %w", id, err)
	}
	if err := s.lockTx(ctx, tx, "admins"); err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n); err != nil {
		return fmt.Errorf("db: count admins: %w", err)
	}
	if n == 0 {
		return app.Conflict("the last enabled admin cannot be disabled or given another role; make another user an admin first")
	}
	return nil
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return n, nil
}

// CountActiveAdmins returns the number of enabled admins.
func (s *Store) CountActiveAdmins(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count admins: %w", err)
	}
	return n, nil
}
