package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/netguard"
	"github.com/rcbu-console/rcbu-console/metrics"
	"github.com/rcbu-console/rcbu-console/notify"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/upstream"
	"github.com/rcbu-console/rcbu-console/web/handlers"
	"github.com/rcbu-console/rcbu-console/web/static"
)

// shutdownTimeout bounds the wait for in-flight requests at shutdown.
const shutdownTimeout = 10 * time.Second

// run builds the whole program by hand and serves until ctx ends: config →
// logger → store (migrations) → services → first admin → Rackspace account
// (or the demo simulator) → HTTP. It prints "listening on http://ADDR" on
// stdout once the socket is bound (RCBU_WEB_ADDR may use port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "rotate-secret" {
		return rotateSecret(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "reset-admin" {
		return resetAdmin(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := loadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.ShowVersion {
		fmt.Fprintln(stdout, "rcbu-web", version)
		return nil
	}
	if cfg.Healthcheck {
		return healthcheck(ctx, cfg.Addr)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	store, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return fmt.Errorf("RCBU_WEB_DB: %w", err) // names the database with its password redacted
	}
	defer store.Close()
	keyFile := app.KeyFilePath(cfg.DBPath)
	secret, src, err := app.LoadSecret(ctx, store, cfg.Secret, keyFile)
	if err != nil {
		return fmt.Errorf("RCBU_WEB_SECRET: %w", err)
	}
	switch src {
	case app.SecretCreated:
		log.Info("app_secret_created", slog.String("key_file", keyFile), slog.String("note", "keep this file (mode 0600) with the database but out of its backups; without it the stored API keys cannot be opened"))
	case app.SecretMigrated:
		log.Info("app_secret_moved_out_of_database", slog.String("key_file", keyFile))
	}
	sealer, err := app.NewSealer(secret)
	if err != nil {
		return err
	}
	sessionKey, err := app.DeriveKey(secret, "session cookie", 64)
	if err != nil {
		return err
	}

	now := time.Now
	audit := app.NewAudit(store, now, log)
	authCfg := app.DefaultAuthConfig()
	if authCfg.DeviceKey, err = app.DeriveKey(secret, "device cookie", 32); err != nil {
		return err
	}
	auth, err := app.NewAuth(store, audit, authCfg, now, log)
	if err != nil {
		return err
	}
	users := app.NewUsers(store, audit, authCfg.Password, now, log)
	prom, err := metrics.New(metrics.Options{Token: cfg.MetricsToken, Allow: cfg.MetricsAllow})
	if err != nil {
		return fmt.Errorf("RCBU_WEB_METRICS_TOKEN: %w", err)
	}
	budget := app.NewUpstreamBudget(app.DefaultBackgroundCalls)
	accounts := app.NewAccounts(store, sealer, upstream.NewConnector(upstreamClient(prom), budget, log, "rcbu-console/"+version), audit, now, log)
	// Pages may show the fleet's lists up to a minute old while one
	// background refresh runs; a change made through the console drops them.
	fleet := app.NewFleet(accounts, app.FleetOptions{Now: now, Log: log, MaxStale: time.Minute})
	history := app.NewHistory(store, accounts, audit, now, log)
	if db.IsPostgresDSN(cfg.DBPath) {
		// Other replicas may write to the history: while their notices are
		// not heard, what the overview caches from it is reread every 30 s.
		history.SetSharedStore(30 * time.Second)
	}
	// Every cache invalidation is told to the other replicas on the store
	// (PostgreSQL's NOTIFY; on SQLite there are none) and theirs applied
	// here, so a change made through one is seen through all at once.
	caches := app.NewCaches(store, fleet, accounts, history, auth, users, log)
	// Sessions the store ends (a sign-out, a user disabled, access or a
	// password changed) are forgotten by every replica's last good reads.
	store.OnSessionsEnded(caches.SessionsEnded)
	// Alert channels connect only where the policy allows, checked on the
	// address actually dialled: never link-local or cloud metadata, and
	// loopback or private only when configured or in demo mode (whose
	// receivers are on this machine).
	demo := cfg.RCBUUsername == ""
	if demo {
		has, err := accounts.HasConfiguredAccounts(ctx)
		if err != nil {
			return err
		}
		demo = !has
	}
	guard := netguard.Policy{AllowPrivate: cfg.AllowPrivateTargets || demo}
	// Replicas on one database share the background work through leases in
	// it: each account's sync and alert evaluation runs on one at a time,
	// renewed every third of the TTL while it runs.
	leases := app.NewLeases(store, cfg.LeaseTTL, now)
	alerts := app.NewAlerts(store, sealer, fleet, accounts, audit, notify.New(notify.Options{Now: now, Dialer: guard.Dialer(10 * time.Second)}),
		app.AlertsOptions{Now: now, Log: log, AwaitFirstSync: true, Leases: leases})
	// A backup or restore run through the console is snapshotted as soon as
	// it is seen to end, and then the alert rules of its account run.
	snapshotter := alerts.SnapshotHook(history)
	ops := app.NewOps(fleet, audit, app.OpsOptions{Now: now, Log: log, Snapshotter: snapshotter, Leases: leases})
	configurations := app.NewConfigurations(fleet, audit, ops.OverduePolicy(), now)
	restores := app.NewRestores(fleet, audit, snapshotter, store, now, log)
	// Each sync pass of an account triggers its alert rules.
	syncer := app.NewSyncer(history, accounts, app.SyncOptions{Interval: cfg.SyncInterval, KeepDays: cfg.HistoryKeepDays, AfterSync: alerts.AfterSync, Leases: leases})
	tokens := app.NewTokens(store, audit, now, log)
	links := app.NewLinks(store, audit, alerts, authCfg.Password, app.LinkOptions{TTL: cfg.LinkTTL, Now: now, Log: log})
	mfa := app.NewMFA(store, auth, audit, sealer, app.MFAOptions{Now: now, Log: log})
	health := app.NewHealth(fleet, store, ops.OverduePolicy(), now)
	overviews := app.NewOverviews(fleet, store, app.OverviewOptions{Policy: ops.OverduePolicy(), Now: now, Log: log, Generation: history.Generation})
	if err := prom.Register(metrics.NewStateCollector(accounts, health, store, metrics.StateCollectorOptions{Now: now, Log: log})); err != nil {
		return err
	}

	created, password, err := users.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("RCBU_WEB_ADMIN_EMAIL/RCBU_WEB_ADMIN_PASSWORD: %w", err)
	}
	if created && cfg.AdminPassword == "" {
		// Shown once, when the user is created; never logged.
		fmt.Fprintf(stderr, "\nFirst admin created. Sign in with:\n  email:    %s\n  password: %s\nYou choose your own password at the first sign-in.\n\n", cfg.AdminEmail, password)
	}

	sso, err := newSSO(ctx, cfg, store, audit, now, log)
	if err != nil {
		return err
	}

	stopSim, err := connectAccounts(ctx, cfg, accounts, log, stdout)
	if err != nil {
		return err
	}
	defer stopSim()

	staticFS, err := fs.Sub(static.Files, ".")
	if err != nil {
		return err
	}
	e, err := handlers.New(handlers.Deps{
		Log: log, Auth: auth, Users: users, Accounts: accounts, Audit: audit, Fleet: fleet, Overviews: overviews, Ops: ops, DB: store,
		Configurations: configurations, Restores: restores,
		History: history, Syncer: syncer, HistoryKeepDays: cfg.HistoryKeepDays, Alerts: alerts,
		Links: links, MFA: mfa, PublicURL: cfg.PublicURL, OIDC: sso, Tokens: tokens, Metrics: prom, Health: health, Leases: leases,
		SessionKey: sessionKey, SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.TrustedProxies, Static: staticFS, Now: now, Version: version,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("RCBU_WEB_ADDR: listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "RCBU Console %s listening on http://%s\n", version, ln.Addr())
	// The replica's name is its holder name in the leases table.
	log.Info("server_started", slog.String("addr", ln.Addr().String()), slog.Bool("demo", accounts.DemoActive()), slog.String("version", version),
		slog.String("replica", leases.Holder()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go pruneExpired(ctx, auth, mfa, audit, cfg.AuditKeepDays, log)
	// Once the background work below has stopped, its leases are given up,
	// so another replica takes the work over at once.
	defer func() {
		if err := leases.ReleaseAll(context.WithoutCancel(ctx)); err != nil {
			log.Warn("leases_release_failed", slog.Any("err", err))
		}
	}()
	// The other replicas' notices are applied until the store closes.
	cachesCtx, stopCaches := context.WithCancel(ctx)
	cachesDone := make(chan struct{})
	go func() { defer close(cachesDone); caches.Run(cachesCtx) }()
	defer func() { stopCaches(); <-cachesDone }()
	// The report sync reads the API in the background; pages read SQLite only.
	// It stops (and is waited for) before the store and the simulator close.
	syncCtx, stopSync := context.WithCancel(ctx)
	syncDone := make(chan struct{})
	go func() { defer close(syncDone); syncer.Run(syncCtx) }()
	defer func() { stopSync(); <-syncDone }()
	// The alert rules, the outbox and the digests run until ctx ends; they
	// too stop before the store closes.
	alertsCtx, stopAlerts := context.WithCancel(ctx)
	alertsDone := make(chan struct{})
	go func() { defer close(alertsDone); alerts.Run(alertsCtx) }()
	defer func() { stopAlerts(); <-alertsDone }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("server_stopping")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// connectAccounts upserts the account from the environment, or, when there
// is none and no admin has added one, starts the demo simulator in-process
// on a loopback port and points the demo account at it. The returned func
// stops the simulator.
func connectAccounts(ctx context.Context, cfg Config, accounts *app.Accounts, log *slog.Logger, stdout io.Writer) (func(), error) {
	noop := func() {}
	if cfg.RCBUUsername != "" {
		kind, secret := app.CredentialAPIKey, cfg.RCBUAPIKey
		if secret == "" {
			kind, secret = app.CredentialPassword, cfg.RCBUPassword
		}
		_, err := accounts.EnsureFromEnv(ctx, app.AccountRequest{
			Name: "Rackspace (" + cfg.RCBUUsername + ")", Username: cfg.RCBUUsername, Kind: string(kind), Secret: secret,
			IdentityURL: cfg.RCBUIdentityURL, Region: cfg.RCBURegion,
		})
		if err != nil {
			return noop, fmt.Errorf("RCBU_USERNAME: %w", err)
		}
		return noop, nil
	}
	has, err := accounts.HasConfiguredAccounts(ctx)
	if err != nil || has {
		return noop, err
	}
	simOpts := []rcbusim.Option{
		rcbusim.WithDataset("demo"),
		rcbusim.WithJobPace(cfg.DemoSpeed),
		rcbusim.WithLogger(log.With(slog.String("component", "rcbusim"))),
	}
	shape := "regions as path prefixes"
	if cfg.DemoRegionPorts {
		lns, err := rcbusim.ListenRegions("127.0.0.1", 0)
		if err != nil {
			return noop, fmt.Errorf("demo simulator: RCBU_DEMO_REGION_PORTS: %w", err)
		}
		simOpts = append(simOpts, rcbusim.WithRegionListeners(lns))
		shape = "each region on its own port"
	}
	sim := rcbusim.New(simOpts...)
	if err := sim.Err(); err != nil {
		_ = sim.Close()
		return noop, fmt.Errorf("demo simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = sim.Close()
		return noop, fmt.Errorf("demo simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo_simulator_stopped", slog.Any("err", err))
		}
	}()
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = sim.Close()
	}
	identityURL := "http://" + ln.Addr().String() + "/v2.0/tokens"
	if _, err := accounts.EnsureDemo(ctx, identityURL, rcbusim.DemoUser, rcbusim.DemoAPIKey); err != nil {
		stop()
		return noop, err
	}
	fmt.Fprintf(stdout, "Demo mode: built-in Cloud Backup simulator at %s (speed %gx, %s)\n", identityURL, cfg.DemoSpeed, shape)
	return stop, nil
}

// upstreamClient is the HTTP client of the Cloud Backup API clients: its
// transport times every call for /metrics, over upstream's transport.
func upstreamClient(m *metrics.Metrics) *http.Client {
	// One Cloud Backup call gets 15 s; GETs are retried, and each action
	// bounds its calls as a whole (app.OpsOptions.ActionBudget).
	return &http.Client{Transport: m.Transport(upstream.Transport()), Timeout: 15 * time.Second}
}

// pruneExpired deletes ended sessions and half sign-ins, and audit entries
// past their retention, every hour until ctx ends.
func pruneExpired(ctx context.Context, auth *app.Auth, mfa *app.MFA, audit *app.Audit, auditKeepDays int, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := auth.PruneSessions(ctx); err != nil {
			log.Warn("session_prune_failed", slog.Any("err", err))
		} else if n > 0 {
			log.Info("sessions_pruned", slog.Int64("count", n))
		}
		if _, err := mfa.PrunePending(ctx); err != nil {
			log.Warn("pending_sign_in_prune_failed", slog.Any("err", err))
		}
		if n, err := audit.Prune(ctx, auditKeepDays); err != nil {
			log.Warn("audit_prune_failed", slog.Any("err", err))
		} else if n > 0 {
			log.Info("audit_pruned", slog.Int64("count", n), slog.Int("keep_days", auditKeepDays))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// healthcheck GETs /healthz of the server on addr (the Docker HEALTHCHECK,
// since the distroless image has no shell or curl).
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: RCBU_WEB_ADDR: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}
