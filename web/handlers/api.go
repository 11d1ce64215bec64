package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// The read-only JSON API under /api/v1/. Callers authenticate with a
// personal access token ("Authorization: Bearer rcbu_pat_..."); cookies are
// ignored, so CSRF does not apply. A token acts with its user's current
// role, and every route is a GET. Errors are {"error": "..."} with 400 for
// a bad filter, 401 for a missing or invalid token, 403 for too low a role,
// 404 for an unknown path or id.

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

// apiRealm names the console in WWW-Authenticate challenges.
const apiRealm = `Bearer realm="rcbu-console"`

// api registers a GET route of the JSON API: bearer-token authentication,
// minimum role min, JSON errors.
func (r *routes) api(path string, min app.Role, h echo.HandlerFunc, s *server) {
	key := http.MethodGet + " " + path
	if _, dup := r.policies[key]; dup {
		panic(fmt.Sprintf("handlers: route %s registered twice", key)) // a programming error, caught by every test
	}
	r.policies[key] = routePolicy{Method: http.MethodGet, Path: path, Min: min, Auth: authBearer}
	r.e.GET(path, h, s.apiErrors, s.bearerAuth(min))
}

// apiErrors turns the error of an API handler (or of its authentication)
// into a JSON error with the matching status, so the HTML error page never
// answers an API client. 5xx are logged once, with the request id.
func (s *server) apiErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil {
			return nil
		}
		status, msg := apiClassify(err)
		r := c.Request()
		if status >= 500 {
			s.logFailure(c, slog.LevelError, "request_failed", status, err)
		}
		if c.Response().Committed {
			return nil // a stream broke off; the client sees a truncated body
		}
		if status == http.StatusUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, apiRealm)
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		if werr := c.JSON(status, apiError{Error: msg}); werr != nil {
			s.Log.ErrorContext(r.Context(), "error_response_failed", slog.Any("err", werr))
		}
		return nil
	}
}

// apiClassify maps an error to a status and a message for API clients;
// internal errors never show their text.
func apiClassify(err error) (int, string) {
	var he *echo.HTTPError
	var ve *app.ValidationError
	switch {
	case errors.As(err, &ve):
		return http.StatusBadRequest, strings.TrimPrefix(ve.Error(), "invalid input: ")
	case errors.Is(err, app.ErrInvalid):
		return http.StatusBadRequest, "invalid request"
	case errors.Is(err, app.ErrUnauthorized):
		return http.StatusUnauthorized, "a valid personal access token is required: send Authorization: Bearer <token> (create one under Profile → API tokens)"
	case errors.Is(err, app.ErrForbidden):
		return http.StatusForbidden, "your role does not allow this"
	case errors.Is(err, app.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "the console took too long to answer; try again"
	case errors.As(err, &he):
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			return he.Code, m
		}
		if he.Code < 500 {
			return he.Code, strings.ToLower(http.StatusText(he.Code))
		}
		return he.Code, "internal error"
	default:
		return http.StatusInternalServerError, "internal error"
	}
}

// tokenAuthenticator checks a personal access token; *app.Tokens is one.
type tokenAuthenticator interface {
	Authenticate(ctx context.Context, secret string) (app.User, app.Token, error)
}

// bearerAuth authenticates the request by its personal access token and
// requires role min of its user. A session cookie counts for nothing here.
func (s *server) bearerAuth(min app.Role) echo.MiddlewareFunc {
	var tokens tokenAuthenticator = s.Tokens
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			secret, ok := bearerToken(c.Request())
			if !ok {
				return fmt.Errorf("api: no bearer token: %w", app.ErrUnauthorized)
			}
			u, _, err := tokens.Authenticate(c.Request().Context(), secret)
			if err != nil {
				return err
			}
			if !u.Role.Allows(min) {
				return fmt.Errorf("api: %s needs the %s role: %w", c.Path(), min.Label(), app.ErrForbidden)
			}
			c.Set(ctxUser, u)
			return next(c)
		}
	}
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// apiNotFound answers unknown paths under /api/v1/ (after authentication,
// so the API's layout is not disclosed to anonymous callers).
func apiNotFound(echo.Context) error {
	return fmt.Errorf("api: no such endpoint: %w", app.ErrNotFound)
}

