package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/rcbu-console/rcbu-console/app"
)

// Setting returns the value stored under key; a missing one wraps app.ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %q: %w", key, app.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("db: setting %q: %w", key, err)
	}
	return v, nil
}

// InsertSettingIfAbsent stores value under key unless key is already set, and
// returns whichever value is stored (so two first starts agree).
func (s *Store) InsertSettingIfAbsent(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("db: insert setting %q: %w", key, err)
	}
	return stored, nil
}

// PurgeSetting deletes key so that its value leaves the database files too:
// secure_delete overwrites the freed bytes with zeros, and a TRUNCATE
// checkpoint writes the zeroed page into the main file and empties the WAL.
func (s *Store) PurgeSetting(ctx context.Context, key string) error {
	if s.dialect == postgresDialect {
		// The row's old version stays in the table's pages until VACUUM
		// reuses them; PostgreSQL has no secure_delete.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
			return fmt.Errorf("db: purge setting %q: %w", key, err)
		}
		return nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: purge setting %q: %w", key, err)
	}
	defer conn.Close()
	for _, q := range []string{`PRAGMA secure_delete = ON`, `DELETE FROM settings WHERE key = ?`, `PRAGMA secure_delete = OFF`} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, key)
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("db: purge setting %q: %w", key, err)
		}
	}
	var busy, frames, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("db: purge setting %q: checkpoint: %w", key, err)
	}
	return nil
}
