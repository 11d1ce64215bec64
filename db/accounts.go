package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rcbu-console/rcbu-console/app"
)

const accountColumns = `id, name, username, kind, secret_sealed, identity_url, region, source, created_unix, updated_unix`

func scanAccount(r rowScanner) (app.Account, error) {
	var a app.Account
	var kind, source string
	err := r.Scan(&a.ID, &a.Name, &a.Username, &kind, &a.SecretSealed, &a.IdentityURL, &a.Region, &source, (*unixTime)(&a.Created), (*unixTime)(&a.Updated))
	a.Kind, a.Source = app.CredentialKind(kind), app.AccountSource(source)
	return a, err
}

// CreateAccount inserts a and returns it with its id.
func (s *Store) CreateAccount(ctx context.Context, a app.Account) (app.Account, error) {
	var id int64
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO accounts (name, username, kind, secret_sealed, identity_url, region, source, created_unix, updated_unix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Name, a.Username, string(a.Kind), a.SecretSealed, a.IdentityURL, a.Region, string(a.Source), unix(a.Created), unix(a.Updated)).Scan(&id)
	if err != nil {
		return app.Account{}, fmt.Errorf("db: create account: %w", err)
	}
	a.ID = app.AccountID(id)
	return a, nil
}

// Account returns one account; a missing one wraps app.ErrNotFound.
func (s *Store) Account(ctx context.Context, id app.AccountID) (app.Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Account{}, fmt.Errorf("account %d: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return app.Account{}, fmt.Errorf("db: account %d: %w", id, err)
	}
	return a, nil
}

// ListAccounts returns every account ordered by name.
func (s *Store) ListAccounts(ctx context.Context) ([]app.Account, error) {
	rows, err := s.hot.accounts.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: list accounts: %w", err)
	}
	defer rows.Close()
	var out []app.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list accounts: %w", err)
	}
	return out, nil
}

// UpdateAccount writes a's fields; a missing account wraps app.ErrNotFound.
func (s *Store) UpdateAccount(ctx context.Context, a app.Account) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE accounts SET name = ?, username = ?, kind = ?, secret_sealed = ?, identity_url = ?, region = ?, updated_unix = ? WHERE id = ?`,
		a.Name, a.Username, string(a.Kind), a.SecretSealed, a.IdentityURL, a.Region, unix(a.Updated), a.ID)
	if err != nil {
		return fmt.Errorf("db: update account %d: %w", a.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("account %d: %w", a.ID, app.ErrNotFound)
	}
	return nil
}

// DeleteAccount deletes one account; a missing one wraps app.ErrNotFound.
func (s *Store) DeleteAccount(ctx context.Context, id app.AccountID) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("db: delete account %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("account %d: %w", id, app.ErrNotFound)
	}
	return nil
}

// UpsertManagedAccount inserts or refreshes the single row of a.Source (demo
// or env), keeping its id and creation time.
func (s *Store) UpsertManagedAccount(ctx context.Context, a app.Account) (app.Account, error) {
	if a.Source == app.SourceAdmin {
		return app.Account{}, errors.New("db: upsert managed account: admin accounts are not managed")
	}
	var out app.Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO accounts (name, username, kind, secret_sealed, identity_url, region, source, created_unix, updated_unix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (source) WHERE source <> 'admin' DO UPDATE SET name = excluded.name, username = excluded.username, kind = excluded.kind,
			   secret_sealed = excluded.secret_sealed, identity_url = excluded.identity_url, region = excluded.region, updated_unix = excluded.updated_unix`,
			a.Name, a.Username, string(a.Kind), a.SecretSealed, a.IdentityURL, a.Region, string(a.Source), unix(a.Created), unix(a.Updated))
		if err != nil {
			return err
		}
		out, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE source = ?`, string(a.Source)))
		return err
	})
	if err != nil {
		return app.Account{}, fmt.Errorf("db: upsert %s account: %w", a.Source, err)
	}
	return out, nil
}
