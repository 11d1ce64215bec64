package app

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ChannelID identifies a notification channel.
type ChannelID int64

// String returns the id in decimal.
func (id ChannelID) String() string { return strconv.FormatInt(int64(id), 10) }

// ChannelKind says how a channel delivers.
type ChannelKind string

// The channel kinds. The values are stored.
const (
	// ChannelWebhook POSTs the notice as JSON, signed with HMAC-SHA256.
	ChannelWebhook ChannelKind = "webhook"
	// ChannelSlack POSTs {"text": ...} to a Slack-compatible incoming webhook.
	ChannelSlack ChannelKind = "slack"
	// ChannelEmail sends mail over SMTP with STARTTLS or implicit TLS.
	ChannelEmail ChannelKind = "email"
)

// ChannelKinds lists the kinds in the order forms show them.
func ChannelKinds() []ChannelKind { return []ChannelKind{ChannelWebhook, ChannelSlack, ChannelEmail} }

// Label names the kind for people.
func (k ChannelKind) Label() string {
	switch k {
	case ChannelWebhook:
		return "Webhook (JSON, signed)"
	case ChannelSlack:
		return "Slack incoming webhook"
	case ChannelEmail:
		return "Email (SMTP)"
	}
	return string(k)
}

// SMTPSecurity is how an email channel protects its connection. Both
// modes encrypt before authenticating; plain text is not offered.
type SMTPSecurity string

// The SMTP security modes.
const (
	SMTPStartTLS SMTPSecurity = "starttls" // usually port 587
	SMTPTLS      SMTPSecurity = "tls"      // implicit TLS, usually port 465
)

// SMTPSettings is where and how an email channel sends. The password is
// the channel's sealed secret.
type SMTPSettings struct {
	Host     string
	Port     int
	Security SMTPSecurity
	Username string
	From     string
	To       []string
}

// Channel is one notification channel of an account, with the rules routed
// to it. SecretSealed holds the webhook's HMAC key, the Slack URL or the
// SMTP password, encrypted by the Sealer; it is never rendered or logged.
type Channel struct {
	ID           ChannelID
	AccountID    AccountID
	Name         string
	Kind         ChannelKind
	Enabled      bool
	URL          string // webhook only
	SecretSealed []byte
	SMTP         SMTPSettings
	Rules        []RuleKind
	Created      time.Time
	Updated      time.Time
	// Primed is when the channel was sent its first summary of what was
	// open (zero: not yet); until then it is told nothing one by one.
	Primed time.Time
}

// Routes reports whether alerts of rule r go to the channel.
func (c Channel) Routes(r RuleKind) bool { return c.Enabled && slices.Contains(c.Rules, r) }

// HasSecret reports whether a secret is stored.
func (c Channel) HasSecret() bool { return len(c.SecretSealed) > 0 }

// Target describes where the channel delivers, without any secret: the
// webhook's URL without query or credentials, "Slack" for Slack (its URL is
// the secret), the SMTP server and recipients for email.
func (c Channel) Target() string {
	switch c.Kind {
	case ChannelWebhook:
		u, err := url.Parse(c.URL)
		if err != nil {
			return "webhook"
		}
		return u.Scheme + "://" + u.Host + u.Path
	case ChannelSlack:
		return "Slack incoming webhook"
	case ChannelEmail:
		return strings.Join(c.SMTP.To, ", ") + " via " + c.SMTP.Host + ":" + strconv.Itoa(c.SMTP.Port)
	}
	return ""
}

// ChannelRequest is the form input for adding or editing a channel. When
// editing, an empty Secret (or Slack URL, or SMTP password) keeps the
// stored one.
type ChannelRequest struct {
	Name    string
	Kind    string
	Enabled bool
	// URL is the webhook's or the Slack incoming webhook's address.
	URL string
	// Secret is the webhook's HMAC key or the SMTP password.
	Secret       string
	SMTPHost     string
	SMTPPort     string
	SMTPSecurity string
	SMTPUsername string
	SMTPFrom     string
	SMTPTo       string // comma or space separated
	Rules        []string
}

// Channel validation limits.
const (
	maxChannelName          = 80
	minWebhookSecret        = 16
	maxChannelSecret        = 1024
	maxRecipients           = 20
	maxChannelURL           = 2048
	channelSecretAAD        = "alert-channel-secret"
	defaultSMTPPortTLS      = 465
	defaultSMTPPortStartTLS = 587
)

// ChannelRequestOf returns the form values of c for editing (no secret).
func ChannelRequestOf(c Channel) ChannelRequest {
	r := ChannelRequest{Name: c.Name, Kind: string(c.Kind), Enabled: c.Enabled}
	if c.Kind == ChannelWebhook {
		r.URL = c.URL
	}
	if c.Kind == ChannelEmail {
		r.SMTPHost, r.SMTPSecurity = c.SMTP.Host, string(c.SMTP.Security)
		r.SMTPPort = strconv.Itoa(c.SMTP.Port)
		r.SMTPUsername, r.SMTPFrom, r.SMTPTo = c.SMTP.Username, c.SMTP.From, strings.Join(c.SMTP.To, ", ")
	}
	for _, k := range c.Rules {
		r.Rules = append(r.Rules, string(k))
	}
	return r
}

