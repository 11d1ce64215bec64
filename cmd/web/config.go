package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/metrics"
)

// Config is the validated configuration of one run.
type Config struct {
	Addr          string // RCBU_WEB_ADDR, -addr
	DBPath        string // RCBU_WEB_DB, -db
	Secret        string // RCBU_WEB_SECRET (environment only)
	AdminEmail    string // RCBU_WEB_ADMIN_EMAIL, -admin-email
	AdminPassword string // RCBU_WEB_ADMIN_PASSWORD (environment only)
	SecureCookies bool   // RCBU_WEB_SECURE_COOKIES, -secure-cookies
	// AllowPrivateTargets lets alert channels reach loopback and private
	// addresses (RCBU_WEB_ALLOW_PRIVATE_TARGETS, -allow-private-targets);
	// demo mode allows them too. Link-local and metadata addresses never.
	AllowPrivateTargets bool
	LogLevel            slog.Level
	DemoSpeed           float64 // RCBU_DEMO_SPEED, -demo-speed
	// DemoRegionPorts serves each region of the demo simulator on its own
	// loopback port, with the real service's endpoint shape
	// (RCBU_DEMO_REGION_PORTS, -demo-region-ports).
	DemoRegionPorts bool

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client (RCBU_WEB_TRUSTED_PROXIES, -trusted-proxies); none: the TCP peer is the client.
	TrustedProxies []*net.IPNet

	// MetricsToken lets a Prometheus scraper read /metrics as a bearer
	// token (RCBU_WEB_METRICS_TOKEN, environment only); MetricsAllow lets
	// these networks in without it (RCBU_WEB_METRICS_ALLOW, -metrics-allow).
	// With neither, /metrics is off (404).
	MetricsToken string
	MetricsAllow []netip.Prefix

	SyncInterval    time.Duration // RCBU_WEB_SYNC_INTERVAL, -sync-interval: report history sync
	HistoryKeepDays int           // RCBU_WEB_HISTORY_KEEP_DAYS, -history-keep-days: 0 keeps reports forever
	AuditKeepDays   int           // RCBU_WEB_AUDIT_KEEP_DAYS, -audit-keep-days: audit log retention

	// The Rackspace account from the environment; empty Username = none.
	RCBUUsername    string // RCBU_USERNAME, -rcbu-username
	RCBUAPIKey      string // RCBU_API_KEY (environment only)
	RCBUPassword    string // RCBU_PASSWORD (environment only)
	RCBURegion      string // RCBU_REGION, -rcbu-region
	RCBUIdentityURL string // RCBU_IDENTITY_URL, -rcbu-identity-url

	// PublicURL is the console's address as its users reach it, the start
	// of invitation and reset links (RCBU_WEB_PUBLIC_URL, -public-url);
	// empty: the address the admin's browser used (reset-admin: RCBU_WEB_ADDR).
	PublicURL string
	// LinkTTL is how long an invitation or reset link works
	// (RCBU_WEB_LINK_TTL, -link-ttl).
	LinkTTL time.Duration
	// LeaseTTL is how long a replica's lease on background work lasts
	// without renewal, so how soon another replica takes over the work of
	// one that died (RCBU_WEB_LEASE_TTL, -lease-ttl).
	LeaseTTL time.Duration

	// OIDC is single sign-on through an OpenID Connect provider; nil
	// without RCBU_WEB_OIDC_ISSUER.
	OIDC *OIDCConfig
	// PasswordLoginOff refuses password sign-in except to the break-glass
	// admins (RCBU_WEB_PASSWORD_LOGIN=off, -password-login; needs OIDC).
	PasswordLoginOff bool
	// BreakGlass are the admins who may still sign in with a password
	// while it is off (RCBU_WEB_BREAK_GLASS, -break-glass; default the first admin).
	BreakGlass []string

	ShowVersion bool // -version
	Healthcheck bool // -healthcheck
}

