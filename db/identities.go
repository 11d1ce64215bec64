package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rcbu-console/rcbu-console/app"
)

// UserIdentityBySubject returns the identity with the issuer and subject; a
// missing one wraps app.ErrNotFound.
func (s *Store) UserIdentityBySubject(ctx context.Context, issuer, subject string) (app.UserIdentity, error) {
	return s.userIdentity(ctx, `SELECT user_id, issuer, subject, created_unix FROM user_identities WHERE issuer = ? AND subject = ?`, issuer, subject)
}

// UserIdentityOf returns the user's identity at the issuer; a missing one
// wraps app.ErrNotFound.
func (s *Store) UserIdentityOf(ctx context.Context, user app.UserID, issuer string) (app.UserIdentity, error) {
	return s.userIdentity(ctx, `SELECT user_id, issuer, subject, created_unix FROM user_identities WHERE user_id = ? AND issuer = ?`, user, issuer)
}

func (s *Store) userIdentity(ctx context.Context, query string, args ...any) (app.UserIdentity, error) {
	var id app.UserIdentity
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&id.UserID, &id.Issuer, &id.Subject, (*unixTime)(&id.Created))
	if errors.Is(err, sql.ErrNoRows) {
		return app.UserIdentity{}, fmt.Errorf("user identity: %w", app.ErrNotFound)
	}
	if err != nil {
		return app.UserIdentity{}, fmt.Errorf("db: user identity: %w", err)
	}
	return id, nil
}

// CreateUserIdentity links a user to an issuer and subject. A subject that
// is linked already, or a user that already has a subject at the issuer,
// wraps app.ErrConflict.
func (s *Store) CreateUserIdentity(ctx context.Context, id app.UserIdentity) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return insertIdentity(ctx, tx, id) })
}

// CreateUserWithIdentity inserts u and links it to the identity in one
// transaction, and returns u with its id. A duplicate email or a linked
// subject wraps app.ErrConflict.
func (s *Store) CreateUserWithIdentity(ctx context.Context, u app.User, id app.UserIdentity) (app.User, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = insertUser(ctx, tx, u); err != nil {
			return err
		}
		id.UserID = u.ID
		return insertIdentity(ctx, tx, id)
	})
	if err != nil {
		return app.User{}, err
	}
	return u, nil
}

func insertIdentity(ctx context.Context, tx *sql.Tx, id app.UserIdentity) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO user_identities (user_id, issuer, subject, created_unix) VALUES (?, ?, ?, ?)`,
		id.UserID, id.Issuer, id.Subject, unix(id.Created))
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("user identity at %s: %w", id.Issuer, app.ErrConflict)
		}
		return fmt.Errorf("db: create user identity: %w", err)
	}
	return nil
}
