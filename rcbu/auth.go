package rcbu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Credentials authenticate against Identity v2.0: a username with an API
// key (preferred) or a password.
type Credentials struct {
	Username string
	APIKey   string
	Password string
	TenantID string // optional: scope the token to this tenant
}

// String shows the username only, keeping secrets out of logs and panics.
func (c Credentials) String() string { return "rcbu.Credentials{Username: " + c.Username + "}" }

// GoString is String, so %#v does not print the secrets either.
func (c Credentials) GoString() string { return c.String() }

// LogValue logs the username only.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username))
}

func (c Credentials) body() (map[string]any, error) {
	auth := map[string]any{}
	switch {
	case c.Username == "":
		return nil, errors.New("username is required")
	case c.APIKey != "":
		auth["RAX-KSKEY:apiKeyCredentials"] = map[string]string{"username": c.Username, "apiKey": c.APIKey}
	case c.Password != "":
		auth["passwordCredentials"] = map[string]string{"username": c.Username, "password": c.Password}
	default:
		return nil, errors.New("an API key or a password is required")
	}
	if c.TenantID != "" {
		auth["tenantId"] = c.TenantID
	}
	return map[string]any{"auth": auth}, nil
}

// identityAccess is the part of the §2.3 response the client uses.
type identityAccess struct {
	Access struct {
		Token struct {
			ID      string    `json:"id"`
			Expires time.Time `json:"expires"`
			Tenant  struct {
				ID string `json:"id"`
			} `json:"tenant"`
		} `json:"token"`
		ServiceCatalog []struct {
			Name      string `json:"name"`
			Type      string `json:"type"`
			Endpoints []struct {
				Region    string `json:"region"`
				TenantID  string `json:"tenantId"`
				PublicURL string `json:"publicURL"`
			} `json:"endpoints"`
		} `json:"serviceCatalog"`
		User struct {
			DefaultRegion string `json:"RAX-AUTH:defaultRegion"`
		} `json:"user"`
	} `json:"access"`
}

// authenticate posts the credentials to Identity; it makes a call.
func authenticate(ctx context.Context, t Transport, identityURL, userAgent string, cr Credentials) (*identityAccess, error) {
	const op = "authenticate"
	body, err := cr.body()
	if err != nil {
		return nil, fmt.Errorf("rcbu: %s: %w", op, err)
	}
	payload, _ := json.Marshal(body)
	u, err := url.Parse(identityURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rcbu: %s: invalid Identity URL %q", op, identityURL)
	}
	req := &Request{Method: "POST", URL: u, Body: payload, Header: textproto.MIMEHeader{}}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := roundTrip(ctx, t, req)
	if err != nil {
		return nil, fmt.Errorf("rcbu: %s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, &Error{Op: op, Method: req.Method, Path: u.Path, StatusCode: resp.StatusCode, Message: errorMessage(b)}
	}
	var a identityAccess
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSuccessBody)).Decode(&a); err != nil {
		return nil, fmt.Errorf("rcbu: %s: decode response: %w", op, err)
	}
	if a.Access.Token.ID == "" {
		return nil, fmt.Errorf("rcbu: %s: response has no token", op)
	}
	return &a, nil
}

// backupEndpoints picks the rax:backup endpoints per the options.
func backupEndpoints(a *identityAccess, o options) ([]Endpoint, error) {
	var regional, regionless []Endpoint
	for _, svc := range a.Access.ServiceCatalog {
		if !strings.EqualFold(svc.Type, "rax:backup") && !(svc.Type == "" && strings.EqualFold(svc.Name, "cloudBackup")) {
			continue
		}
		for _, e := range svc.Endpoints {
			u, err := url.Parse(strings.TrimRight(e.PublicURL, "/"))
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("rcbu: service catalog: invalid publicURL %q", e.PublicURL)
			}
			ep := Endpoint{Region: strings.ToUpper(e.Region), URL: u}
			if ep.Region == "" {
				regionless = append(regionless, ep)
			} else {
				regional = append(regional, ep)
			}
		}
	}
	find := func(r string) (Endpoint, bool) {
		for _, e := range regional {
			if e.Region == r {
				return e, true
			}
		}
		return Endpoint{}, false
	}
	switch {
	case o.allRegions:
		if len(regional) == 0 {
			return regionless[:min(len(regionless), 1)], errIfEmpty(regionless)
		}
		return regional, nil
	case o.region != "":
		if e, ok := find(o.region); ok {
			return []Endpoint{e}, nil
		}
		names := make([]string, len(regional))
		for i, e := range regional {
			names[i] = e.Region
		}
		return nil, fmt.Errorf("rcbu: service catalog: no rax:backup endpoint in region %s (have %s)", o.region, strings.Join(names, ", "))
	}
	if e, ok := find(strings.ToUpper(a.Access.User.DefaultRegion)); ok {
		return []Endpoint{e}, nil
	}
	if len(regional) > 0 {
		return regional[:1], nil
	}
	return regionless[:min(len(regionless), 1)], errIfEmpty(regionless)
}

func errIfEmpty(eps []Endpoint) error {
	if len(eps) == 0 {
		return errors.New("rcbu: service catalog: no rax:backup endpoint")
	}
	return nil
}

// Connect authenticates with Identity and returns a client for the
// catalog's Cloud Backup endpoint(s), over WithTransport. It makes a call
// (to Identity). rcbuhttp.Connect is Connect over net/http.
func Connect(ctx context.Context, cr Credentials, opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	if o.transport == nil {
		return nil, errNoTransport("connect")
	}
	src := &tokenSource{transport: o.transport, url: o.identityURL, ua: o.userAgent, cred: cr, now: o.now, margin: o.refreshMargin}
	a, err := authenticate(ctx, o.transport, o.identityURL, o.userAgent, cr)
	if err != nil {
		return nil, err
	}
	src.set(a)
	eps, err := backupEndpoints(a, o)
	if err != nil {
		return nil, err
	}
	return newClient(o, eps, a.Access.Token.Tenant.ID, src), nil
}

// tokenSource hands out the current token, re-authenticating before it
// expires (margin) and after the service rejects it.
type tokenSource struct {
	static bool // fixed token from WithToken

	transport Transport
	url       string
	ua        string
	cred      Credentials
	now       func() time.Time
	margin    time.Duration

	mu  sync.Mutex
	tok string
	exp time.Time
}

func (s *tokenSource) set(a *identityAccess) {
	s.tok, s.exp = a.Access.Token.ID, a.Access.Token.Expires
	// A token that looks expired on arrival means our clock disagrees with
	// Identity's: rely on the service's 401 instead of refreshing on every
	// call.
	if !s.exp.After(s.now()) {
		s.exp = time.Time{}
	}
}

// token returns a valid token, authenticating when needed (a call).
func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.static {
		return s.tok, nil
	}
	if s.tok != "" && (s.exp.IsZero() || s.now().Add(s.margin).Before(s.exp)) {
		return s.tok, nil
	}
	a, err := authenticate(ctx, s.transport, s.url, s.ua, s.cred)
	if err != nil {
		return "", err
	}
	s.set(a)
	return s.tok, nil
}

// invalidate forgets tok if it is still the current token, so the next
// token call authenticates again. It reports whether a refresh is possible.
func (s *tokenSource) invalidate(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.static {
		return false
	}
	if s.tok == tok {
		s.tok = ""
	}
	return true
}