// apiAccounts is every account the token's owner has a grant on: a token
// acts with its owner's access as it is now.
func apiAccounts(c echo.Context, accounts accountLister) ([]app.Account, error) {
	list, err := accounts.List(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return mustUser(c).VisibleAccounts(list), nil
}

// apiScope is every account of the token's owner, or the one named by
// ?account=ID. An account that does not exist for them is a bad filter.
func apiScope(c echo.Context, accounts accountLister) (app.Scope, error) {
	list, err := apiAccounts(c, accounts)
	if err != nil {
		return app.Scope{}, err
	}
	raw := c.QueryParam("account")
	if raw == "" {
		return app.NewScope(list...), nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err == nil {
		for _, a := range list {
			if int64(a.ID) == id {
				return app.NewScope(a), nil
			}
		}
	}
	return app.Scope{}, app.Invalid("account", fmt.Sprintf("no account with id %q", raw))
}

// jsonTime is a time in RFC 3339 UTC, or null for the zero time.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return new(t.UTC().Format(time.RFC3339))
}

// apiProblem is an account whose data could not be read; the other
// accounts' data is still in the answer.
type apiProblem struct {
	AccountID   app.AccountID `json:"account_id"`
	AccountName string        `json:"account_name"`
	Message     string        `json:"message"`
}

func apiProblems(ps ...[]app.AccountProblem) []apiProblem {
	out := []apiProblem{}
	seen := map[app.AccountID]bool{}
	for _, list := range ps {
		for _, p := range list {
			if !seen[p.AccountID] {
				seen[p.AccountID] = true
				out = append(out, apiProblem{AccountID: p.AccountID, AccountName: p.AccountName, Message: p.Message})
			}
		}
	}
	return out
}

// apiAgent is an agent in the API.
type apiAgent struct {
	AccountID       app.AccountID `json:"account_id"`
	AccountName     string        `json:"account_name"`
	ID              rcbu.AgentID  `json:"id"`
	Name            string        `json:"name"`
	Status          string        `json:"status"` // Online, Offline, or Unknown when the details could not be read
	Enabled         bool          `json:"enabled"`
	Encrypted       bool          `json:"encrypted"`
	OperatingSystem string        `json:"operating_system"`
	OSVersion       string        `json:"operating_system_version"`
	AgentVersion    string        `json:"agent_version"`
	Datacenter      string        `json:"datacenter"`
	IPAddress       string        `json:"ip_address"`
	VaultBytes      *int64        `json:"vault_bytes"`
	LastSuccess     *string       `json:"last_success"`
}

// apiAgents is GET /api/v1/agents[?account=ID]: every agent with its live
// status (Unknown where the details could not be read).
func apiAgents(accounts accountLister, fleet agentLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		scope, err := apiScope(c, accounts)
		if err != nil {
			return err
		}
		list, problems, err := fleet.AgentsLive(c.Request().Context(), scope)
		if err != nil {
			return err
		}
		out := make([]apiAgent, len(list))
		for i, fa := range list {
			ag := fa.Agent
			status := "Unknown"
			if fa.Live && ag.StatusKnown() {
				status = string(ag.Status)
			}
			out[i] = apiAgent{
				AccountID: fa.AccountID, AccountName: fa.AccountName, ID: ag.ID, Name: ag.MachineName, Status: status,
				Enabled: ag.Enabled(), Encrypted: ag.Encrypted(), OperatingSystem: ag.OperatingSystem, OSVersion: ag.OperatingSystemVersion,
				AgentVersion: ag.AgentVersion, Datacenter: ag.Datacenter, IPAddress: ag.IPAddress,
			}
			if ag.BackupVaultSize != nil {
				out[i].VaultBytes = new(ag.BackupVaultSize.Bytes)
			}
			if ag.TimeOfLastSuccessfulBackup.Valid() {
				out[i].LastSuccess = jsonTime(ag.TimeOfLastSuccessfulBackup.Time)
			}
		}
		return c.JSON(http.StatusOK, struct {
			Agents   []apiAgent   `json:"agents"`
			Problems []apiProblem `json:"problems"`
		}{out, apiProblems(problems)})
	}
}

