// Package notify delivers alert notices to the channels' receivers: signed
// JSON webhooks, Slack incoming webhooks and email over SMTP. app's Alerts
// service decides what to send and when, and calls the senders through
// app.Sender, so the domain package holds no HTTP client or SMTP code.
package notify

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// Options tune the senders. Zero fields take the defaults.
type Options struct {
	// Dialer opens every connection to a receiver: the default HTTP
	// client's and the SMTP ones. Its Control func, if any, sees the
	// address actually dialled, so a check of where alerts may go holds
	// after DNS resolution (default: a zero net.Dialer).
	Dialer *net.Dialer
	// HTTPClient posts webhooks and Slack messages (default: 10 s timeout,
	// redirects not followed, connections through Dialer).
	HTTPClient *http.Client
	// SMTPRootCAs verifies mail servers (default: the system roots).
	SMTPRootCAs *x509.CertPool
	// SMTPTimeout bounds one email delivery (default 30 s).
	SMTPTimeout time.Duration
	// HELO is the name given to mail servers (default "localhost").
	HELO string
	// Now stamps webhook deliveries and mail dates (default time.Now).
	Now func() time.Time
}

// Senders makes the sender of each channel kind; it implements
// app.SenderFactory.
type Senders struct {
	opts Options
}

// New returns the senders with opts' defaults filled in.
func New(opts Options) *Senders {
	if opts.Dialer == nil {
		opts.Dialer = &net.Dialer{}
	}
	if opts.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = opts.Dialer.DialContext
		opts.HTTPClient = &http.Client{
			Transport: tr,
			Timeout:   10 * time.Second,
			// A redirect is an answer, not a new target: following it would
			// resend the signed body (or, as a GET, drop it) somewhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.SMTPTimeout <= 0 {
		opts.SMTPTimeout = 30 * time.Second
	}
	if opts.HELO == "" {
		opts.HELO = "localhost"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Senders{opts: opts}
}

// Sender returns the sender of channel c; secret is its opened secret (the
// webhook's signing key, Slack's URL or the SMTP password).
func (s *Senders) Sender(c app.Channel, secret string) (app.Sender, error) {
	switch c.Kind {
	case app.ChannelWebhook:
		return webhookSender{url: c.URL, key: []byte(secret), client: s.opts.HTTPClient, now: s.opts.Now}, nil
	case app.ChannelSlack:
		return slackSender{url: secret, client: s.opts.HTTPClient}, nil
	case app.ChannelEmail:
		return smtpSender{settings: c.SMTP, password: secret, rootCAs: s.opts.SMTPRootCAs, timeout: s.opts.SMTPTimeout,
			helo: s.opts.HELO, dialer: s.opts.Dialer, now: s.opts.Now}, nil
	}
	return nil, fmt.Errorf("unknown channel kind %q", c.Kind)
}
