package notify

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// hostileNote is an acknowledgement note that tries Slack mentions and
// links, HTML, and a header break.
const hostileNote = "on it <!channel> <https://evil.example|click> <b>x</b> & co\r\nBcc: victim@example.com"

func resolvedWithNote() app.Notice {
	return app.Notice{Event: app.EventResolved, Account: "Demo", Rule: app.RuleBackupFailed, Title: "Backup of mysql dumps on db-01: Failed",
		Text: "The backup failed.\n\nAcknowledged by alice@example.com at 2026-03-02 15:04 UTC: " + hostileNote}
}

func TestAcknowledgementNotesAreEscapedInSlack(t *testing.T) {
	b, err := SlackMessage(resolvedWithNote())
	if err != nil {
		t.Fatal(err)
	}
	var msg slackMessage
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	body := msg.Blocks[1].Text.Text
	for _, bad := range []string{"<!channel>", "<https://evil", "<b>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the Slack body keeps %q: %s", bad, body)
		}
	}
	if !strings.Contains(body, "&lt;!channel&gt;") || !strings.Contains(body, "&amp; co") {
		t.Errorf("the note is not shown escaped: %s", body)
	}
}

func TestAcknowledgementNotesStayInTheEmailBody(t *testing.T) {
	s := app.SMTPSettings{From: "console@example.com", To: []string{"ops@example.com"}}
	msg, err := mail.ReadMessage(bytes.NewReader(buildMail(s, 1, resolvedWithNote(), time.Unix(1e9, 0))))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Bcc"); got != "" {
		t.Errorf("the note made a Bcc header: %q", got)
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q: a note must not be read as HTML", ct)
	}
	raw, err := io.ReadAll(msg.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		body = string(dec)
	}
	if !strings.Contains(body, "<!channel>") {
		t.Errorf("the note is missing from the plain-text body:\n%s", body)
	}
}
