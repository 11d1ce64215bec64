package notify

import (
	"bytes"
	"net/mail"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestMailAddressHeadersAreWellFormed(t *testing.T) {
	// What mail.ParseAddress makes of the form input `"a>"@b.com`.
	from, err := mail.ParseAddress(`"a>"@b.com`)
	if err != nil {
		t.Fatal(err)
	}
	s := app.SMTPSettings{From: from.Address, To: []string{`"x, y"@example.com`, "ops@example.com"}}
	msg, err := mail.ReadMessage(bytes.NewReader(buildMail(s, 1, app.Notice{Event: "test", Account: "Demo"}, time.Unix(1e9, 0))))
	if err != nil {
		t.Fatal(err)
	}
	got, err := msg.Header.AddressList("From")
	if err != nil || len(got) != 1 || got[0].Address != s.From {
		t.Fatalf("From %q parses as %v, %v", msg.Header.Get("From"), got, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != s.To[0] || to[1].Address != s.To[1] {
		t.Fatalf("To %q parses as %v, %v", msg.Header.Get("To"), to, err)
	}
}
