package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

// resetAdmin is `rcbu-web reset-admin EMAIL`: for the operator at the
// console who has lost the way in, it prints a one-time link that sets a
// new password for the admin with that email. It reads the same
// configuration as the console (RCBU_WEB_DB, RCBU_WEB_PUBLIC_URL, …) and can
// run while the console is up; the audit log records it.
func resetAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("reset-admin: usage: rcbu-web reset-admin EMAIL [flags]")
	}
	email := args[0]
	cfg, err := loadConfig(args[1:], getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	audit := app.NewAudit(store, time.Now, log)
	links := app.NewLinks(store, audit, nil, app.DefaultAuthConfig().Password, app.LinkOptions{TTL: cfg.LinkTTL, Log: log})
	out, err := links.OperatorResetLink(ctx, email, linkBaseOf(cfg))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Open this link to set a new password for %s. It works once, until %s:\n\n  %s\n\n",
		out.User.Email, out.Expires.UTC().Format("2006-01-02 15:04 MST"), out.URL)
	return nil
}

// linkBaseOf is where links printed at the console point: RCBU_WEB_PUBLIC_URL,
// else the listen address (a wildcard host read as localhost).
func linkBaseOf(cfg Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "http://" + cfg.Addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
