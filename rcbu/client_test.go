package rcbu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
)

const (
	testToken = "s3cr3t-token-value"
	basePath  = "/v1.0/123456/"
)

// setup starts an httptest server whose mux serves the API under basePath
// and returns a client for it (go-github's setup).
func setup(t *testing.T, opts ...rcbu.Option) (*rcbu.Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	all := append([]rcbu.Option{rcbu.WithBaseURL(srv.URL + "/v1.0/123456"), rcbu.WithToken(testToken),
		rcbu.WithRetry(4, time.Millisecond, 2*time.Millisecond), rcbu.WithStartRetry(3, time.Millisecond)}, opts...)
	c, err := rcbuhttp.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux, srv
}

// handle registers a handler that checks method and token.
func handle(t *testing.T, mux *http.ServeMux, method, path string, h func(w http.ResponseWriter, r *http.Request)) {
	t.Helper()
	mux.HandleFunc(basePath+path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			t.Errorf("%s: method = %s, want %s", path, r.Method, method)
		}
		if r.Header.Get("X-Auth-Token") != testToken {
			t.Errorf("%s: missing token", path)
		}
		h(w, r)
	})
}

func body(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Fatalf("request body: %v", err)
	}
	return m
}

func TestNewClientValidation(t *testing.T) {
	for name, opts := range map[string][]rcbu.Option{
		"no base URL":  {rcbu.WithToken("x")},
		"no token":     {rcbu.WithBaseURL("http://127.0.0.1/v1.0/1")},
		"bad base URL": {rcbu.WithBaseURL("ftp:/x"), rcbu.WithToken("x")},
	} {
		if _, err := rcbuhttp.NewClient(opts...); err == nil {
			t.Errorf("%s: NewClient succeeded", name)
		}
	}
	c, err := rcbuhttp.NewClient(rcbu.WithBaseURL("http://127.0.0.1:1/v1.0/778899/"), rcbu.WithToken("x"), rcbu.WithRegion("iad"))
	if err != nil || c.Tenant() != "778899" || c.Regions()[0] != "IAD" || c.APIVersion() != "v1.0" {
		t.Fatalf("client = %v tenant %q regions %v", err, c.Tenant(), c.Regions())
	}
}

func TestScalarBodies(t *testing.T) {
	for _, raw := range []string{"736251", `"736251"`, " 736251\r\n"} {
		t.Run("start backup "+strings.TrimSpace(raw), func(t *testing.T) {
			c, mux, _ := setup(t)
			handle(t, mux, "GET", "backup-configuration/55", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })
			handle(t, mux, "POST", "backup/action-requested", func(w http.ResponseWriter, r *http.Request) {
				if d := cmp.Diff(map[string]any{"Action": "StartManual", "Id": 55.0}, body(t, r)); d != "" {
					t.Error(d)
				}
				fmt.Fprint(w, raw)
			})
			b, err := c.Backups.Start(context.Background(), 55)
			if err != nil || b.ID != 736251 || b.State() != rcbu.BackupStartRequested || !b.Running() {
				t.Fatalf("Start = %+v, %v", b, err)
			}
		})
	}
	t.Run("start without an id is an error", func(t *testing.T) {
		c, mux, _ := setup(t)
		handle(t, mux, "POST", "backup/action-requested", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		if _, err := c.Backups.Start(context.Background(), 55); err == nil || !strings.Contains(err.Error(), "backup id") {
			t.Fatalf("err = %v", err)
		}
	})
	for _, raw := range []string{`"8d2f6c1e-4b3a-4f7d-9e21-6a5b4c3d2e10"`, "8d2f6c1e-4b3a-4f7d-9e21-6a5b4c3d2e10\n"} {
		t.Run("encrypt guid", func(t *testing.T) {
			c, mux, _ := setup(t)
			handle(t, mux, "POST", "agent/encrypt", func(w http.ResponseWriter, r *http.Request) {
				m := body(t, r)
				if m["MachineAgentId"] != 42.0 || m["EncryptedPasswordHex"] != "abcd" {
					t.Errorf("body = %v", m)
				}
				fmt.Fprint(w, raw)
			})
			id, err := c.Agents.Encrypt(context.Background(), 42, "abcd")
			if err != nil || id != "8d2f6c1e-4b3a-4f7d-9e21-6a5b4c3d2e10" {
				t.Fatalf("Encrypt = %q, %v", id, err)
			}
		})
	}
	t.Run("log level name", func(t *testing.T) {
		c, mux, _ := setup(t)
		handle(t, mux, "GET", "agent/logging/42", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `"Warn"`) })
		if l, err := c.Agents.GetLogLevel(context.Background(), 42); err != nil || l != rcbu.LogWarn {
			t.Fatalf("LogLevel = %v, %v", l, err)
		}
	})
}

