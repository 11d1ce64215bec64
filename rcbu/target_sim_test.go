//go:build !integration

package rcbu_test

import (
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
)

// forEachTarget runs a contract test against the simulator in both of its
// endpoint shapes: regions as path prefixes on one port
// (http://127.0.0.1:PORT/dfw/v1.0/{tenant}), and one loopback listener per
// region with the real service's path (http://127.0.0.1:PORT/v1.0/{tenant}).
func forEachTarget(t *testing.T, test func(*testing.T, *target)) {
	t.Run("path-prefix", func(t *testing.T) { test(t, newTarget(t, rcbusimtest.NewTestServer)) })
	t.Run("region-listeners", func(t *testing.T) {
		tg := newTarget(t, rcbusimtest.NewRegionTestServer)
		tg.regionHosts = true
		test(t, tg)
	})
}

// newTarget starts a simulator with a known estate for one test.
func newTarget(t *testing.T, start func(testing.TB, ...rcbusim.Option) *rcbusimtest.TestServer) *target {
	t.Helper()
	ts := start(t)
	add := func(name, dc string, online bool) rcbu.AgentID {
		return rcbu.AgentID(ts.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{
			Name: name, Datacenter: dc, Online: online, VaultBytes: 3 << 30,
		}))
	}
	host := "0c9e4f3a-7b6d-4e21-9f10-2a3b4c5d6e7f"
	web := rcbu.AgentID(ts.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{
		Name: "web-01", Datacenter: "DFW", Online: true, HostServerID: host, VaultBytes: 2 << 30,
	}))
	tg := &target{
		sim:          true,
		jobs:         true,
		identityURL:  ts.IdentityURL,
		admin:        rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		adminPass:    rcbu.Credentials{Username: rcbusim.DemoUser, Password: rcbusim.DemoPassword},
		observer:     rcbu.Credentials{Username: rcbusim.ObserverUser, APIKey: rcbusim.ObserverAPIKey},
		creator:      rcbu.Credentials{Username: rcbusim.CreatorUser, APIKey: rcbusim.CreatorAPIKey},
		other:        rcbu.Credentials{Username: rcbusim.OtherUser, APIKey: rcbusim.OtherAPIKey},
		tenant:       rcbusim.DemoTenant,
		agent:        web,
		hostServerID: host,
		dest:         add("web-02", "DFW", true),
		ordAgent:     add("db-01", "ORD", true),
		offline:      add("sleepy", "DFW", false),
		spare:        add("spare", "DFW", true),
		victim:       add("victim", "DFW", true),
		poll:         5 * time.Second,
		now:          ts.Now,
		advance:      ts.Advance,
		expireTokens: ts.ExpireTokens,
		failNext:     func(op string, status int) { ts.FailNext(rcbusim.Op(op), status) },
		setOnline:    func(id rcbu.AgentID, on bool) { ts.SetAgentOnline(int64(id), on) },
		setOutcome:   func(id rcbu.ConfigurationID, state string) { ts.SetNextOutcome(int64(id), state) },
	}
	if ids := ts.AgentIDs(rcbusim.OtherTenant); len(ids) > 0 {
		tg.otherAgent = rcbu.AgentID(ids[0])
	}
	return tg
}
