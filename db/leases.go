package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AcquireLease takes or renews the lease name for holder until until, and
// reports whether holder has it: a lease is free when nobody holds it, when
// holder already does, or when its holder let it expire (at or before now).
// One statement decides, so two replicas asking at once cannot both win.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	var got string
	err := s.db.QueryRowContext(ctx, `INSERT INTO leases (name, holder, expires_unix) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_unix = excluded.expires_unix
		WHERE leases.holder = excluded.holder OR leases.expires_unix <= ?
		RETURNING holder`, name, holder, unix(until), unix(now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // held by another, and not expired
	}
	if err != nil {
		return false, fmt.Errorf("db: acquire lease %s: %w", name, err)
	}
	return got == holder, nil
}

// ReleaseLease gives up the lease name if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("db: release lease %s: %w", name, err)
	}
	return nil
}

// ReleaseLeases gives up every lease holder has (a replica shutting down).
func (s *Store) ReleaseLeases(ctx context.Context, holder string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE holder = ?`, holder); err != nil {
		return fmt.Errorf("db: release leases: %w", err)
	}
	return nil
}

// HeldLeases returns the names of the unexpired leases holder has, by name.
func (s *Store) HeldLeases(ctx context.Context, holder string, now time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM leases WHERE holder = ? AND expires_unix > ? ORDER BY name`, holder, unix(now))
	if err != nil {
		return nil, fmt.Errorf("db: held leases: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("db: held leases: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: held leases: %w", err)
	}
	return out, nil
}