// OIDCConfig is the single sign-on part of Config.
type OIDCConfig struct {
	Issuer       string   // RCBU_WEB_OIDC_ISSUER, -oidc-issuer
	ClientID     string   // RCBU_WEB_OIDC_CLIENT_ID, -oidc-client-id
	ClientSecret string   // RCBU_WEB_OIDC_CLIENT_SECRET (environment only)
	RedirectURL  string   // RCBU_WEB_OIDC_REDIRECT_URL, -oidc-redirect-url; default RCBU_WEB_PUBLIC_URL + /login/oidc/callback
	Name         string   // RCBU_WEB_OIDC_NAME, -oidc-name; default the issuer's host
	Claim        string   // RCBU_WEB_OIDC_CLAIM, -oidc-claim
	Scopes       []string // RCBU_WEB_OIDC_SCOPES, -oidc-scopes (besides openid)
	Roles        []app.RoleRule
	CreateUsers  bool // RCBU_WEB_OIDC_CREATE_USERS, -oidc-create-users
}

// String leaves the client secret out, so the configuration can be
// printed or logged whole.
func (c OIDCConfig) String() string {
	secret := "unset"
	if c.ClientSecret != "" {
		secret = "[redacted]"
	}
	return fmt.Sprintf("{Issuer:%s ClientID:%s ClientSecret:%s RedirectURL:%s Name:%s Claim:%s Scopes:%v Roles:%v CreateUsers:%t}",
		c.Issuer, c.ClientID, secret, c.RedirectURL, c.Name, c.Claim, c.Scopes, c.Roles, c.CreateUsers)
}

// GoString is String, for %#v.
func (c OIDCConfig) GoString() string { return c.String() }

// setting is one configuration value: its env variable, its flag and how
// to check it. Secrets have no flag: a command line shows in `ps`.
type setting struct {
	env, flag, def, usage string
	dst                   *string
}

