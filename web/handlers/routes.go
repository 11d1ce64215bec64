package handlers

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/rcbu-console/rcbu-console/app"
)

// public marks a route that needs no sign-in.
const public = app.RoleNone

// routePolicy is one route and the minimum role it needs (public: none).
type routePolicy struct {
	Method string
	Path   string
	Min    app.Role
	Auth   authKind // how the caller is identified; the zero value is the session cookie
}

// authKind is how a route identifies its caller.
type authKind int

const (
	authSession authKind = iota // the session cookie; nobody signed in → /login
	authBearer                  // a personal access token (JSON API); none or invalid → 401 JSON
	authMetrics                 // /metrics's own token or allow list; off → 404
)

// routes registers each route together with its minimum role, and keeps the
// table so that a test can walk every route × every role. A route cannot be
// added without a role: that is the point.
type routes struct {
	e        *echo.Echo
	policies map[string]routePolicy
}

func (r *routes) add(method, path string, min app.Role, h echo.HandlerFunc) {
	key := method + " " + path
	if _, dup := r.policies[key]; dup {
		panic(fmt.Sprintf("handlers: route %s registered twice", key)) // a programming error, caught by every test
	}
	r.policies[key] = routePolicy{Method: method, Path: path, Min: min}
	if min == public {
		r.e.Add(method, path, h)
		return
	}
	r.e.Add(method, path, h, requireRole(min))
}

func (r *routes) get(path string, min app.Role, h echo.HandlerFunc) {
	r.add(http.MethodGet, path, min, h)
}
func (r *routes) post(path string, min app.Role, h echo.HandlerFunc) {
	r.add(http.MethodPost, path, min, h)
}

// policy returns the policy of a registered route.
func (r *routes) policy(method, path string) (routePolicy, bool) {
	p, ok := r.policies[method+" "+path]
	return p, ok
}

