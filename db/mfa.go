package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// CreatePendingSignIn inserts a half sign-in.
func (s *Store) CreatePendingSignIn(ctx context.Context, p app.PendingSignIn) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO pending_sign_ins (hash, user_id, method, enrol, next_path, created_unix, expires_unix) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.Hash, p.UserID, p.Method, p.Enrol, p.Next, unix(p.Created), unix(p.Expires))
	if err != nil {
		return fmt.Errorf("db: create pending sign-in: %w", err)
	}
	return nil
}

// PendingSignIn returns the half sign-in with the hash; a missing one wraps
// app.ErrNotFound.
func (s *Store) PendingSignIn(ctx context.Context, hash string) (app.PendingSignIn, error) {
	var p app.PendingSignIn
	err := s.db.QueryRowContext(ctx,
		`SELECT hash, user_id, method, enrol, next_path, created_unix, expires_unix FROM pending_sign_ins WHERE hash = ?`, hash,
	).Scan(&p.Hash, &p.UserID, &p.Method, &p.Enrol, &p.Next, (*unixTime)(&p.Created), (*unixTime)(&p.Expires))
	if errors.Is(err, sql.ErrNoRows) {
		return app.PendingSignIn{}, fmt.Errorf("pending sign-in: %w", app.ErrNotFound)
	}
	if err != nil {
		return app.PendingSignIn{}, fmt.Errorf("db: pending sign-in: %w", err)
	}
	return p, nil
}

// ConsumePendingSignIn deletes the half sign-in; the delete is the check,
// so two requests cannot both complete it: the second wraps app.ErrConflict.
func (s *Store) ConsumePendingSignIn(ctx context.Context, hash string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM pending_sign_ins WHERE hash = ?`, hash)
	if err != nil {
		return fmt.Errorf("db: consume pending sign-in: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("pending sign-in: %w", app.ErrConflict)
	}
	return nil
}

// DeleteExpiredPendingSignIns deletes half sign-ins that expired before now.
func (s *Store) DeleteExpiredPendingSignIns(ctx context.Context, now time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired pending sign-ins", `DELETE FROM pending_sign_ins WHERE expires_unix <= ?`, unix(now))
}

// TOTPFactor returns the user's TOTP factor; none wraps app.ErrNotFound.
func (s *Store) TOTPFactor(ctx context.Context, user app.UserID) (app.TOTPFactor, error) {
	var f app.TOTPFactor
	err := s.db.QueryRowContext(ctx,
		`SELECT user_id, secret_sealed, confirmed_unix, last_step, created_unix FROM user_totp WHERE user_id = ?`, user,
	).Scan(&f.UserID, &f.SecretSealed, (*unixTime)(&f.Confirmed), &f.LastStep, (*unixTime)(&f.Created))
	if errors.Is(err, sql.ErrNoRows) {
		return app.TOTPFactor{}, fmt.Errorf("totp factor of user %d: %w", user, app.ErrNotFound)
	}
	if err != nil {
		return app.TOTPFactor{}, fmt.Errorf("db: totp factor of user %d: %w", user, err)
	}
	return f, nil
}

// PutTOTPFactor stores an unconfirmed factor, replacing an unconfirmed
// one; a confirmed factor is kept and the call wraps app.ErrConflict.
func (s *Store) PutTOTPFactor(ctx context.Context, f app.TOTPFactor) error {
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO user_totp (user_id, secret_sealed, confirmed_unix, last_step, created_unix) VALUES (?, ?, 0, 0, ?)
		 ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, last_step = 0, created_unix = excluded.created_unix
		 WHERE user_totp.confirmed_unix = 0`,
		f.UserID, f.SecretSealed, unix(f.Created))
	if err != nil {
		return fmt.Errorf("db: put totp factor of user %d: %w", f.UserID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("totp factor of user %d: %w", f.UserID, app.ErrConflict)
	}
	return nil
}