// loadConfig reads the environment, then the flags (which override it), and
// validates the result. Every error names the variable (and flag) to fix.
func loadConfig(args []string, getenv func(string) string, output io.Writer) (Config, error) {
	var raw struct {
		addr, db, secret, adminEmail, adminPassword, secure, logLevel, speed string
		allowPrivate                                                         string
		regionPorts                                                          string
		user, apiKey, password, region, identity                             string
		syncInterval, keepDays, auditKeepDays                                string
		publicURL, linkTTL, leaseTTL                                         string
		oidcIssuer, oidcClientID, oidcSecret, oidcRedirect, oidcName         string
		oidcClaim, oidcRoles, oidcCreate, passwordLogin, breakGlass          string
		oidcScopes                                                           string
	}
	var rawProxies, rawMetricsToken, rawMetricsAllow string
	settings := []setting{
		{"RCBU_WEB_ADDR", "addr", "127.0.0.1:8080", "listen address (host:port)", &raw.addr},
		{"RCBU_WEB_DB", "db", "data/rcbu-web.db", "SQLite database file (its directory is created), or a postgres:// URL", &raw.db},
		{"RCBU_WEB_SECRET", "", "", "", &raw.secret},
		{"RCBU_WEB_ADMIN_EMAIL", "admin-email", "admin@example.com", "email of the first admin, created when there are no users", &raw.adminEmail},
		{"RCBU_WEB_ADMIN_PASSWORD", "", "", "", &raw.adminPassword},
		{"RCBU_WEB_SECURE_COOKIES", "secure-cookies", "false", "mark cookies Secure (serve over HTTPS)", &raw.secure},
		{"RCBU_WEB_ALLOW_PRIVATE_TARGETS", "allow-private-targets", "false", "let alert webhooks, Slack and SMTP reach loopback and private addresses (demo mode does); link-local and cloud metadata addresses stay refused", &raw.allowPrivate},
		{"RCBU_WEB_LOG_LEVEL", "log-level", "info", "log level: debug, info, warn or error", &raw.logLevel},
		{"RCBU_DEMO_SPEED", "demo-speed", "1", "demo simulator speed: its jobs run this many times faster than their simulated timing (its clock stays the real one)", &raw.speed},
		{"RCBU_DEMO_REGION_PORTS", "demo-region-ports", "false", "demo simulator serves each region on its own loopback port (http://127.0.0.1:PORT/v1.0/{tenant}, the real service's shape) instead of path prefixes", &raw.regionPorts},
		{"RCBU_WEB_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated IPs or CIDRs of reverse proxies trusted for X-Forwarded-For", &rawProxies},
		{"RCBU_WEB_METRICS_TOKEN", "", "", "", &rawMetricsToken},
		{"RCBU_WEB_METRICS_ALLOW", "metrics-allow", "", "comma-separated IPs or CIDRs that may read /metrics without RCBU_WEB_METRICS_TOKEN (e.g. 127.0.0.1/32,10.0.0.0/8); with neither, /metrics is off", &rawMetricsAllow},
		{"RCBU_WEB_PUBLIC_URL", "public-url", "", "the console's address as users reach it (https://backup.example.com), the start of invitation and reset links; empty: the address the admin's browser used", &raw.publicURL},
		{"RCBU_WEB_LINK_TTL", "link-ttl", "72h", "how long an invitation or password reset link works (10m to 720h)", &raw.linkTTL},
		{"RCBU_WEB_OIDC_ISSUER", "oidc-issuer", "", "OpenID Connect issuer URL for single sign-on (https://sso.example.com/realms/ops); empty: no single sign-on", &raw.oidcIssuer},
		{"RCBU_WEB_OIDC_CLIENT_ID", "oidc-client-id", "", "the console's client id at the OpenID Connect provider", &raw.oidcClientID},
		{"RCBU_WEB_OIDC_CLIENT_SECRET", "", "", "", &raw.oidcSecret},
		{"RCBU_WEB_OIDC_REDIRECT_URL", "oidc-redirect-url", "", "the callback registered at the provider; empty: RCBU_WEB_PUBLIC_URL + " + app.OIDCCallbackPath, &raw.oidcRedirect},
		{"RCBU_WEB_OIDC_NAME", "oidc-name", "", "the provider's name on the \"Sign in with …\" button; empty: the issuer's host", &raw.oidcName},
		{"RCBU_WEB_OIDC_CLAIM", "oidc-claim", app.DefaultOIDCClaim, "the ID token claim mapped to roles (dots walk into objects: realm_access.roles)", &raw.oidcClaim},
		{"RCBU_WEB_OIDC_SCOPES", "oidc-scopes", strings.Join(app.DefaultOIDCScopes(), " "), "scopes asked for besides openid, separated by spaces (add groups where the provider wants it for the groups claim)", &raw.oidcScopes},
		{"RCBU_WEB_OIDC_ROLES", "oidc-roles", "", "claim values to roles: value=role entries separated by ; (ops-admins=admin; viewers=observer)", &raw.oidcRoles},
		{"RCBU_WEB_OIDC_CREATE_USERS", "oidc-create-users", "false", "create a console user at a person's first single sign-on (otherwise only existing users, by email)", &raw.oidcCreate},
		{"RCBU_WEB_PASSWORD_LOGIN", "password-login", "on", "on, or off: passwords only for the break-glass admins (needs RCBU_WEB_OIDC_ISSUER)", &raw.passwordLogin},
		{"RCBU_WEB_BREAK_GLASS", "break-glass", "", "comma-separated emails of the admins who may sign in with a password while it is off; empty: RCBU_WEB_ADMIN_EMAIL", &raw.breakGlass},
		{"RCBU_WEB_LEASE_TTL", "lease-ttl", app.DefaultLeaseTTL.String(), "with several replicas on one PostgreSQL database: how long a replica holds an account's sync or alert evaluation without renewing it (renewed every third of it), so how soon another replica takes over from one that died (5s to 10m)", &raw.leaseTTL},
		{"RCBU_WEB_SYNC_INTERVAL", "sync-interval", "5m", "how often report history syncs from Cloud Backup (10s to 24h)", &raw.syncInterval},
		{"RCBU_WEB_HISTORY_KEEP_DAYS", "history-keep-days", "0", "delete report snapshots older than this many days; 0 keeps them forever", &raw.keepDays},
		{"RCBU_WEB_AUDIT_KEEP_DAYS", "audit-keep-days", strconv.Itoa(app.DefaultAuditKeepDays), "delete audit log entries older than this many days (1 to 36500)", &raw.auditKeepDays},
		{"RCBU_USERNAME", "rcbu-username", "", "Rackspace username (needs RCBU_API_KEY or RCBU_PASSWORD)", &raw.user},
		{"RCBU_API_KEY", "", "", "", &raw.apiKey},
		{"RCBU_PASSWORD", "", "", "", &raw.password},
		{"RCBU_REGION", "rcbu-region", "", "Cloud Backup region (DFW, ORD, IAD, LON, HKG, SYD); empty for all", &raw.region},
		{"RCBU_IDENTITY_URL", "rcbu-identity-url", app.DefaultIdentityURL, "Rackspace Identity v2.0 token URL", &raw.identity},
	}
	var cfg Config
	fs := flag.NewFlagSet("rcbu-web", flag.ContinueOnError)
	fs.SetOutput(output)
	for _, s := range settings {
		v := getenv(s.env)
		if v == "" {
			v = s.def
		}
		*s.dst = v
		if s.flag != "" {
			fs.StringVar(s.dst, s.flag, v, s.usage+" ["+s.env+"]")
		}
	}
	fs.BoolVar(&cfg.ShowVersion, "version", false, "print the version and exit")
	fs.BoolVar(&cfg.Healthcheck, "healthcheck", false, "check that the server on the configured address is healthy (exit 0) or not (exit 1)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: rcbu-web [flags]\n       rcbu-web rotate-secret [flags]   (re-seal every stored secret under a new app secret; console stopped)\n\nEvery flag mirrors an environment variable (in brackets). Secrets are read from the\nenvironment only: RCBU_WEB_SECRET, RCBU_WEB_ADMIN_PASSWORD, RCBU_WEB_METRICS_TOKEN,\nRCBU_WEB_OIDC_CLIENT_SECRET, RCBU_API_KEY, RCBU_PASSWORD.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (see -help)", fs.Arg(0))
	}
	if cfg.ShowVersion {
		return cfg, nil
	}

	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	cfg.Addr = strings.TrimSpace(raw.addr)
	if _, port, err := net.SplitHostPort(cfg.Addr); err != nil || port == "" {
		bad("RCBU_WEB_ADDR", "want host:port such as 127.0.0.1:8080, got %q", raw.addr)
	}
	cfg.DBPath = strings.TrimSpace(raw.db)
	if cfg.DBPath == "" {
		bad("RCBU_WEB_DB", "must not be empty")
	}
	if db.IsPostgresDSN(cfg.DBPath) {
		if u, err := url.Parse(cfg.DBPath); err != nil || u.Host == "" {
			bad("RCBU_WEB_DB", "want a PostgreSQL URL such as postgres://user:password@host:5432/dbname, got %q", db.RedactDSN(cfg.DBPath))
		}
	}
	cfg.Secret = raw.secret
	switch {
	case cfg.Secret != "" && len(cfg.Secret) < app.MinSecretLen:
		bad("RCBU_WEB_SECRET", "use at least %d characters (or unset it to have one generated into a key file beside the database)", app.MinSecretLen)
	case cfg.Secret == "" && db.IsPostgresDSN(cfg.DBPath):
		// A key file is one machine's; replicas must share the key.
		bad("RCBU_WEB_SECRET", "required with a PostgreSQL RCBU_WEB_DB: every replica signs cookies and opens the sealed secrets with it (at least %d characters, the same on each)", app.MinSecretLen)
	}
	cfg.AdminEmail = strings.ToLower(strings.TrimSpace(raw.adminEmail))
	if !strings.Contains(cfg.AdminEmail, "@") {
		bad("RCBU_WEB_ADMIN_EMAIL", "want an email address, got %q", raw.adminEmail)
	}
	cfg.AdminPassword = raw.adminPassword
	if cfg.AdminPassword != "" && len([]rune(cfg.AdminPassword)) < app.MinPasswordLen {
		bad("RCBU_WEB_ADMIN_PASSWORD", "use at least %d characters", app.MinPasswordLen)
	}
	secure, err := strconv.ParseBool(strings.TrimSpace(raw.secure))
	if err != nil {
		bad("RCBU_WEB_SECURE_COOKIES", "want true or false, got %q", raw.secure)
	}
	cfg.SecureCookies = secure
	allowPrivate, err := strconv.ParseBool(strings.TrimSpace(raw.allowPrivate))
	if err != nil {
		bad("RCBU_WEB_ALLOW_PRIVATE_TARGETS", "want true or false, got %q", raw.allowPrivate)
	}
	cfg.AllowPrivateTargets = allowPrivate
	if err := cfg.LogLevel.UnmarshalText([]byte(strings.TrimSpace(raw.logLevel))); err != nil {
		bad("RCBU_WEB_LOG_LEVEL", "want debug, info, warn or error, got %q", raw.logLevel)
	}
	speed, err := strconv.ParseFloat(strings.TrimSpace(raw.speed), 64)
	if err != nil || speed < 0.01 || speed > 100000 {
		bad("RCBU_DEMO_SPEED", "want a number from 0.01 to 100000, got %q", raw.speed)
	}
	cfg.DemoSpeed = speed
	if cfg.DemoRegionPorts, err = strconv.ParseBool(strings.TrimSpace(raw.regionPorts)); err != nil {
		bad("RCBU_DEMO_REGION_PORTS", "want true or false, got %q", raw.regionPorts)
	}
	for _, p := range strings.Split(rawProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			bad("RCBU_WEB_TRUSTED_PROXIES", "want IP addresses or CIDR ranges such as 10.0.0.0/8, got %q", p)
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
	}
	cfg.MetricsToken = strings.TrimSpace(rawMetricsToken)
	if cfg.MetricsToken != "" && len(cfg.MetricsToken) < metrics.MinTokenLen {
		bad("RCBU_WEB_METRICS_TOKEN", "use at least %d characters (e.g. openssl rand -hex 32)", metrics.MinTokenLen)
	}
	if cfg.MetricsAllow, err = metrics.ParseAllowList(rawMetricsAllow); err != nil {
		bad("RCBU_WEB_METRICS_ALLOW", "%v", err)
	}
	interval, err := time.ParseDuration(strings.TrimSpace(raw.syncInterval))
	if err != nil || interval < 10*time.Second || interval > 24*time.Hour {
		bad("RCBU_WEB_SYNC_INTERVAL", "want a duration from 10s to 24h such as 5m, got %q", raw.syncInterval)
	}
	cfg.SyncInterval = interval
	if cfg.PublicURL = strings.TrimRight(strings.TrimSpace(raw.publicURL), "/"); cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("RCBU_WEB_PUBLIC_URL", "want an http(s) address such as https://backup.example.com, got %q", raw.publicURL)
		}
	}
	ttl, err := time.ParseDuration(strings.TrimSpace(raw.linkTTL))
	if err != nil || ttl < 10*time.Minute || ttl > 720*time.Hour {
		bad("RCBU_WEB_LINK_TTL", "want a duration from 10m to 720h such as 72h, got %q", raw.linkTTL)
	}
	cfg.LinkTTL = ttl
	leaseTTL, err := time.ParseDuration(strings.TrimSpace(raw.leaseTTL))
	if err != nil || leaseTTL < 5*time.Second || leaseTTL > 10*time.Minute {
		bad("RCBU_WEB_LEASE_TTL", "want a duration from 5s to 10m such as 1m, got %q", raw.leaseTTL)
	}
	cfg.LeaseTTL = leaseTTL
	loadSSOConfig(&cfg, ssoRaw{
		issuer: raw.oidcIssuer, clientID: raw.oidcClientID, secret: raw.oidcSecret, redirect: raw.oidcRedirect, name: raw.oidcName,
		claim: raw.oidcClaim, scopes: raw.oidcScopes, roles: raw.oidcRoles, create: raw.oidcCreate, passwordLogin: raw.passwordLogin, breakGlass: raw.breakGlass,
	}, bad)
	keep, err := strconv.Atoi(strings.TrimSpace(raw.keepDays))
	if err != nil || keep < 0 || keep > 100000 {
		bad("RCBU_WEB_HISTORY_KEEP_DAYS", "want a whole number of days (0 keeps reports forever), got %q", raw.keepDays)
	}
	cfg.HistoryKeepDays = keep
	auditKeep, err := strconv.Atoi(strings.TrimSpace(raw.auditKeepDays))
	if err != nil || auditKeep < 1 || auditKeep > 36500 {
		bad("RCBU_WEB_AUDIT_KEEP_DAYS", "want a whole number of days from 1 to 36500, got %q", raw.auditKeepDays)
	}
	cfg.AuditKeepDays = auditKeep

	cfg.RCBUUsername = strings.TrimSpace(raw.user)
	cfg.RCBUAPIKey, cfg.RCBUPassword = strings.TrimSpace(raw.apiKey), raw.password
	switch {
	case cfg.RCBUUsername != "" && cfg.RCBUAPIKey == "" && cfg.RCBUPassword == "":
		bad("RCBU_API_KEY", "set it (or RCBU_PASSWORD) together with RCBU_USERNAME")
	case cfg.RCBUUsername != "" && cfg.RCBUAPIKey != "" && cfg.RCBUPassword != "":
		bad("RCBU_PASSWORD", "set either RCBU_API_KEY or RCBU_PASSWORD, not both")
	case cfg.RCBUUsername == "" && (cfg.RCBUAPIKey != "" || cfg.RCBUPassword != ""):
		bad("RCBU_USERNAME", "set it together with RCBU_API_KEY or RCBU_PASSWORD")
	}
	cfg.RCBURegion = strings.ToUpper(strings.TrimSpace(raw.region))
	if cfg.RCBURegion != "" && !slices.Contains(app.AccountRegions(), cfg.RCBURegion) {
		bad("RCBU_REGION", "want one of %s (or empty for all regions), got %q", strings.Join(app.AccountRegions(), ", "), raw.region)
	}
	cfg.RCBUIdentityURL = strings.TrimSpace(raw.identity)
	if u, err := url.Parse(cfg.RCBUIdentityURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("RCBU_IDENTITY_URL", "want an http(s) URL, got %q", raw.identity)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// ssoRaw are the single sign-on settings as given.
type ssoRaw struct {
	issuer, clientID, secret, redirect, name, claim, scopes, roles, create, passwordLogin, breakGlass string
}

// loadSSOConfig checks the single sign-on settings into cfg (after
// AdminEmail and PublicURL), reporting each problem through bad.
func loadSSOConfig(cfg *Config, raw ssoRaw, bad func(env, format string, a ...any)) {
	switch strings.ToLower(strings.TrimSpace(raw.passwordLogin)) {
	case "on", "":
	case "off":
		cfg.PasswordLoginOff = true
	default:
		bad("RCBU_WEB_PASSWORD_LOGIN", "want on or off, got %q", raw.passwordLogin)
	}
	for _, e := range strings.Split(raw.breakGlass, ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e == "" {
			continue
		}
		if !strings.Contains(e, "@") {
			bad("RCBU_WEB_BREAK_GLASS", "want comma-separated email addresses, got %q", e)
			continue
		}
		cfg.BreakGlass = append(cfg.BreakGlass, e)
	}
	if len(cfg.BreakGlass) == 0 {
		cfg.BreakGlass = []string{cfg.AdminEmail}
	}
	issuer := strings.TrimSpace(raw.issuer)
	if issuer == "" {
		for env, v := range map[string]string{
			"RCBU_WEB_OIDC_CLIENT_ID": raw.clientID, "RCBU_WEB_OIDC_CLIENT_SECRET": raw.secret, "RCBU_WEB_OIDC_REDIRECT_URL": raw.redirect,
			"RCBU_WEB_OIDC_NAME": raw.name, "RCBU_WEB_OIDC_ROLES": raw.roles,
		} {
			if strings.TrimSpace(v) != "" {
				bad(env, "set RCBU_WEB_OIDC_ISSUER too, or unset it")
			}
		}
		if cfg.PasswordLoginOff {
			bad("RCBU_WEB_PASSWORD_LOGIN", "off needs single sign-on: set RCBU_WEB_OIDC_ISSUER")
		}
		return
	}
	o := &OIDCConfig{Issuer: strings.TrimRight(issuer, "/"), ClientID: strings.TrimSpace(raw.clientID), ClientSecret: strings.TrimSpace(raw.secret),
		Name: strings.TrimSpace(raw.name), Claim: strings.TrimSpace(raw.claim)}
	if u, err := url.Parse(issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		bad("RCBU_WEB_OIDC_ISSUER", "want an https URL such as https://sso.example.com/realms/ops (plain http only to a loopback address), got %q", raw.issuer)
	}
	if o.ClientID == "" {
		bad("RCBU_WEB_OIDC_CLIENT_ID", "set the console's client id at the provider (RCBU_WEB_OIDC_ISSUER is set)")
	}
	o.RedirectURL = strings.TrimSpace(raw.redirect)
	switch {
	case o.RedirectURL == "" && cfg.PublicURL == "":
		bad("RCBU_WEB_OIDC_REDIRECT_URL", "set it (or RCBU_WEB_PUBLIC_URL) to the callback registered at the provider, such as https://backup.example.com%s", app.OIDCCallbackPath)
	case o.RedirectURL == "":
		o.RedirectURL = cfg.PublicURL + app.OIDCCallbackPath
	default:
		if u, err := url.Parse(o.RedirectURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != app.OIDCCallbackPath || u.RawQuery != "" || u.Fragment != "" {
			bad("RCBU_WEB_OIDC_REDIRECT_URL", "want the console's address followed by %s, such as https://backup.example.com%s, got %q", app.OIDCCallbackPath, app.OIDCCallbackPath, raw.redirect)
		}
	}
	if o.Claim == "" {
		o.Claim = app.DefaultOIDCClaim
	}
	o.Scopes = []string{}
	for _, sc := range strings.Fields(raw.scopes) {
		if sc == "openid" {
			continue
		}
		if strings.ContainsAny(sc, "\"\\") {
			bad("RCBU_WEB_OIDC_SCOPES", "want scope names separated by spaces, got %q", sc)
			continue
		}
		o.Scopes = append(o.Scopes, sc)
	}
	rules, err := app.ParseRoleRules(raw.roles)
	switch {
	case err != nil:
		bad("RCBU_WEB_OIDC_ROLES", "%v", err)
	case len(rules) == 0:
		bad("RCBU_WEB_OIDC_ROLES", "map at least one value of the claim %s to a role, such as ops-admins=admin; viewers=observer", o.Claim)
	}
	o.Roles = rules
	create, err := strconv.ParseBool(strings.TrimSpace(raw.create))
	if err != nil {
		bad("RCBU_WEB_OIDC_CREATE_USERS", "want true or false, got %q", raw.create)
	}
	o.CreateUsers = create
	cfg.OIDC = o
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
