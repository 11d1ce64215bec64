package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// benchOverviewEnv is 200 agents with 1,000 configurations behind 20 ms of
// simulated upstream latency, and a signed-in observer.
func benchOverviewEnv(b *testing.B) (*opsEnv, *http.Cookie) {
	b.Helper()
	te := newOpsEnv(b, rcbusim.WithScale(200, 5, 0), rcbusim.WithLatency(20*time.Millisecond, 0))
	ck := te.loginRole(app.RoleObserver)
	if rec := te.get("/", ck); rec.Code != http.StatusOK { // sign-in to the API happens here, once
		b.Fatalf("status %d", rec.Code)
	}
	return te, ck
}

// BenchmarkOverviewPage200 measures the server time of GET / for 200 agents
// and 1,000 configurations at 20 ms upstream latency. Cold: the Fleet cache
// is dropped before each request (the three account-wide list calls are
// made, concurrently); warm: served from the cache.
func BenchmarkOverviewPage200(b *testing.B) {
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			te, ck := benchOverviewEnv(b)
			for b.Loop() {
				if mode == "cold" {
					te.fleet.Invalidate(te.demo.ID)
				}
				if rec := te.get("/", ck); rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkOverviewStatus200 measures the live-status fragment: 200 agent
// details through the bounded pool (cold) or from the cache (warm).
func BenchmarkOverviewStatus200(b *testing.B) {
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			te, ck := benchOverviewEnv(b)
			for b.Loop() {
				if mode == "cold" {
					te.fleet.Invalidate(te.demo.ID)
				}
				if rec := te.htmx(http.MethodGet, "/overview/status", nil, ck); rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkRenderOverview200 renders the overview template alone for 200
// agents with 1,000 configurations (quick Start buttons shown).
func BenchmarkRenderOverview200(b *testing.B) {
	now := time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)
	ov := app.FleetOverview{Now: now}
	for i := range 200 {
		a := app.OverviewAgent{FleetAgent: app.FleetAgent{AccountID: 1, AccountName: "Demo", Live: true, Agent: rcbu.Agent{
			ID: rcbu.AgentID(1000 + i), MachineName: fmt.Sprintf("scale-%04d", i), Status: rcbu.AgentStatusOnline,
			BackupVaultSize: &rcbu.Size{Bytes: int64(i) << 30}, Datacenter: "DFW",
		}}, LastSuccess: now.Add(-time.Duration(i) * time.Hour), Age: app.AgeLevel(i % 4), NextRun: now.Add(time.Duration(i) * time.Minute)}
		for j := range 5 {
			a.Configurations = append(a.Configurations, app.ConfigurationState{FleetConfiguration: app.FleetConfiguration{AccountID: 1, Configuration: rcbu.Configuration{
				ID: rcbu.ConfigurationID(5000 + 5*i + j), Name: fmt.Sprintf("scale-%04d-%d", i, j), IsActive: true,
			}}})
		}
		ov.Agents = append(ov.Agents, a)
	}
	v := templates.OverviewView{CanStart: true, Meta: templates.PageMeta{Title: "Overview", User: &templates.UserView{Name: "Bench", CanCreate: true}}}
	overviewView(&v, ov, app.NewScope(app.Account{ID: 1, Name: "Demo"}), time.UTC, app.NewStartToken(), now)
	var buf bytes.Buffer
	page := templates.OverviewPage(v)
	ctx := context.Background()
	for b.Loop() {
		buf.Reset()
		if err := page.Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}
