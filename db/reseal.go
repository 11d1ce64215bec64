package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rcbu-console/rcbu-console/app"
)

// sealedColumns are every column that holds an app.Sealer value.
var sealedColumns = []struct {
	table string
	kind  app.SealedKind
}{
	{"accounts", app.SealedAccountSecret},
	{"alert_channels", app.SealedChannelSecret},
	{"user_totp", app.SealedTOTPSecret},
}

// ResealSecrets passes every sealed value to fn and stores what it returns,
// in one transaction.
func (s *Store) ResealSecrets(ctx context.Context, fn func(kind app.SealedKind, sealed []byte) ([]byte, error)) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range sealedColumns {
			type row struct {
				id     int64
				sealed []byte
			}
			var list []row
			// Locked until the transaction ends: a concurrent change of one
			// of these secrets waits and is then written over the resealed
			// value, never the other way round.
			rows, err := tx.QueryContext(ctx, `SELECT id, secret_sealed FROM `+c.table+` WHERE secret_sealed IS NOT NULL AND length(secret_sealed) > 0`+
				s.dialect.forUpdate())
			if err != nil {
				return err
			}
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.sealed); err != nil {
					rows.Close()
					return err
				}
				list = append(list, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range list {
				v, err := fn(c.kind, r.sealed)
				if err != nil {
					return fmt.Errorf("%s %d: %w", c.table, r.id, err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+c.table+` SET secret_sealed = ? WHERE id = ?`, v, r.id); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("db: reseal secrets: %w", err)
	}
	return n, nil
}
