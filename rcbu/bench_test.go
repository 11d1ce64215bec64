package rcbu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// agentListJSON renders n agent records as the list call returns them.
func agentListJSON(n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"MachineAgentId": %d, "AgentVersion": "1.36.004512", "Architecture": "64-bit", "Flavor": "RaxCloudServer",
			"BackupVaultSize": "%d.2 GB", "BackupContainer": "https://storage101.iad3.clouddrive.com/v1/MossoCloudFS_x/z_DO_NOT_DELETE_CloudBackup_v2_0_%d",
			"CleanupAllowed": true, "Datacenter": "IAD", "BackupDatacenter": "IAD", "IPAddress": "203.0.113.%d", "IsDisabled": false,
			"IsEncrypted": false, "MachineName": "web-%04d", "OperatingSystem": "Ubuntu", "OperatingSystemVersion": "22.04",
			"PublicKey": {"ModulusHex": "B1C2D3E4F5A6978812345678ABCDEF0011223344", "ExponentHex": 10001}, "Status": "Unknown",
			"TimeOfLastSuccessfulBackup": "\/Date(%d)\/", "UseServiceNet": true, "UseFailoverUri": false,
			"HostServerId": "0c9e4f3a-7b6d-4e21-9f10-%012d"}`, 400000+i, i%90, i, i%250, i, 1709300000000+int64(i)*1000, i)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

func BenchmarkDecodeAgents1000(b *testing.B) {
	data := agentListJSON(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var agents []rcbu.Agent
		if err := json.Unmarshal(data, &agents); err != nil || len(agents) != 1000 {
			b.Fatal(err, len(agents))
		}
	}
}

// BenchmarkGetAgents200 fetches the details of 200 agents from a simulator
// that answers each call after 20 ms: concurrently through GetMany (the
// default pool, DefaultConcurrency, and pools of 16 and 32 to compare) and
// one call after another. Run the serial case with -benchtime=1x. Besides
// the time, which a busy machine stretches, it reports the round trips a
// fan-out needs: 200 calls over the most that were ever in flight at once.
func BenchmarkGetAgents200(b *testing.B) {
	sim := rcbusim.New(rcbusim.WithLatency(20*time.Millisecond, 0))
	ids := make([]rcbu.AgentID, 200)
	for i := range ids {
		ids[i] = rcbu.AgentID(sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Datacenter: "DFW", Online: true}))
	}
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		sim.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	connect := func(b *testing.B, opts ...rcbu.Option) *rcbu.Client {
		c, err := rcbuhttp.Connect(context.Background(), rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
			append([]rcbu.Option{rcbu.WithIdentityURL(srv.URL + "/v2.0/tokens")}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	pool := func(opts ...rcbu.Option) func(b *testing.B) {
		return func(b *testing.B) {
			c := connect(b, opts...)
			peak.Store(0)
			for b.Loop() {
				agents, err := c.Agents.GetMany(context.Background(), ids)
				if err != nil || len(agents) != len(ids) {
					b.Fatal(err)
				}
			}
			b.ReportMetric(math.Ceil(float64(len(ids))/float64(peak.Load())), "round-trips")
		}
	}
	b.Run("pool", pool())
	b.Run("pool16", pool(rcbu.WithConcurrency(16)))
	b.Run("pool32", pool(rcbu.WithConcurrency(32)))
	b.Run("serial", func(b *testing.B) {
		c := connect(b)
		for b.Loop() {
			for _, id := range ids {
				if _, err := c.Agents.Get(context.Background(), id); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