// apiConfiguration is a configuration with its derived state in the API.
type apiConfiguration struct {
	AccountID       app.AccountID        `json:"account_id"`
	AccountName     string               `json:"account_name"`
	ID              rcbu.ConfigurationID `json:"id"`
	Name            string               `json:"name"`
	AgentID         rcbu.AgentID         `json:"agent_id"`
	AgentName       string               `json:"agent_name"`
	Enabled         bool                 `json:"enabled"`
	Frequency       string               `json:"frequency"`
	IntervalSeconds int64                `json:"interval_seconds"` // 0 for manual schedules
	NextRun         *string              `json:"next_run"`
	LastRun         *string              `json:"last_run"`
	LastState       string               `json:"last_state"` // "" when no finished backup is known
	LastSuccess     *string              `json:"last_success"`
	LastBytes       *int64               `json:"last_backed_up_bytes"` // of the newest stored backup report
	Overdue         bool                 `json:"overdue"`
	OverdueSeconds  int64                `json:"overdue_seconds"` // how long past due; 0 when it never succeeded
	NeverSucceeded  bool                 `json:"never_succeeded"`
	RunningBackupID *int64               `json:"running_backup_id"`
}

// healthReader derives the state of configurations; *app.Health is one.
type healthReader interface {
	Configurations(ctx context.Context, scope app.Scope) ([]app.ConfigurationHealth, []app.AccountProblem, error)
}

// apiConfigurations is GET /api/v1/configurations[?account=ID&agent=ID]
// (overdueOnly: GET /api/v1/overdue): configurations with their last
// success, last state and overdue verdict, the same as /metrics says.
func apiConfigurations(accounts accountLister, health healthReader, overdueOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		scope, err := apiScope(c, accounts)
		if err != nil {
			return err
		}
		var agent rcbu.AgentID
		if raw := c.QueryParam("agent"); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n <= 0 {
				return app.Invalid("agent", fmt.Sprintf("want an agent id, got %q", raw))
			}
			agent = rcbu.AgentID(n)
		}
		list, problems, err := health.Configurations(c.Request().Context(), scope)
		if err != nil {
			return err
		}
		out := []apiConfiguration{}
		for _, st := range list {
			cf := st.Configuration
			if overdueOnly && !st.Overdue.Overdue || agent != 0 && cf.AgentID != agent {
				continue
			}
			v := apiConfiguration{
				AccountID: st.AccountID, AccountName: st.AccountName, ID: cf.ID, Name: cf.Name, AgentID: cf.AgentID, AgentName: cf.MachineName,
				Enabled: cf.IsActive, Frequency: string(cf.Frequency), IntervalSeconds: int64(st.Interval / time.Second),
				LastRun: jsonTime(st.LastRun), LastState: st.LastState, LastSuccess: jsonTime(st.LastSuccess),
				Overdue: st.Overdue.Overdue, OverdueSeconds: int64(st.Overdue.By / time.Second), NeverSucceeded: st.Overdue.Never,
			}
			if st.HasBytes {
				v.LastBytes = new(st.LastBytes)
			}
			if next, ok := cf.NextRun(); ok && cf.IsActive {
				v.NextRun = jsonTime(next)
			}
			if st.Running != nil {
				v.RunningBackupID = new(st.Running.Activity.ID)
			}
			out = append(out, v)
		}
		return c.JSON(http.StatusOK, struct {
			Configurations []apiConfiguration `json:"configurations"`
			Problems       []apiProblem       `json:"problems"`
		}{out, apiProblems(problems)})
	}
}