// buildChannel validates req and applies it to c (a new channel when c.ID
// is 0). It returns the plaintext secret to seal ("" keeps the stored one).
func buildChannel(c Channel, req ChannelRequest) (Channel, string, error) {
	v := validation{}
	editing := c.ID != 0
	c.Name = strings.TrimSpace(req.Name)
	switch {
	case c.Name == "":
		v.add("name", "Enter a name, e.g. Ops on-call.")
	case utf8.RuneCountInString(c.Name) > maxChannelName || strings.ContainsAny(c.Name, "\r\n"):
		v.add("name", fmt.Sprintf("Use one line of at most %d characters.", maxChannelName))
	}
	kind := ChannelKind(req.Kind)
	if editing && kind != c.Kind {
		v.add("kind", "The kind of a channel cannot change; add a new channel instead.")
	} else if !slices.Contains(ChannelKinds(), kind) {
		v.add("kind", "Choose webhook, Slack or email.")
	}
	c.Kind = kind
	c.Enabled = req.Enabled
	c.Rules = nil
	for _, s := range req.Rules {
		r, err := ParseRuleKind(s)
		if err != nil {
			v.add("rules", "Choose rules from the list.")
			continue
		}
		if !slices.Contains(c.Rules, r) {
			c.Rules = append(c.Rules, r)
		}
	}
	slices.SortFunc(c.Rules, func(a, b RuleKind) int { return slices.Index(RuleKinds(), a) - slices.Index(RuleKinds(), b) })

	secret := req.Secret
	keepSecret := editing && c.HasSecret()
	if len(secret) > maxChannelSecret {
		v.add("secret", "That is too long.")
	}
	switch kind {
	case ChannelWebhook:
		c.URL = strings.TrimSpace(req.URL)
		if msg := checkHTTPURL(c.URL); msg != "" {
			v.add("url", msg)
		}
		if secret == "" && !keepSecret {
			v.add("secret", fmt.Sprintf("Enter a signing secret of at least %d characters; the receiver checks the signature with it.", minWebhookSecret))
		} else if secret != "" && len(secret) < minWebhookSecret {
			v.add("secret", fmt.Sprintf("Use at least %d characters.", minWebhookSecret))
		}
		c.SMTP = SMTPSettings{}
	case ChannelSlack:
		// The Slack URL carries Slack's secret: it is sealed, not stored in url.
		c.URL = ""
		u := strings.TrimSpace(req.URL)
		secret = u
		if u == "" && keepSecret {
			break
		}
		if msg := checkHTTPURL(u); msg != "" {
			v.add("url", msg)
		}
		c.SMTP = SMTPSettings{}
	case ChannelEmail:
		c.URL = ""
		s := SMTPSettings{
			Host:     strings.TrimSpace(req.SMTPHost),
			Security: SMTPSecurity(req.SMTPSecurity),
			Username: strings.TrimSpace(req.SMTPUsername),
		}
		if s.Host == "" || strings.ContainsAny(s.Host, " /:\r\n") {
			v.add("smtp_host", "Enter the mail server's host name, e.g. smtp.example.com.")
		}
		if s.Security != SMTPStartTLS && s.Security != SMTPTLS {
			v.add("smtp_security", "Choose STARTTLS or TLS.")
		}
		switch p := strings.TrimSpace(req.SMTPPort); p {
		case "":
			s.Port = defaultSMTPPortStartTLS
			if s.Security == SMTPTLS {
				s.Port = defaultSMTPPortTLS
			}
		default:
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				v.add("smtp_port", "Enter a port from 1 to 65535, usually 587 (STARTTLS) or 465 (TLS).")
			}
			s.Port = n
		}
		if strings.ContainsAny(s.Username, "\r\n") {
			v.add("smtp_username", "Use one line.")
		}
		from, err := mail.ParseAddress(strings.TrimSpace(req.SMTPFrom))
		if err != nil {
			v.add("smtp_from", "Enter the sender's address, e.g. backups@example.com.")
		} else {
			s.From = from.Address
		}
		to, msg := parseRecipients(req.SMTPTo)
		if msg != "" {
			v.add("smtp_to", msg)
		}
		s.To = to
		if s.Username != "" && secret == "" && !(keepSecret && c.SMTP.Username != "") {
			v.add("secret", "Enter the password for the user name.")
		}
		if s.Username == "" {
			secret = "" // nothing to authenticate with; a stored password goes
		}
		c.SMTP = s
	}
	if err := v.err(); err != nil {
		return Channel{}, "", err
	}
	if kind == ChannelEmail && c.SMTP.Username == "" {
		c.SecretSealed = nil
	}
	return c, secret, nil
}

// checkHTTPURL says what is wrong with a webhook URL, or "".
func checkHTTPURL(s string) string {
	if s == "" {
		return "Enter the URL to POST to."
	}
	if len(s) > maxChannelURL {
		return "That URL is too long."
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "Enter an http:// or https:// URL."
	}
	if u.User != nil {
		return "Put credentials in the signing secret, not in the URL."
	}
	return ""
}

// parseRecipients splits a list of addresses; the message says what is
// wrong, or "".
func parseRecipients(s string) ([]string, string) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(fields) == 0 {
		return nil, "Enter at least one recipient."
	}
	if len(fields) > maxRecipients {
		return nil, fmt.Sprintf("Enter at most %d recipients.", maxRecipients)
	}
	var out []string
	for _, f := range fields {
		a, err := mail.ParseAddress(f)
		if err != nil {
			return nil, fmt.Sprintf("%q is not an email address.", f)
		}
		if !slices.Contains(out, a.Address) {
			out = append(out, a.Address)
		}
	}
	return out, ""
}
