package netguard_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/netguard"
	"github.com/rcbu-console/rcbu-console/notify"
)

// The alert senders as cmd/web wires them: every connection through the
// policy's dialer.
func senders(p netguard.Policy) *notify.Senders {
	return notify.New(notify.Options{Dialer: p.Dialer(2 * time.Second), SMTPTimeout: 2 * time.Second})
}

func TestAlertTargetsAreCheckedAtConnectTime(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	ctx := context.Background()
	send := func(pol netguard.Policy, c app.Channel, secret string) error {
		s, err := senders(pol).Sender(c, secret)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Send(ctx, 1, app.Notice{Event: "test", Account: "Demo"})
		return err
	}
	strict, open := netguard.Policy{}, netguard.Policy{AllowPrivate: true}
	targets := []struct {
		name   string
		ch     app.Channel
		secret string
	}{
		{"webhook to loopback", app.Channel{Kind: app.ChannelWebhook, URL: srv.URL + "/hook"}, "k"},
		{"webhook via a name", app.Channel{Kind: app.ChannelWebhook, URL: "http://localhost:" + port + "/hook"}, "k"},
		{"slack to loopback", app.Channel{Kind: app.ChannelSlack}, srv.URL + "/slack"},
		{"smtp to loopback", app.Channel{Kind: app.ChannelEmail, SMTP: app.SMTPSettings{Host: "127.0.0.1", Port: p, Security: "starttls", From: "a@example.com", To: []string{"b@example.com"}}}, ""},
	}
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			if err := send(strict, tt.ch, tt.secret); !netguard.IsRefused(err) {
				t.Errorf("strict policy: %v, want refused", err)
			}
			if hits.Load() != before {
				t.Error("the refused delivery reached the server")
			}
		})
	}
	if err := send(open, targets[0].ch, "k"); err != nil {
		t.Errorf("private targets allowed: %v", err)
	}
	// Cloud metadata stays out of reach whatever the policy.
	meta := app.Channel{Kind: app.ChannelWebhook, URL: "http://169.254.169.254/latest/meta-data/"}
	if err := send(open, meta, "k"); !netguard.IsRefused(err) {
		t.Errorf("metadata webhook: %v, want refused", err)
	}
}