// apiReport is a stored report snapshot in the API.
type apiReport struct {
	ID                app.SnapshotID       `json:"id"`
	AccountID         app.AccountID        `json:"account_id"`
	Kind              app.ReportKind       `json:"kind"`
	JobID             int64                `json:"job_id"`
	AgentID           rcbu.AgentID         `json:"agent_id"`
	AgentName         string               `json:"agent_name"`
	ConfigurationID   rcbu.ConfigurationID `json:"configuration_id"`
	ConfigurationName string               `json:"configuration_name"`
	DestinationID     rcbu.AgentID         `json:"destination_agent_id,omitempty"`
	State             string               `json:"state"`
	Started           *string              `json:"started"`
	Finished          *string              `json:"finished"`
	DurationSeconds   int64                `json:"duration_seconds"`
	reportCounts
	Reason     string `json:"reason"`
	CanRestore bool   `json:"can_restore"`
}

// reportLister pages the stored reports; *app.History is one.
type reportLister interface {
	List(ctx context.Context, f app.ReportFilter) (app.ReportPage, error)
	ResolveNames(ctx context.Context, f *app.ReportFilter) ([]app.FilterProblem, error)
}

// apiReports is GET /api/v1/reports with the /reports page's filters
// (account, agent, config (an id or a name), kind, state, from, to, errors, q, sort, dir)
// plus limit (1–500, default 50) and cursor, read by app.ParseReportQuery
// as the page reads them (dates are UTC days; a date-only to takes in the
// whole day). It pages with keysets: the answer's next is the URL of the
// following page (null on the last). Unlike the page, which ignores a bad
// filter with a note, the API refuses it with 400 so that a script does not
// silently read the wrong data.
func apiReports(accounts accountLister, history reportLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		list, err := apiAccounts(c, accounts)
		if err != nil {
			return err
		}
		f, problems := app.ParseReportQuery(c.QueryParams(), app.ReportQueryOptions{Accounts: list, Location: time.UTC, Limit: true})
		if err := app.ReportQueryProblems(problems); err != nil {
			return err
		}
		// An agent or configuration may be given by name; one that matches
		// none or several is a bad filter.
		named, err := history.ResolveNames(c.Request().Context(), &f)
		if err != nil {
			return err
		}
		if err := app.ReportQueryProblems(named); err != nil {
			return err
		}
		page, err := history.List(c.Request().Context(), f)
		if err != nil {
			return err
		}
		out := make([]apiReport, len(page.Reports))
		for i, r := range page.Reports {
			out[i] = apiReport{
				ID: r.ID, AccountID: r.AccountID, Kind: r.Kind, JobID: r.JobID, AgentID: r.AgentID, AgentName: r.AgentName,
				ConfigurationID: r.ConfigID, ConfigurationName: r.ConfigName, DestinationID: r.DestAgentID, State: r.State,
				Started: jsonTime(r.Started), Finished: jsonTime(r.Finished), DurationSeconds: int64(r.Duration / time.Second),
				reportCounts: countsOf(r), Reason: r.Reason, CanRestore: r.CanRestore,
			}
		}
		var next, nextCursor *string
		if page.HasNext && len(page.Reports) > 0 {
			cur := app.EncodeReportCursor(f, page.Reports[len(page.Reports)-1].Cursor(f.Sort))
			q := c.QueryParams()
			q.Set("cursor", cur)
			u := c.Request().URL.Path + "?" + q.Encode()
			next, nextCursor = &u, &cur
		}
		return c.JSON(http.StatusOK, struct {
			Reports    []apiReport `json:"reports"`
			Next       *string     `json:"next"`
			NextCursor *string     `json:"next_cursor"`
		}{out, next, nextCursor})
	}
}
