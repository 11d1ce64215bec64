package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

// rotateSecret is `rcbu-web rotate-secret`: it re-seals every sealed secret
// under a new app secret, in one transaction. With a key file (no
// RCBU_WEB_SECRET) it generates the new key and replaces the file; with
// RCBU_WEB_SECRET the new value comes from RCBU_WEB_NEW_SECRET and the
// operator sets it as RCBU_WEB_SECRET afterwards. Run it with the console
// stopped. Sessions and device cookies are signed with keys derived from the
// secret, so everyone signs in again afterwards.
func rotateSecret(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var next []byte
	if cfg.Secret != "" {
		next = []byte(getenv("RCBU_WEB_NEW_SECRET"))
		if len(next) < app.MinSecretLen {
			return fmt.Errorf("rotate-secret: RCBU_WEB_SECRET is set, so set RCBU_WEB_NEW_SECRET to the new secret (at least %d characters)", app.MinSecretLen)
		}
	} else {
		next = make([]byte, 32)
		if _, err := rand.Read(next); err != nil {
			return fmt.Errorf("rotate-secret: %w", err)
		}
	}
	store, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer store.Close()
	keyFile := app.KeyFilePath(cfg.DBPath)
	old, _, err := app.LoadSecret(ctx, store, cfg.Secret, keyFile)
	if err != nil {
		return fmt.Errorf("rotate-secret: %w", err)
	}
	// The new key is on disk before the database changes, so that no crash
	// can leave values sealed under a key that was never saved.
	pending := keyFile + ".new"
	if cfg.Secret == "" {
		if err := app.WriteKeyFile(pending, next); err != nil {
			return fmt.Errorf("rotate-secret: %w", err)
		}
	}
	n, err := app.RotateSecret(ctx, store, old, next)
	if err != nil {
		os.Remove(pending)
		return err
	}
	if cfg.Secret == "" {
		if err := os.Rename(pending, keyFile); err != nil {
			return fmt.Errorf("rotate-secret: the secrets are sealed under the key in %s, but it could not replace %s (move it there by hand before starting): %w", pending, keyFile, err)
		}
		fmt.Fprintf(stdout, "Re-sealed %d secrets under a new key in %s. Everyone signs in again.\n", n, keyFile)
		return nil
	}
	fmt.Fprintf(stdout, "Re-sealed %d secrets under RCBU_WEB_NEW_SECRET. Set RCBU_WEB_SECRET to that value before the next start; everyone signs in again.\n", n)
	return nil
}