func TestStatusTolerance(t *testing.T) {
	for _, status := range []int{200, 204} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			c, mux, _ := setup(t)
			var calls atomic.Int32
			ok := func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(status) }
			handle(t, mux, "DELETE", "backup-configuration/7", ok)
			handle(t, mux, "PUT", "agent/logging", func(w http.ResponseWriter, r *http.Request) {
				if m := body(t, r); m["LoggingLevelId"] != 5.0 {
					t.Errorf("body = %v", m)
				}
				ok(w, r)
			})
			handle(t, mux, "DELETE", "restore/files/9", ok)
			handle(t, mux, "POST", "agent/delete", ok)
			handle(t, mux, "PUT", "agent/migratevault", ok)
			ctx := context.Background()
			for _, err := range []error{
				c.Configurations.Delete(ctx, 7), c.Agents.SetLogLevel(ctx, 42, rcbu.LogDebug),
				c.Restores.DeleteFile(ctx, 3, 9), c.Agents.Delete(ctx, 42), c.Agents.MigrateVault(ctx, 42, 43),
			} {
				if err != nil {
					t.Error(err)
				}
			}
			if calls.Load() != 5 {
				t.Errorf("calls = %d", calls.Load())
			}
		})
	}
	t.Run("empty 200 from enable reads the configuration back", func(t *testing.T) {
		c, mux, _ := setup(t)
		handle(t, mux, "POST", "backup-configuration/enable/7", func(w http.ResponseWriter, r *http.Request) {
			if m := body(t, r); m["Enable"] != false {
				t.Errorf("body = %v", m)
			}
		})
		handle(t, mux, "GET", "backup-configuration/7", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"BackupConfigurationId": 7, "IsActive": "false"}`)
		})
		cfg, err := c.Configurations.Disable(context.Background(), 7)
		if err != nil || cfg.ID != 7 || cfg.IsActive {
			t.Fatalf("Disable = %+v, %v", cfg, err)
		}
	})
	t.Run("empty 200 where a body is required", func(t *testing.T) {
		c, mux, _ := setup(t)
		handle(t, mux, "GET", "agent/42", func(w http.ResponseWriter, r *http.Request) {})
		if _, err := c.Agents.Get(context.Background(), 42); err == nil {
			t.Fatal("empty agent body accepted")
		}
	})
}

func TestConfigurationRequestEncoding(t *testing.T) {
	c, mux, _ := setup(t)
	var got []map[string]any
	handle(t, mux, "GET", "agent/42", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"MachineAgentId": 42}`) })
	handle(t, mux, "POST", "backup-configuration", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, body(t, r))
		fmt.Fprint(w, `{"BackupConfigurationId": 9, "MachineAgentId": 42, "Frequency": "Manually", "StartTimeAmPm": ""}`)
	})
	req := rcbu.ConfigurationRequest{AgentID: 42, Name: "n", IsActive: true, MissedBackupActionID: 1, Schedule: rcbu.Manual()}
	ctx := context.Background()
	cfg, err := c.Configurations.Create(ctx, &req)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := cfg.Schedule(); err != nil || s.Frequency != rcbu.FrequencyManually {
		t.Errorf("schedule of a manual config with AmPm \"\" = %+v, %v", s, err)
	}
	req.Schedule = rcbu.Daily(0, 5).In("Eastern Standard Time")
	req.Inclusions = []rcbu.PathItem{{FilePath: `C:\data`, FileItemType: rcbu.ItemFolder, FileID: 3, Filter: "Include"}}
	if _, err := c.Configurations.Create(ctx, &req); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{
		"MachineAgentId": 42.0, "BackupConfigurationName": "n", "IsActive": true, "VersionRetention": 0.0,
		"MissedBackupActionId": 1.0, "Frequency": "Manually", "StartTimeHour": nil, "StartTimeMinute": nil,
		"StartTimeAmPm": nil, "DayOfWeekId": nil, "HourInterval": nil, "TimeZoneId": "UTC",
		"NotifyRecipients": "", "NotifySuccess": false, "NotifyFailure": false, "Inclusions": []any{}, "Exclusions": []any{},
	}, {
		"MachineAgentId": 42.0, "BackupConfigurationName": "n", "IsActive": true, "VersionRetention": 0.0,
		"MissedBackupActionId": 1.0, "Frequency": "Daily", "StartTimeHour": 12.0, "StartTimeMinute": 5.0,
		"StartTimeAmPm": "AM", "DayOfWeekId": nil, "HourInterval": nil, "TimeZoneId": "Eastern Standard Time",
		"NotifyRecipients": "", "NotifySuccess": false, "NotifyFailure": false,
		"Inclusions": []any{map[string]any{"FilePath": `C:\data`, "FileItemType": "Folder"}}, "Exclusions": []any{},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("request bodies (-want +got):\n%s", d)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		message  string
	}{
		{"json message", 404, `{"Message": "agent 42 not found"}`, rcbu.ErrNotFound, "agent 42 not found"},
		{"identity wrapper", 401, `{"unauthorized": {"code": 401, "message": "Bad token"}}`, rcbu.ErrUnauthorized, "Bad token"},
		{"plain text", 403, "Access denied\n", rcbu.ErrForbidden, "Access denied"},
		{"bad request", 400, `{"message": "Frequency is invalid"}`, rcbu.ErrBadRequest, "Frequency is invalid"},
		{"conflict", 409, ``, rcbu.ErrConflict, ""},
		{"huge body is cut", 400, strings.Repeat("x", 3<<20), rcbu.ErrBadRequest, strings.Repeat("x", 300) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			handle(t, mux, "POST", "agent/enable", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "req-1")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			err := c.Agents.Enable(context.Background(), 42)
			wantErr(t, err, tt.sentinel)
			var e *rcbu.Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			if e.StatusCode != tt.status || e.Message != tt.message || e.Op != "enable agent 42" || e.Method != "POST" ||
				e.Path != basePath+"agent/enable" || e.RequestID != "req-1" {
				t.Errorf("error = %+v", e)
			}
			for _, other := range []error{rcbu.ErrNotFound, rcbu.ErrUnauthorized, rcbu.ErrForbidden, rcbu.ErrBadRequest, rcbu.ErrConflict, rcbu.ErrUnavailable} {
				if other != tt.sentinel && errors.Is(err, other) {
					t.Errorf("also matches %v", other)
				}
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Run("GET is retried after 503 and 429", func(t *testing.T) {
		c, mux, _ := setup(t)
		var calls atomic.Int32
		handle(t, mux, "GET", "agent/42", func(w http.ResponseWriter, r *http.Request) {
			switch calls.Add(1) {
			case 1:
				w.WriteHeader(503)
			case 2:
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(429)
			default:
				fmt.Fprint(w, `{"MachineAgentId": 42, "Status": "Online"}`)
			}
		})
		a, err := c.Agents.Get(context.Background(), 42)
		if err != nil || !a.Online() || calls.Load() != 3 {
			t.Fatalf("Get = %+v, %v after %d calls", a, err, calls.Load())
		}
	})
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		wantCalls  int32
	}{
		{"GET gives up after the bound", 502, "", 4},
		{"long Retry-After is not waited for", 503, "3600", 1},
		{"a Retry-After date an hour away is not waited for", 503, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 1},
		{"a Retry-After date in the past is retried at once", 503, time.Now().Add(-time.Hour).UTC().Format(time.RFC850), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			var calls atomic.Int32
			handle(t, mux, "GET", "user/agents", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
			})
			_, err := c.Agents.List(context.Background())
			wantErr(t, err, rcbu.ErrUnavailable)
			if calls.Load() != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls.Load(), tc.wantCalls)
			}
		})
	}
	t.Run("500 is not retried", func(t *testing.T) {
		c, mux, _ := setup(t)
		var calls atomic.Int32
		handle(t, mux, "GET", "user/agents", func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(500) })
		if _, err := c.Agents.List(context.Background()); err == nil || calls.Load() != 1 {
			t.Fatalf("err %v after %d calls", err, calls.Load())
		}
	})
	t.Run("connection errors are retried for GET", func(t *testing.T) {
		c, mux, _ := setup(t)
		var calls atomic.Int32
		handle(t, mux, "GET", "activity", func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			fmt.Fprint(w, `[]`)
		})
		acts, err := c.Activity.List(context.Background())
		if err != nil || acts == nil || calls.Load() != 2 {
			t.Fatalf("List = %v, %v after %d calls", acts, err, calls.Load())
		}
	})
	t.Run("POST is never retried", func(t *testing.T) {
		c, mux, _ := setup(t)
		var calls atomic.Int32
		handle(t, mux, "POST", "user/wakeupagents", func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(503) })
		wantErr(t, c.Agents.Wake(context.Background()), rcbu.ErrUnavailable)
		if calls.Load() != 1 {
			t.Errorf("calls = %d, want 1", calls.Load())
		}
	})
	t.Run("start retries a transient 403 within its bound", func(t *testing.T) {
		c, mux, _ := setup(t)
		var calls atomic.Int32
		handle(t, mux, "POST", "restore/action-requested", func(w http.ResponseWriter, r *http.Request) {
			m := body(t, r)
			if m["EncryptedPassword"] != "beef" {
				t.Errorf("body = %v", m)
			}
			if calls.Add(1) < 3 {
				w.WriteHeader(403)
				return
			}
			w.WriteHeader(204)
		})
		r, err := c.Restores.Start(context.Background(), 5, &rcbu.RestoreStartOptions{EncryptedPassword: "beef"})
		if err != nil || r.State() != rcbu.RestoreStartRequested || calls.Load() != 3 {
			t.Fatalf("Start = %v after %d calls", err, calls.Load())
		}
		calls.Store(-10)
		_, err = c.Restores.Start(context.Background(), 5, &rcbu.RestoreStartOptions{EncryptedPassword: "beef"})
		wantErr(t, err, rcbu.ErrForbidden)
		if calls.Load() != -7 {
			t.Errorf("attempts = %d, want 3", calls.Load()+10)
		}
	})
	t.Run("context ends the backoff", func(t *testing.T) {
		c, mux, _ := setup(t, rcbu.WithRetry(10, time.Hour, time.Hour))
		handle(t, mux, "GET", "user/agents", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Agents.List(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestUnauthorized(t *testing.T) {
	t.Run("fixed token: 401 returned after one call", func(t *testing.T) {
		c, mux, _ := setup(t)
		var calls atomic.Int32
		handle(t, mux, "GET", "agent/42", func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(401) })
		_, err := c.Agents.Get(context.Background(), 42)
		wantErr(t, err, rcbu.ErrUnauthorized)
		if calls.Load() != 1 {
			t.Errorf("calls = %d", calls.Load())
		}
	})
	t.Run("credentials: refresh once, replay the body once", func(t *testing.T) {
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		var auths, calls atomic.Int32
		mux.HandleFunc("/v2.0/tokens", func(w http.ResponseWriter, r *http.Request) {
			n := auths.Add(1)
			var in struct {
				Auth struct {
					Key struct{ Username, APIKey string } `json:"RAX-KSKEY:apiKeyCredentials"`
				} `json:"auth"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Auth.Key.Username != "alice" || in.Auth.Key.APIKey != "k" {
				t.Errorf("identity body: %+v %v", in, err)
			}
			fmt.Fprintf(w, `{"access": {"token": {"id": "tok-%d", "expires": "2999-01-01T00:00:00Z", "tenant": {"id": "778899"}},
				"serviceCatalog": [{"name": "cloudBackup", "type": "rax:backup", "endpoints": [
					{"region": "IAD", "publicURL": %q}, {"region": "DFW", "publicURL": %q}, {"publicURL": %q}]}],
				"user": {"RAX-AUTH:defaultRegion": "DFW"}}}`, n, srv.URL+"/iad/v1.0/778899", srv.URL+"/dfw/v1.0/778899", srv.URL+"/v1.0/778899")
		})
		mux.HandleFunc("/dfw/v1.0/778899/agent/enable", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			b, _ := io.ReadAll(r.Body)
			if !bytes.Contains(b, []byte(`"MachineAgentId":42`)) {
				t.Errorf("replayed body = %q", b)
			}
			if r.Header.Get("X-Auth-Token") != "tok-2" {
				w.WriteHeader(401)
				return
			}
			w.WriteHeader(204)
		})
		mux.HandleFunc("/dfw/v1.0/778899/agent/delete", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(401)
		})
		ctx := context.Background()
		c, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: "alice", APIKey: "k"}, rcbu.WithIdentityURL(srv.URL+"/v2.0/tokens"))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Regions(); len(got) != 1 || got[0] != "DFW" || c.Tenant() != "778899" {
			t.Fatalf("regions %v tenant %q", got, c.Tenant())
		}
		if err := c.Agents.Enable(ctx, 42); err != nil {
			t.Fatal(err)
		}
		if auths.Load() != 2 || calls.Load() != 2 {
			t.Errorf("auths %d calls %d, want 2 and 2", auths.Load(), calls.Load())
		}
		// A token the service keeps rejecting: one refresh, then the error.
		auths.Store(0)
		calls.Store(0)
		wantErr(t, c.Agents.Delete(ctx, 42), rcbu.ErrUnauthorized)
		if auths.Load() != 1 || calls.Load() != 2 {
			t.Errorf("auths %d calls %d, want 1 and 2", auths.Load(), calls.Load())
		}
	})
}

func TestLoggingAndHeaders(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux, srv := setup(t, rcbu.WithLogger(log), rcbu.WithUserAgent("console/1"))
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "" {
			t.Error("token sent to a foreign host")
		}
		fmt.Fprint(w, `{"MachineAgentId": 7}`)
	}))
	t.Cleanup(other.Close)
	handle(t, mux, "GET", "agent/7", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "console/1" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("headers = %v", r.Header)
		}
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	})
	if _, err := c.Agents.Get(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, testToken) || !strings.Contains(out, "path="+basePath+"agent/7") || !strings.Contains(out, "status=302") && !strings.Contains(out, "status=200") {
		t.Errorf("log = %s", out)
	}
	_ = srv
}

func TestHandles(t *testing.T) {
	c, mux, _ := setup(t)
	var state atomic.Value
	state.Store("InProgress")
	var reports atomic.Int32
	handle(t, mux, "GET", "backup/9", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"BackupId": 9, "BackupConfigurationId": 3, "CurrentState": %q}`, state.Load())
	})
	handle(t, mux, "GET", "backup/report/9", func(w http.ResponseWriter, r *http.Request) {
		reports.Add(1)
		fmt.Fprint(w, `{"BackupId": 9, "State": "Completed", "CanRestore": true, "Duration": "00:00:10", "BytesBackedUp": "2 GB"}`)
	})
	ctx := context.Background()
	b := c.Backups.Handle(9)
	if b.Status() != nil || b.State() != "" {
		t.Error("fresh handle has a status")
	}
	if rep, err := b.Report(ctx); rep != nil || !errors.Is(err, rcbu.ErrNotDone) || b.ConfigurationID != 3 {
		t.Fatalf("Report while running = %v, %v", rep, err)
	}
	go func() { time.Sleep(5 * time.Millisecond); state.Store("Completed") }()
	st, err := b.Wait(ctx, time.Millisecond)
	if err != nil || st.State != rcbu.BackupCompleted || !b.Done() || b.Running() {
		t.Fatalf("Wait = %+v, %v", st, err)
	}
	for range 2 {
		rep, err := b.Report(ctx)
		if err != nil || !rep.OK() || rep.BytesBackedUp.Bytes != 2<<30 || rep.Duration != 10*time.Second {
			t.Fatalf("Report = %+v, %v", rep, err)
		}
	}
	if reports.Load() != 1 {
		t.Errorf("report fetched %d times, want once", reports.Load())
	}
	state.Store("InProgress")
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Backups.Wait(ctx2, 9, time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past deadline = %v", err)
	}
}

func TestReportRaw(t *testing.T) {
	c, mux, _ := setup(t)
	handle(t, mux, "GET", "backup/report/1", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"BackupId": 1, "Weird": [}`) })
	handle(t, mux, "GET", "backup/report/2", func(w http.ResponseWriter, r *http.Request) {})
	handle(t, mux, "GET", "restore/report/3", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	handle(t, mux, "GET", "restore/report/4", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{\"State\": \"Completed\"}\n") })
	ctx := context.Background()
	if raw, err := c.Backups.ReportRaw(ctx, 1); err != nil || string(raw) != `{"BackupId": 1, "Weird": [}` {
		t.Errorf("ReportRaw(1) = %q, %v", raw, err)
	}
	if _, err := c.Backups.Report(ctx, 1); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Errorf("Report of invalid JSON = %v", err)
	}
	if _, err := c.Backups.ReportRaw(ctx, 2); err == nil {
		t.Error("empty body accepted")
	}
	_, err := c.Restores.ReportRaw(ctx, 3)
	wantErr(t, err, rcbu.ErrNotFound)
	if raw, err := c.Restores.ReportRaw(ctx, 4); err != nil || string(raw) != "{\"State\": \"Completed\"}\n" {
		t.Errorf("ReportRaw(4) = %q, %v", raw, err)
	}
}

func TestCatalogSelection(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	catalog := `[{"name": "cloudFiles", "type": "object-store", "endpoints": [{"region": "DFW", "publicURL": "https://files.example/v1/x"}]},
		{"name": "cloudBackup", "type": "rax:backup", "endpoints": [
			{"region": "IAD", "publicURL": "%[1]s/iad/v1.0/1"}, {"region": "ORD", "publicURL": "%[1]s/ord/v1.0/1"}, {"publicURL": "%[1]s/v1.0/1"}]}]`
	var defaultRegion atomic.Value
	defaultRegion.Store("")
	mux.HandleFunc("/v2.0/tokens", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" {
			t.Errorf("identity method %s", r.Method)
		}
		fmt.Fprintf(w, `{"access": {"token": {"id": "t", "expires": "2999-01-01T00:00:00Z", "tenant": {"id": "1"}},
			"serviceCatalog": %s, "user": {"RAX-AUTH:defaultRegion": %q}}}`, fmt.Sprintf(catalog, srv.URL), defaultRegion.Load())
	})
	tests := []struct {
		name     string
		defaultR string
		opts     []rcbu.Option
		want     []string
	}{
		{"no default region: first regional", "", nil, []string{"IAD"}},
		{"default region in catalog", "ORD", nil, []string{"ORD"}},
		{"default region not in catalog", "SYD", nil, []string{"IAD"}},
		{"explicit region wins", "ORD", []rcbu.Option{rcbu.WithRegion("iad")}, []string{"IAD"}},
		{"all regions skip the region-less entry", "", []rcbu.Option{rcbu.WithAllRegions()}, []string{"IAD", "ORD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defaultRegion.Store(tt.defaultR)
			c, err := rcbuhttp.Connect(context.Background(), rcbu.Credentials{Username: "u", Password: "p"},
				append([]rcbu.Option{rcbu.WithIdentityURL(srv.URL + "/v2.0/tokens")}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, c.Regions()); d != "" {
				t.Error(d)
			}
		})
	}
	t.Run("identity outage", func(t *testing.T) {
		mux.HandleFunc("/down/v2.0/tokens", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
		_, err := rcbuhttp.Connect(context.Background(), rcbu.Credentials{Username: "u", APIKey: "k"}, rcbu.WithIdentityURL(srv.URL+"/down/v2.0/tokens"))
		wantErr(t, err, rcbu.ErrUnavailable)
	})
}

func TestHangingServer(t *testing.T) {
	c, mux, _ := setup(t, rcbuhttp.WithHTTPClient(&http.Client{Timeout: 30 * time.Millisecond}), rcbu.WithRetry(2, time.Millisecond, time.Millisecond))
	var calls atomic.Int32
	handle(t, mux, "GET", "agent/42", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-r.Context().Done()
	})
	_, err := c.Agents.Get(context.Background(), 42)
	if err == nil || !strings.Contains(err.Error(), "get agent 42") || calls.Load() != 2 {
		t.Fatalf("err = %v after %d calls", err, calls.Load())
	}
}

func TestWaitOnline(t *testing.T) {
	c, mux, _ := setup(t)
	var calls atomic.Int32
	handle(t, mux, "GET", "agent/42", func(w http.ResponseWriter, r *http.Request) {
		status := "Offline"
		if calls.Add(1) >= 3 {
			status = "Online"
		}
		fmt.Fprintf(w, `{"MachineAgentId": 42, "Status": %q}`, status)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := c.Agents.WaitOnline(ctx, 42, time.Millisecond)
	if err != nil || !a.Online() || calls.Load() != 3 {
		t.Fatalf("WaitOnline = %+v, %v after %d calls", a, err, calls.Load())
	}
}
