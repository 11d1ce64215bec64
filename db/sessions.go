package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

const sessionQuery = `SELECT id, user_id, data, created_unix, last_seen_unix, expires_unix FROM sessions WHERE id = ?`

// CreateSession inserts a session row.
func (s *Store) CreateSession(ctx context.Context, se app.Session) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sessions (id, user_id, data, created_unix, last_seen_unix, expires_unix) VALUES (?, ?, ?, ?, ?, ?)`,
		se.Hash, nullUserID(se.UserID), nonNil(se.Data), unix(se.Created), unix(se.LastSeen), unix(se.Expires))
	if err != nil {
		return fmt.Errorf("db: create session: %w", err)
	}
	return nil
}

// nonNil stores a nil slice as an empty BLOB (the column is NOT NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func nullUserID(id app.UserID) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(id), Valid: id != 0}
}

// Session returns the session with the hash; a missing one wraps app.ErrNotFound.
func (s *Store) Session(ctx context.Context, hash string) (app.Session, error) {
	var se app.Session
	var uid sql.NullInt64
	err := s.hot.session.QueryRowContext(ctx, hash).Scan(&se.Hash, &uid, &se.Data, (*unixTime)(&se.Created), (*unixTime)(&se.LastSeen), (*unixTime)(&se.Expires))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Session{}, fmt.Errorf("session: %w", app.ErrNotFound)
	}
	if err != nil {
		return app.Session{}, fmt.Errorf("db: session: %w", err)
	}
	se.UserID = app.UserID(uid.Int64)
	return se, nil
}

// UpdateSession writes the session's data and last-seen time; a session
// deleted meanwhile (revoked) wraps app.ErrNotFound.
func (s *Store) UpdateSession(ctx context.Context, se app.Session) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET data = ?, last_seen_unix = ? WHERE id = ?`, nonNil(se.Data), unix(se.LastSeen), se.Hash)
	if err != nil {
		return fmt.Errorf("db: update session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("session: %w", app.ErrNotFound)
	}
	return nil
}

// DeleteSession deletes one session; deleting a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	// A session before sign-in has no user.
	var user sql.NullInt64
	err := s.db.QueryRowContext(ctx, `DELETE FROM sessions WHERE id = ? RETURNING user_id`, hash).Scan(&user)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	if user.Valid {
		s.endedSessions(app.UserID(user.Int64))
	}
	return nil
}

// DeleteUserSessions deletes every session of the user.
func (s *Store) DeleteUserSessions(ctx context.Context, id app.UserID) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("db: delete sessions of user %d: %w", id, err)
	}
	s.endedSessions(id)
	return nil
}

// OnSessionsEnded has f told of each user whose sessions the store ends
// (one session or all, by sign-out, revocation, a new password or a
// disabled user), once the change is committed: the replicas forget what
// they remember of those sessions. Call it before the store is used.
func (s *Store) OnSessionsEnded(f func(app.UserID)) { s.sessionsEnded = f }

// endedSessions tells OnSessionsEnded's f that the user's sessions ended.
func (s *Store) endedSessions(id app.UserID) {
	if s.sessionsEnded != nil {
		s.sessionsEnded(id)
	}
}

// DeleteExpiredSessions deletes sessions past their absolute expiry or last
// seen before idleSince, and returns how many went.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	return s.execCount(ctx, "delete expired sessions", `DELETE FROM sessions WHERE expires_unix <= ? OR last_seen_unix <= ?`, unix(now), unix(idleSince))
}

// LoginAttempts returns the failure counter for key; a zero counter (with Key
// set) when there is none.
func (s *Store) LoginAttempts(ctx context.Context, key string) (app.LoginAttempts, error) {
	a := app.LoginAttempts{Key: key}
	err := s.db.QueryRowContext(ctx,
		`SELECT failures, last_failure_unix, refused_until_unix FROM login_attempts WHERE key = ?`, key,
	).Scan(&a.Failures, (*unixTime)(&a.LastFailure), (*unixTime)(&a.RefusedUntil))
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return app.LoginAttempts{}, fmt.Errorf("db: login attempts: %w", err)
	}
	return a, nil
}

// PutLoginAttempts writes the counter.
func (s *Store) PutLoginAttempts(ctx context.Context, a app.LoginAttempts) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO login_attempts (key, failures, last_failure_unix, refused_until_unix) VALUES (?, ?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_unix = excluded.last_failure_unix, refused_until_unix = excluded.refused_until_unix`,
		a.Key, a.Failures, unix(a.LastFailure), unix(a.RefusedUntil))
	if err != nil {
		return fmt.Errorf("db: put login attempts: %w", err)
	}
	return nil
}

// DeleteLoginAttempts removes the counter for key.
func (s *Store) DeleteLoginAttempts(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ?`, key); err != nil {
		return fmt.Errorf("db: delete login attempts: %w", err)
	}
	return nil
}

// UpdateLoginAttempts reads the counters of keys, passes them to fn and
// writes back what fn returns, in one transaction. The transaction holds
// the lock of each key (lockTx), so concurrent sign-ins with a key in common
// queue here, on any replica, and each sees the attempts before it; others
// do not wait. A returned counter with no failures is deleted.
func (s *Store) UpdateLoginAttempts(ctx context.Context, keys []string, fn func([]app.LoginAttempts) []app.LoginAttempts) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		purposes := make([]string, len(keys))
		for i, k := range keys {
			purposes[i] = "login attempts " + k
		}
		if err := s.lockTx(ctx, tx, purposes...); err != nil {
			return err
		}
		cs := make([]app.LoginAttempts, len(keys))
		for i, k := range keys {
			cs[i].Key = k
			err := tx.QueryRowContext(ctx,
				`SELECT failures, last_failure_unix, refused_until_unix FROM login_attempts WHERE key = ?`, k,
			).Scan(&cs[i].Failures, (*unixTime)(&cs[i].LastFailure), (*unixTime)(&cs[i].RefusedUntil))
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		for _, a := range fn(cs) {
			if a.Failures <= 0 {
				if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ?`, a.Key); err != nil {
					return err
				}
				continue
			}
			_, err := tx.ExecContext(ctx,
				`INSERT INTO login_attempts (key, failures, last_failure_unix, refused_until_unix) VALUES (?, ?, ?, ?)
				 ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_unix = excluded.last_failure_unix, refused_until_unix = excluded.refused_until_unix`,
				a.Key, a.Failures, unix(a.LastFailure), unix(a.RefusedUntil))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: update login attempts: %w", err)
	}
	return nil
}
