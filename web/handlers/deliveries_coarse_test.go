package handlers

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestDeliveryLogIsCoarseForNonAdmins(t *testing.T) {
	te := newAlertsTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	// A port nothing listens on: the delivery fails with "connection refused".
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	id := te.addWebhook(t, admin, "Probe", "http://"+closed+"/x", app.RuleBackupFailed)
	if rec := te.post("/alerts/channels/"+id+"/test", nil, admin); rec.Code != http.StatusSeeOther {
		t.Fatalf("send test: %d", rec.Code)
	}
	adminLog := testid(doc(t, te.get("/alerts/channels/"+id+"/deliveries", admin)), "delivery-row").Text()
	if !strings.Contains(adminLog, "refused") {
		t.Fatalf("the admin's delivery log lacks the reason: %q", adminLog)
	}
	creatorLog := testid(doc(t, te.get("/alerts/channels/"+id+"/deliveries", te.loginRole(app.RoleCreator))), "delivery-row").Text()
	if strings.Contains(creatorLog, "refused") || strings.Contains(creatorLog, closed) {
		t.Errorf("a creator sees the connection detail: %q", creatorLog)
	}
	if !strings.Contains(creatorLog, "Not delivered") {
		t.Errorf("a creator's delivery log does not say it failed: %q", creatorLog)
	}
}
