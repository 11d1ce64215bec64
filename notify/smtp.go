package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// smtpSender delivers by email over SMTP: implicit TLS, or STARTTLS (which
// it insists on: it never authenticates or sends over plain text), then
// AUTH PLAIN when a user name is set.
type smtpSender struct {
	settings app.SMTPSettings
	password string
	rootCAs  *x509.CertPool // nil: the system roots
	timeout  time.Duration
	helo     string
	dialer   *net.Dialer
	now      func() time.Time
}

func (m smtpSender) Send(ctx context.Context, id app.DeliveryID, n app.Notice) (code int, err error) {
	msg := buildMail(m.settings, id, n, m.now())
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	host := m.settings.Host
	addr := net.JoinHostPort(host, strconv.Itoa(m.settings.Port))
	tlsConfig := &tls.Config{ServerName: host, RootCAs: m.rootCAs, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	if m.settings.Security == app.SMTPTLS {
		conn, err = (&tls.Dialer{NetDialer: m.dialer, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = m.dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return 0, fmt.Errorf("smtp: connect to %s: %w", addr, err)
	}
	// The whole conversation shares the deadline; cancelling ctx cuts it.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return replyCode(err), fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	step := func(what string, err error) error {
		if err != nil {
			code = replyCode(err)
			return fmt.Errorf("smtp: %s: %w", what, err)
		}
		return nil
	}
	if err := step("EHLO", c.Hello(m.helo)); err != nil {
		return code, err
	}
	if m.settings.Security == app.SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return 0, errors.New("smtp: the server does not offer STARTTLS")
		}
		if err := step("STARTTLS", c.StartTLS(tlsConfig)); err != nil {
			return code, err
		}
	}
	if m.settings.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return 0, errors.New("smtp: the server does not offer AUTH")
		}
		if err := step("AUTH", c.Auth(smtp.PlainAuth("", m.settings.Username, m.password, host))); err != nil {
			return code, err
		}
	}
	if err := step("MAIL FROM", c.Mail(m.settings.From)); err != nil {
		return code, err
	}
	for _, to := range m.settings.To {
		if err := step("RCPT TO "+to, c.Rcpt(to)); err != nil {
			return code, err
		}
	}
	w, err := c.Data()
	if err := step("DATA", err); err != nil {
		return code, err
	}
	if _, err := w.Write(msg); err != nil {
		return 0, fmt.Errorf("smtp: write message: %w", err)
	}
	if err := step("end of DATA", w.Close()); err != nil {
		return code, err
	}
	// The message is accepted; a failed QUIT does not make it undelivered.
	_ = c.Quit()
	return 250, nil
}

// replyCode returns the SMTP reply code carried by err, or 0.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// oneLine removes line breaks, which would otherwise start new headers.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// buildMail returns the message: headers, then the notice as quoted-printable
// UTF-8 text.
func buildMail(s app.SMTPSettings, id app.DeliveryID, n app.Notice, now time.Time) []byte {
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	// net/mail quotes what needs quoting: a local part like `"a>"` pasted
	// between angle brackets would make a malformed header.
	h("From", (&mail.Address{Name: "RCBU Console", Address: s.From}).String())
	to := make([]string, len(s.To))
	for i, a := range s.To {
		to[i] = (&mail.Address{Address: a}).String()
	}
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(n.Subject())))
	h("Date", now.UTC().Format(time.RFC1123Z))
	domain := "rcbu-console.invalid"
	if at := strings.LastIndexByte(s.From, '@'); at >= 0 {
		domain = s.From[at+1:]
	}
	h("Message-ID", fmt.Sprintf("<rcbu-%d-%d@%s>", id, now.UnixNano(), domain))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	h(HeaderEvent, string(n.Event))
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(n.Body(), "\r\n", "\n")
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}
