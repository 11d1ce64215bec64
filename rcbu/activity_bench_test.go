package rcbu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// activityListJSON renders n activity items of region dc as the account-wide
// list returns them (about 400 bytes an item), newest first, with ids
// starting at first.
func activityListJSON(n int, dc string, first int64) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	states := []string{"Completed", "Completed", "Completed", "CompletedWithErrors", "Failed", "InProgress"}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := first + int64(i)
		typ, dst, dstName := "Backup", 0, ""
		if i%17 == 0 {
			typ, dst, dstName = "Restore", 400000+i%200, fmt.Sprintf("web-%04d", i%200)
		}
		fmt.Fprintf(&b, `{"ID":%d,"Type":"%s","ParentId":%d,"DisplayName":"nightly files %d","IsBackupConfigurationDeleted":false,`+
			`"SourceMachineAgentId":%d,"SourceMachineName":"web-%04d","SourceDatacenter":"%s",`+
			`"DestinationMachineAgentId":%d,"DestinationMachineName":"%s","DestinationDatacenter":"",`+
			`"CurrentState":"%s","TimeOfActivity":"\/Date(%d)\/","BackupId":%d}`,
			id, typ, 380000+i%400, i%400, 400000+i%200, i%200, dc, dst, dstName,
			states[i%len(states)], 1764800000000-int64(i)*60000, id)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// BenchmarkDecodeActivity26k decodes one 26,000-item activity list (about
// 10 MB) with encoding/json, which calls (*Activity).UnmarshalJSON per item.
func BenchmarkDecodeActivity26k(b *testing.B) {
	data := activityListJSON(26000, "DFW", 4100000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var list []rcbu.Activity
		if err := json.Unmarshal(data, &list); err != nil || len(list) != 26000 {
			b.Fatal(err, len(list))
		}
	}
}

// memTransport answers the identity call from a simulator and each region's
// /activity from a prepared body, without a network, so the benchmark
// measures the client's decoding and merging.
type memTransport struct {
	sim    *rcbusim.Server
	bodies map[string][]byte // region path prefix → body
}

func (m *memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/v2.0/tokens") {
		rec := httptest.NewRecorder()
		m.sim.ServeHTTP(rec, r)
		return rec.Result(), nil
	}
	region, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	body, ok := m.bodies[region]
	if !ok || !strings.HasSuffix(r.URL.Path, "/activity") {
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Header: http.Header{"Content-Type": {"application/json"}}, Request: r}, nil
}

// BenchmarkActivityList26k lists the account-wide activity of six regions,
// about 4,300 items (1.7 MB) each, through the client: decoding and the
// newest-first merge, without network time.
func BenchmarkActivityList26k(b *testing.B) {
	rt := &memTransport{sim: rcbusim.New(), bodies: map[string][]byte{}}
	size := 0
	for i, region := range rcbusim.Regions() {
		body := activityListJSON(26000/6, region, 4100000+int64(i)*5000)
		rt.bodies[strings.ToLower(region)] = body
		size += len(body)
	}
	c, err := rcbuhttp.Connect(context.Background(), rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		rcbu.WithIdentityURL("http://sim.test/v2.0/tokens"), rcbu.WithAllRegions(),
		rcbuhttp.WithHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		list, err := c.Activity.List(context.Background())
		if err != nil || len(list) != 26000/6*6 {
			b.Fatal(err, len(list))
		}
	}
}
