package rcbusim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchServer is a Server plus a token for in-process benchmarks.
func benchServer(b *testing.B, opts ...Option) (*Server, string) {
	b.Helper()
	srv := New(append([]Option{WithClock(NewFakeClock(testEpoch))}, opts...)...)
	if err := srv.Err(); err != nil {
		b.Fatal(err)
	}
	return srv, loginDirect(b, srv)
}

func benchGET(b *testing.B, srv *Server, token, path string) {
	b.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("X-Auth-Token", token)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkGetAgent is the simple-GET figure (target: >= 20,000/s on one
// core, i.e. <= 50 µs/op with -cpu 1).
func BenchmarkGetAgent(b *testing.B) {
	srv, token := benchServer(b, WithDataset("demo"))
	benchGET(b, srv, token, "/dfw/v1.0/123456/agent/"+itoa(srv.AgentIDs(DemoTenant)[0]))
}

// BenchmarkGetAgentHTTP is BenchmarkGetAgent over real loopback HTTP.
func BenchmarkGetAgentHTTP(b *testing.B) {
	srv, token := benchServer(b, WithDataset("demo"))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url := hs.URL + "/dfw/v1.0/123456/agent/" + itoa(srv.AgentIDs(DemoTenant)[0])
	client := hs.Client()
	req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkListAgents1000 lists a 1,000-agent account.
func BenchmarkListAgents1000(b *testing.B) {
	srv, token := benchServer(b, WithScale(1000, 0, 0))
	benchGET(b, srv, token, "/v1.0/123456/user/agents")
}

// BenchmarkGetBackup reads backup details in a 100,000-entry history.
func BenchmarkGetBackup(b *testing.B) {
	srv, token := benchServer(b, WithScale(1000, 2, 50))
	bs := srv.Backups()
	benchGET(b, srv, token, "/v1.0/123456/backup/"+itoa(bs[len(bs)/2].ID))
}

// BenchmarkGetBackupReport reads a report (ErrorList regenerated on demand).
func BenchmarkGetBackupReport(b *testing.B) {
	srv, token := benchServer(b, WithDataset("demo"))
	var id int64
	for _, x := range srv.Backups() {
		if x.State == StateCompletedWithErrors && x.Tenant == DemoTenant {
			id = x.ID
		}
	}
	benchGET(b, srv, token, "/v1.0/123456/backup/report/"+itoa(id))
}

// BenchmarkGenerate1000Agents100kHistory builds 1,000 agents with 2
// configurations each and 50 days of daily history: 100,000 backups.
func BenchmarkGenerate1000Agents100kHistory(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		srv := New(WithClock(NewFakeClock(testEpoch)), WithScale(1000, 2, 50))
		if n := len(srv.backups); n < 100_000 {
			b.Fatalf("%d backups", n)
		}
	}
}

// BenchmarkGetAgentHTTPParallel measures throughput over loopback with
// concurrent keep-alive clients (client and server share the CPUs).
func BenchmarkGetAgentHTTPParallel(b *testing.B) {
	srv, token := benchServer(b, WithDataset("demo"))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url := hs.URL + "/dfw/v1.0/123456/agent/" + itoa(srv.AgentIDs(DemoTenant)[0])
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
		if err != nil {
			b.Error(err)
			return
		}
		req.Header.Set("X-Auth-Token", token)
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