// list returns the policies sorted by path and method.
func (r *routes) list() []routePolicy {
	out := make([]routePolicy, 0, len(r.policies))
	for _, p := range r.policies {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// routes installs the middleware and every route. Roles: Observer reads,
// Creator runs and edits, Admin manages (see app.Role).
func (s *server) routes(e *echo.Echo) *routes {
	e.Use(
		middleware.RequestID(),
		observeLatency(s.Metrics),
		requestLogger(s.Log),
		recoverer(s.Log),
		securityHeaders(s.SecureCookies),
		bodyLimit(maxBodyBytes),
		middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, MinLength: 1024}),
		crossOriginProtection(),
		requestContext,
		s.loadSession,
	)
	r := &routes{e: e, policies: map[string]routePolicy{}}

	// Operations and files.
	r.get("/healthz", public, healthz)
	r.get("/readyz", public, readyz(s.DB, s.Accounts, s.Leases))
	r.get("/static/*", public, staticFiles(s.Static, s.assetTag))

	// Signing in and out.
	r.get("/login", public, s.loginPage)
	r.post("/login", public, s.login(s.passwordSignIn()))
	// Single sign-on: the start (a link, so it works without a form) and
	// the provider's answer. Without OIDC configured both are 404.
	r.get(ssoStartPath, public, s.oidcStart)
	r.get(app.OIDCCallbackPath, public, s.oidcCallback)
	r.post("/logout", app.RoleObserver, s.logout(s.Auth))
	// The second step of sign-in: public, because the half sign-in's own
	// cookie (not a session) is what these pages accept.
	r.get("/login/verify", public, s.mfaVerifyPage)
	r.post("/login/verify", public, s.mfaVerify)
	r.get("/login/enrol", public, s.mfaEnrolSignInPage)
	r.post("/login/enrol", public, s.mfaEnrolSignIn)
	// One-time links (invitations and resets) and the forced change of a
	// password somebody else chose.
	r.get(app.LinkPath+":token", public, s.linkPage(s.Links))
	r.post(app.LinkPath+":token", public, s.useLink(s.Links))
	r.get("/password/change", app.RoleObserver, s.changePasswordPage)
	r.post("/password/change", app.RoleObserver, s.forcedPasswordChange(s.Users))

	// Pages for everyone signed in.
	r.get("/", app.RoleObserver, s.overview(s.Overviews))
	r.get("/overview/running", app.RoleObserver, s.overviewRunning(s.Overviews.Fleet()))
	r.get("/overview/heatmap", app.RoleObserver, s.overviewHeatmap(s.Overviews))
	r.post("/accounts/select", app.RoleObserver, selectAccount)
	r.get("/profile", app.RoleObserver, s.profilePage)
	r.post("/profile", app.RoleObserver, s.updateProfile(s.Users))
	r.post("/profile/password", app.RoleObserver, s.changePassword(s.Users))
	r.post("/profile/sign-out-everywhere", app.RoleObserver, s.signOutEverywhere(s.Auth))
	r.get("/profile/two-factor", app.RoleObserver, s.profileTwoFactorPage)
	r.post("/profile/two-factor", app.RoleObserver, s.profileTwoFactorConfirm)
	r.post("/profile/two-factor/recovery-codes", app.RoleObserver, s.profileRecoveryCodes)
	r.post("/profile/two-factor/disable", app.RoleObserver, s.profileTwoFactorDisable)
	r.get("/profile/tokens", app.RoleObserver, s.tokensPage(s.Tokens))
	r.post("/profile/tokens", app.RoleObserver, s.createToken(s.Tokens))
	r.post("/profile/tokens/:id/revoke", app.RoleObserver, s.revokeToken(s.Tokens))

	// Configurations: reading is Observer, changing Creator, deleting Admin.
	cfgs := s.Configurations
	r.get("/configurations", app.RoleObserver, s.listConfigurations(cfgs))
	r.get("/configurations/new", app.RoleCreator, s.newConfigurationPage(cfgs))
	r.post("/configurations", app.RoleCreator, s.createConfiguration(cfgs))
	r.get("/configurations/schedule-preview", app.RoleObserver, s.schedulePreview)
	r.get("/configurations/path-row", app.RoleCreator, pathRow)
	r.get("/configurations/import", app.RoleCreator, s.importConfigurationPage(cfgs))
	r.post("/configurations/import", app.RoleCreator, s.importConfiguration(cfgs))
	r.get("/configurations/:id", app.RoleObserver, s.configurationPage(cfgs, configStartButton))
	r.get("/configurations/:id/edit", app.RoleCreator, s.editConfigurationPage(cfgs))
	r.post("/configurations/:id", app.RoleCreator, s.updateConfiguration(cfgs))
	r.post("/configurations/:id/enable", app.RoleCreator, s.setConfigurationEnabled(cfgs, true))
	r.post("/configurations/:id/disable", app.RoleCreator, s.setConfigurationEnabled(cfgs, false))
	r.get("/configurations/:id/delete", app.RoleAdmin, s.deleteConfigurationPage(cfgs))
	r.post("/configurations/:id/delete", app.RoleAdmin, s.deleteConfiguration(cfgs))
	r.get("/configurations/:id/clone", app.RoleCreator, s.cloneConfigurationPage(cfgs))
	r.post("/configurations/:id/clone", app.RoleCreator, s.cloneConfiguration(cfgs))
	r.get("/configurations/:id/export.json", app.RoleObserver, s.exportConfiguration(cfgs))

	// Restores: the wizard and starting or stopping are Creator; a restore's
	// page and live status are Observer.
	rsts := s.Restores
	r.get("/restores/new", app.RoleCreator, s.restoreWizard(rsts, app.StepBackup))
	r.get("/restores/new/destination", app.RoleCreator, s.restoreWizard(rsts, app.StepDestination))
	r.get("/restores/new/files", app.RoleCreator, s.restoreWizard(rsts, app.StepFiles))
	r.get("/restores/new/review", app.RoleCreator, s.restoreWizard(rsts, app.StepReview))
	r.post("/restores", app.RoleCreator, s.startRestore(rsts))
	r.get("/restores/:id", app.RoleObserver, s.restorePage(rsts))
	r.get("/restores/:id/status", app.RoleObserver, s.restoreStatus(rsts))
	r.post("/restores/:id/stop", app.RoleCreator, s.stopRestore(rsts))

	// Report history and database maintenance.
	r.get("/reports", app.RoleObserver, s.reportsPage(s.History, s.Syncer))
	r.get("/reports/export.csv", app.RoleObserver, s.exportReports(s.History, exportCSV))
	r.get("/reports/export.json", app.RoleObserver, s.exportReports(s.History, exportJSON))
	r.get("/reports/names", app.RoleObserver, s.reportNames(s.History))
	r.get("/reports/:kind/:id", app.RoleObserver, s.reportPage(s.History))
	r.post("/reports/sync", app.RoleCreator, s.syncReports(s.Syncer))
	r.get("/admin/maintenance", app.RoleAdmin, s.maintenancePage(s.History))
	r.post("/admin/maintenance/prune", app.RoleAdmin, s.pruneReports(s.History))
	r.post("/admin/maintenance/checkpoint", app.RoleAdmin, s.checkpointDB(s.History))
	r.post("/admin/maintenance/backup", app.RoleAdmin, s.backupDB(s.History))

	// Alerts, channels and the digest (roles in alerts.go).
	s.alertRoutes(r, s.Alerts)

	// Operations: reading is Observer; starting, stopping, waking and
	// enabling are Creator; encryption, deletion and vault migration are
	// Admin.
	ops := s.Ops
	r.get("/overview/status", app.RoleObserver, s.overviewStatus(s.Fleet))
	r.get("/agents", app.RoleObserver, s.listAgents(s.Fleet))
	r.get("/agents/:id", app.RoleObserver, s.agentPage(ops))
	r.post("/agents/:id/wake", app.RoleCreator, s.agentQuickAction(ops, quickWake))
	r.post("/agents/:id/enable", app.RoleCreator, s.agentQuickAction(ops, quickEnable))
	r.post("/agents/:id/disable", app.RoleCreator, s.agentQuickAction(ops, quickDisable))
	r.get("/agents/:id/encrypt", app.RoleAdmin, s.agentActionPage(ops, dangerEncrypt))
	r.post("/agents/:id/encrypt", app.RoleAdmin, s.agentAction(ops, dangerEncrypt))
	r.get("/agents/:id/encryption-password", app.RoleAdmin, s.agentActionPage(ops, dangerPassword))
	r.post("/agents/:id/encryption-password", app.RoleAdmin, s.agentAction(ops, dangerPassword))
	r.get("/agents/:id/delete", app.RoleAdmin, s.agentActionPage(ops, dangerDelete))
	r.post("/agents/:id/delete", app.RoleAdmin, s.agentAction(ops, dangerDelete))
	r.get("/agents/:id/migrate", app.RoleAdmin, s.agentActionPage(ops, dangerMigrate))
	r.post("/agents/:id/migrate", app.RoleAdmin, s.agentAction(ops, dangerMigrate))
	r.post("/configurations/:id/backups", app.RoleCreator, s.startBackup(ops))
	r.post("/agents/:id/backups", app.RoleCreator, s.startAgentBackup(ops))
	r.get("/backups/:id", app.RoleObserver, s.backupPage(ops))
	r.get("/backups/:id/status", app.RoleObserver, s.backupStatus(ops))
	r.post("/backups/:id/stop", app.RoleCreator, s.stopBackup(ops))
	r.get("/activity", app.RoleObserver, s.activity(ops))
	r.get("/activity/running", app.RoleObserver, s.runningJobs(ops))

	// Read-only JSON API: personal access tokens, no cookies.
	r.api("/api/v1/agents", app.RoleObserver, apiAgents(s.Accounts, s.Fleet), s)
	r.api("/api/v1/configurations", app.RoleObserver, apiConfigurations(s.Accounts, s.Health, false), s)
	r.api("/api/v1/overdue", app.RoleObserver, apiConfigurations(s.Accounts, s.Health, true), s)
	r.api("/api/v1/reports", app.RoleObserver, apiReports(s.Accounts, s.History), s)
	r.api("/api/v1/incidents", app.RoleObserver, apiIncidents(s.Accounts, s.Alerts), s)
	r.api("/api/v1/*", app.RoleObserver, apiNotFound, s)
	// Prometheus metrics: its own token or allow list; 404 when off.
	r.policies["GET /metrics"] = routePolicy{Method: http.MethodGet, Path: "/metrics", Min: public, Auth: authMetrics}
	e.GET("/metrics", metricsEndpoint(s.Metrics, s.Tokens, s.Accounts, s.Log))

	// Administration.
	r.get("/admin", app.RoleAdmin, s.adminIndex)
	r.get("/admin/users", app.RoleAdmin, s.listUsers(s.Users))
	r.get("/admin/users/new", app.RoleAdmin, s.newUserPage)
	r.post("/admin/users", app.RoleAdmin, s.inviteUser(s.Links))
	r.get("/admin/users/:id", app.RoleAdmin, s.userPage(s.Users))
	r.post("/admin/users/:id/access", app.RoleAdmin, s.setUserAccess(s.Users))
	r.post("/admin/users/:id/disable", app.RoleAdmin, s.setUserDisabled(s.Users, true))
	r.post("/admin/users/:id/enable", app.RoleAdmin, s.setUserDisabled(s.Users, false))
	r.post("/admin/users/:id/reset-link", app.RoleAdmin, s.resetLink(s.Users, s.Links))
	r.get("/admin/accounts", app.RoleAdmin, s.listAccounts(s.Accounts))
	r.get("/admin/accounts/new", app.RoleAdmin, s.newAccountPage)
	r.post("/admin/accounts", app.RoleAdmin, s.createAccount(s.Accounts))
	r.get("/admin/accounts/:id/edit", app.RoleAdmin, s.editAccountPage(s.Accounts))
	r.post("/admin/accounts/:id", app.RoleAdmin, s.updateAccount(s.Accounts))
	r.get("/admin/accounts/:id/delete", app.RoleAdmin, s.deleteAccountPage(s.Accounts))
	r.post("/admin/accounts/:id/delete", app.RoleAdmin, s.deleteAccount(s.Accounts))
	r.get("/admin/audit", app.RoleAdmin, s.auditLog(s.Audit))
	r.get("/admin/two-factor", app.RoleAdmin, s.mfaSettingsPage)
	r.post("/admin/two-factor", app.RoleAdmin, s.saveMFASettings)
	r.post("/admin/users/:id/two-factor/reset", app.RoleAdmin, s.resetUserTwoFactor)

	return r
}