// ConfirmTOTPFactor marks the user's factor confirmed with the step of its
// first code and replaces their recovery codes, in one transaction.
func (s *Store) ConfirmTOTPFactor(ctx context.Context, user app.UserID, step int64, at time.Time, hashes []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE user_totp SET confirmed_unix = ?, last_step = ? WHERE user_id = ? AND confirmed_unix = 0`, unix(at), step, user)
		if err != nil {
			return fmt.Errorf("db: confirm totp factor of user %d: %w", user, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("totp factor of user %d: %w", user, app.ErrConflict)
		}
		return s.replaceRecoveryCodes(ctx, tx, user, hashes, at)
	})
}

// UseTOTPStep records step as the latest accepted one; the update is the
// check, so a code cannot be accepted twice however the requests race.
func (s *Store) UseTOTPStep(ctx context.Context, user app.UserID, step int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE user_totp SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, user, step)
	if err != nil {
		return fmt.Errorf("db: use totp step of user %d: %w", user, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("totp step of user %d: %w", user, app.ErrConflict)
	}
	return nil
}

// DeleteTOTPFactor deletes the user's factor and recovery codes.
func (s *Store) DeleteTOTPFactor(ctx context.Context, user app.UserID) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM user_totp WHERE user_id = ?`, `DELETE FROM user_recovery_codes WHERE user_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, user); err != nil {
				return fmt.Errorf("db: delete totp factor of user %d: %w", user, err)
			}
		}
		return nil
	})
}

// ReplaceRecoveryCodes replaces the user's recovery codes with hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, user app.UserID, hashes []string, at time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.replaceRecoveryCodes(ctx, tx, user, hashes, at) })
}

// replaceRecoveryCodes replaces the user's codes in tx, holding the lock of
// the user's codes (lockTx) so that two replacements at once leave one set.
func (s *Store) replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, user app.UserID, hashes []string, at time.Time) error {
	if err := s.lockTx(ctx, tx, fmt.Sprintf("recovery codes %d", user)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_recovery_codes WHERE user_id = ?`, user); err != nil {
		return fmt.Errorf("db: replace recovery codes of user %d: %w", user, err)
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_recovery_codes (user_id, hash, created_unix) VALUES (?, ?, ?)`, user, h, unix(at)); err != nil {
			return fmt.Errorf("db: replace recovery codes of user %d: %w", user, err)
		}
	}
	return nil
}

// UseRecoveryCode marks the user's code used. An unknown code wraps
// app.ErrNotFound, a used one app.ErrConflict; the update is the check, so
// a code works once however the requests race.
func (s *Store) UseRecoveryCode(ctx context.Context, user app.UserID, hash string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE user_recovery_codes SET used_unix = ? WHERE user_id = ? AND hash = ? AND used_unix = 0`, unix(at), user, hash)
	if err != nil {
		return fmt.Errorf("db: use recovery code of user %d: %w", user, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	var used int64
	err = s.db.QueryRowContext(ctx, `SELECT used_unix FROM user_recovery_codes WHERE user_id = ? AND hash = ?`, user, hash).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("recovery code of user %d: %w", user, app.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("db: use recovery code of user %d: %w", user, err)
	}
	return fmt.Errorf("recovery code of user %d: %w", user, app.ErrConflict)
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, user app.UserID) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = ? AND used_unix = 0`, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: recovery codes of user %d: %w", user, err)
	}
	return n, nil
}

// MFARequiredRoles returns the roles that must use a second factor, lowest first.
func (s *Store) MFARequiredRoles(ctx context.Context) ([]app.Role, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT role FROM mfa_required_roles`)
	if err != nil {
		return nil, fmt.Errorf("db: required roles: %w", err)
	}
	defer rows.Close()
	have := map[app.Role]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("db: required roles: %w", err)
		}
		r, err := app.ParseRole(name)
		if err != nil {
			return nil, fmt.Errorf("db: required roles: %w", err)
		}
		have[r] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: required roles: %w", err)
	}
	var out []app.Role
	for _, r := range app.Roles() {
		if have[r] {
			out = append(out, r)
		}
	}
	return out, nil
}

// SetMFARequiredRoles replaces the roles that must use a second factor.
func (s *Store) SetMFARequiredRoles(ctx context.Context, roles []app.Role) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// Two replacements at once leave one set, not both (see inTx).
		if err := s.lockTx(ctx, tx, "mfa required roles"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_required_roles`); err != nil {
			return fmt.Errorf("db: set required roles: %w", err)
		}
		for _, r := range roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mfa_required_roles (role) VALUES (?) ON CONFLICT (role) DO NOTHING`, r.String()); err != nil {
				return fmt.Errorf("db: set required roles: %w", err)
			}
		}
		return nil
	})
}
