package notify_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/notify"
)

var testNow = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

func TestWebhookIsSignedOverItsBody(t *testing.T) {
	const key = "a webhook signing key"
	var (
		mu        sync.Mutex
		body, sig string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body, sig = string(b), r.Header.Get(notify.HeaderSignature)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s := notify.New(notify.Options{Now: func() time.Time { return testNow }})
	snd, err := s.Sender(app.Channel{Kind: app.ChannelWebhook, URL: srv.URL}, key)
	if err != nil {
		t.Fatal(err)
	}
	status, err := snd.Send(t.Context(), 7, app.Notice{Event: app.EventTest, Title: "hello"})
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("Send = %d, %v", status, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !notify.VerifyWebhook([]byte(key), []byte(body), sig) {
		t.Errorf("signature %q does not verify body %s", sig, body)
	}
	if notify.VerifyWebhook([]byte("another key"), []byte(body), sig) {
		t.Error("the signature verifies under another key")
	}
	if !strings.Contains(body, `"delivery_id":7`) || !strings.Contains(body, `"sent_at":`+strconv.FormatInt(testNow.Unix(), 10)) {
		t.Errorf("body %s lacks the delivery id or the send time", body)
	}
}

// TestDialerSeesEveryConnection: an injected dialer's Control runs for the
// webhook, Slack and SMTP senders alike, so one check of where alerts may
// connect covers every channel kind.
func TestDialerSeesEveryConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the receiver was reached: %s", r.URL)
	}))
	defer srv.Close()
	refused := errors.New("refused by the dialer")
	var (
		mu      sync.Mutex
		dialled []string
	)
	d := &net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		mu.Lock()
		dialled = append(dialled, address)
		mu.Unlock()
		return refused
	}}
	s := notify.New(notify.Options{Dialer: d, SMTPTimeout: 5 * time.Second})
	host, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	channels := map[string]struct {
		c      app.Channel
		secret string
	}{
		"webhook":        {app.Channel{Kind: app.ChannelWebhook, URL: srv.URL}, "key"},
		"slack":          {app.Channel{Kind: app.ChannelSlack}, srv.URL + "/services/T/B/x"},
		"email tls":      {app.Channel{Kind: app.ChannelEmail, SMTP: app.SMTPSettings{Host: host, Port: p, Security: app.SMTPTLS, From: "a@example.com", To: []string{"b@example.com"}}}, ""},
		"email starttls": {app.Channel{Kind: app.ChannelEmail, SMTP: app.SMTPSettings{Host: host, Port: p, Security: app.SMTPStartTLS, From: "a@example.com", To: []string{"b@example.com"}}}, ""},
	}
	for name, tt := range channels {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			dialled = nil
			mu.Unlock()
			snd, err := s.Sender(tt.c, tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			_, err = snd.Send(t.Context(), 1, app.Notice{Event: app.EventTest})
			if err == nil || !strings.Contains(err.Error(), refused.Error()) {
				t.Fatalf("Send = %v, want the dialer's refusal", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(dialled) == 0 || !strings.HasSuffix(dialled[0], ":"+port) {
				t.Errorf("the dialer saw %v", dialled)
			}
		})
	}
}

func TestUnknownChannelKind(t *testing.T) {
	if _, err := notify.New(notify.Options{}).Sender(app.Channel{Kind: "pager"}, ""); err == nil || !strings.Contains(err.Error(), "pager") {
		t.Fatalf("Sender = %v, want an error naming the kind", err)
	}
}
