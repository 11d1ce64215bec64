//go:build integration

package rcbu_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// forEachTarget runs a contract test against the real service.
func forEachTarget(t *testing.T, test func(*testing.T, *target)) { test(t, newTarget(t)) }

// newTarget points the contract suite at the real service. It needs
// RCBU_USERNAME and RCBU_API_KEY (and optionally RCBU_REGION and
// RCBU_IDENTITY_URL); destructive, fault-injection and simulator-specific
// cases are skipped, and backups only run with RCBU_INTEGRATION_JOBS=1.
// The account needs at least two online agents in the region; the
// configurations the suite creates are deleted at the end.
func newTarget(t *testing.T) *target {
	t.Helper()
	user, key := os.Getenv("RCBU_USERNAME"), os.Getenv("RCBU_API_KEY")
	if user == "" || key == "" {
		t.Skip("RCBU_USERNAME and RCBU_API_KEY are not set")
	}
	id := os.Getenv("RCBU_IDENTITY_URL")
	if id == "" {
		id = rcbu.DefaultIdentityURL
	}
	tg := &target{
		identityURL: id,
		regionHosts: true,
		admin:       rcbu.Credentials{Username: user, APIKey: key},
		region:      os.Getenv("RCBU_REGION"),
		jobs:        os.Getenv("RCBU_INTEGRATION_JOBS") == "1",
		opts:        []rcbu.Option{rcbu.WithStartRetry(20, time.Second)},
		poll:        15 * time.Second,
		now:         time.Now,
		advance:     func(d time.Duration) { time.Sleep(d) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := tg.connect(t, tg.admin)
	tg.tenant = c.Tenant()
	agents, err := c.Agents.List(ctx)
	if err != nil {
		t.Fatalf("list agents: %v", err)
	}
	var online []rcbu.AgentID
	for _, a := range agents {
		if d, err := c.Agents.Get(ctx, a.ID); err == nil && d.Online() && d.Enabled() {
			online = append(online, d.ID)
			if tg.hostServerID == "" {
				tg.hostServerID = d.HostServerID
			}
		}
	}
	if len(online) < 2 {
		t.Skip("the account needs two online agents")
	}
	tg.agent, tg.dest = online[0], online[1]
	return tg
}
