package rcbusim

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// FuzzRequestDecoders feeds arbitrary bodies to the decoders and to every
// body-taking endpoint: nothing may panic and no client mistake may cause a
// 5xx. The seed corpus is in testdata/fuzz/FuzzRequestDecoders.
func FuzzRequestDecoders(f *testing.F) {
	f.Add([]byte(`{"MachineAgentId": 1, "Enable": "true"}`))
	srv := New(WithClock(NewFakeClock(testEpoch)), WithWakeDelay(0))
	agent := srv.AddAgent(DemoTenant, AgentSeed{Online: true})
	if _, err := srv.AddConfiguration(DemoTenant, ConfigurationSeed{AgentID: agent, Name: "c", Frequency: "Hourly", HourInterval: 2}); err != nil {
		f.Fatal(err)
	}
	token := loginDirect(f, srv)
	endpoints := []struct{ method, path string }{
		{"POST", "/v2.0/tokens"},
		{"POST", "/v1.0/agent/enable"},
		{"POST", "/v1.0/agent/encrypt"},
		{"POST", "/v1.0/agent/changeencryption"},
		{"PUT", "/v1.0/agent/migratevault"},
		{"PUT", "/v1.0/agent/logging"},
		{"POST", "/v1.0/agent/" + itoa(agent)},
		{"POST", "/v1.0/backup-configuration"},
		{"PUT", "/v1.0/backup-configuration/380001"},
		{"POST", "/v1.0/backup-configuration/enable/380001"},
		{"POST", "/v1.0/backup/action-requested"},
		{"PUT", "/v1.0/restore"},
		{"POST", "/v1.0/restore"},
		{"PUT", "/v1.0/restore/files"},
		{"POST", "/v1.0/restore/action-requested"},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if fl, err := decodeFields(body, true); err == nil {
			_, _, _ = fl.int64Field("MachineAgentId")
			_, _, _ = fl.boolField("Enable")
			_, _ = enumField(fl, "Filter", []string{"Include", "Exclude"}, 1)
		}
		_, _ = parseConfigRequest(body, true)
		for _, ep := range endpoints {
			req := httptest.NewRequest(ep.method, ep.path, bytes.NewReader(body))
			req.Header.Set("X-Auth-Token", token)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q: %d %s", ep.method, ep.path, body, rec.Code, rec.Body)
			}
		}
	})
}
