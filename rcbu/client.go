package rcbu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultIdentityURL is the Rackspace Identity v2.0 token endpoint.
const DefaultIdentityURL = "https://identity.api.rackspacecloud.com/v2.0/tokens"

// DefaultUserAgent is sent unless WithUserAgent overrides it.
const DefaultUserAgent = "rcbu-go/1.0"

// Body limits: error bodies are only shown in messages; lists of thousands
// of agents or activity items stay well below 64 MiB.
const (
	maxErrorBody   = 1 << 20
	maxSuccessBody = 64 << 20
)

// Client talks to Cloud Backup. It is safe for concurrent use. Create one
// with Connect (credentials) or NewClient (an endpoint and a token).
type Client struct {
	Agents         *AgentsService         // agents (§3, §4)
	Configurations *ConfigurationsService // backup configurations (§5)
	Backups        *BackupsService        // backup runs and reports (§6)
	Restores       *RestoresService       // restores (§7)
	Activity       *ActivityService       // activity and cleanups (§9, §10)

	common service

	transport Transport
	src       *tokenSource
	log       *slog.Logger
	tenant    string
	endpoints []Endpoint
	opts      options

	routeMu sync.Mutex
	routes  map[routeKey]int // index into endpoints
}

// service is shared by all services (go-github's pattern).
type service struct{ client *Client }

// Endpoint is one Cloud Backup endpoint from the service catalog.
type Endpoint struct {
	Region string   // "DFW"; "" for a region-less or hand-made endpoint
	URL    *url.URL // ends in /v1.0/{tenant}
}

// Option configures Connect and NewClient.
type Option func(*options)

type options struct {
	identityURL   string
	region        string
	allRegions    bool
	transport     Transport
	userAgent     string
	logger        *slog.Logger
	baseURL       string
	token         string
	now           func() time.Time
	refreshMargin time.Duration
	retryMax      int
	retryBase     time.Duration
	retryCap      time.Duration
	startAttempts int
	startWait     time.Duration
	concurrency   int
}

func defaultOptions() options {
	return options{
		identityURL:   DefaultIdentityURL,
		userAgent:     DefaultUserAgent,
		now:           time.Now,
		refreshMargin: 5 * time.Minute,
		retryMax:      4,
		retryBase:     100 * time.Millisecond,
		retryCap:      2 * time.Second,
		startAttempts: 20,
		startWait:     time.Second,
		concurrency:   DefaultConcurrency,
	}
}

// DefaultConcurrency is how many calls GetMany and a multi-region fan-out
// run at once unless WithConcurrency says otherwise.
//
// 64 lets the details of a 200-agent fleet arrive in four round trips
// (200/64 rounded up), so a page that needs them waits about four times the
// API's latency rather than thirteen (with 16). Why this is safe with
// respect to the API's limits:
//   - Cloud Backup publishes no rate limits of its own: the contract's
//     status codes (§1.4) have no 429 and it records no throttling.
//     Rackspace's other APIs are limited by Repose in requests per minute
//     per account and endpoint (e.g. Cloud Databases: 100 GETs a minute),
//     which counts requests, not how many are in flight: a fan-out of 200
//     costs the same 200 requests at any concurrency, only faster. (A
//     per-minute limit below a fan-out's size is exceeded at any
//     concurrency; only fewer calls help, such as reading the list
//     endpoints instead of each agent's details.)
//   - When a limit is hit anyway, the answer is 429 or 503, and GETs are
//     retried with jittered backoff honouring Retry-After, so a burst
//     degrades into a slower fan-out rather than an error.
//   - 64 stays under the usual HTTP/2 cap on concurrent streams (100 for
//     Go's and most servers), so over HTTP/2 a fan-out shares one
//     connection; over HTTP/1.1 rcbuhttp's transport keeps 64 idle connections per
//     host, so repeated fan-outs do not reconnect.
//
// Programs that call the API from background work should pass a lower
// WithConcurrency to the clients they use there, so that work cannot crowd
// out interactive calls.
const DefaultConcurrency = 64

// WithIdentityURL sets the Identity token URL (default DefaultIdentityURL).
func WithIdentityURL(u string) Option { return func(o *options) { o.identityURL = u } }

// WithRegion selects the catalog's rax:backup endpoint of region (e.g.
// "DFW"). Without WithRegion or WithAllRegions, Connect uses the user's
// default region if the catalog has it, else the first regional endpoint.
// With NewClient it only labels the endpoint.
func WithRegion(region string) Option {
	return func(o *options) { o.region = strings.ToUpper(strings.TrimSpace(region)) }
}

// WithAllRegions makes Connect use every regional rax:backup endpoint: lists
// fan out and merge; calls on one object go to the region that owns it.
func WithAllRegions() Option { return func(o *options) { o.allRegions = true } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithLogger sets the logger for debug-level request logs (method, path,
// status, duration; never the token). Default: discard.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithBaseURL sets the Cloud Backup endpoint for NewClient, e.g.
// "https://dfw.backup.api.rackspacecloud.com/v1.0/123456".
func WithBaseURL(u string) Option { return func(o *options) { o.baseURL = u } }

// WithToken sets a fixed Identity token for NewClient. It is never
// refreshed: a 401 is returned as ErrUnauthorized.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithClock sets the clock used to decide when the token needs refreshing.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithRetry sets the retry policy of idempotent GETs: at most attempts
// tries in all (1 disables retries), with full-jitter exponential backoff
// from base up to ceiling.
func WithRetry(attempts int, base, ceiling time.Duration) Option {
	return func(o *options) { o.retryMax, o.retryBase, o.retryCap = max(attempts, 1), base, ceiling }
}

// WithStartRetry bounds how starting a backup or restore retries a 403 that
// the service answers while an agent wakes up (§6.1): at most attempts tries,
// interval apart (default 20 tries, 1 s). 1 disables it.
func WithStartRetry(attempts int, interval time.Duration) Option {
	return func(o *options) { o.startAttempts, o.startWait = max(attempts, 1), interval }
}

// WithConcurrency bounds the parallel calls of GetMany and of multi-region
// fan-outs (default DefaultConcurrency, 64).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = max(n, 1) } }

// NewClient returns a client for one known endpoint and token
// (WithBaseURL, WithToken) over WithTransport; it makes no call.
// rcbuhttp.NewClient is NewClient over net/http.
func NewClient(opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	if o.transport == nil {
		return nil, errNoTransport("new client")
	}
	if o.baseURL == "" {
		return nil, errors.New("rcbu: new client: WithBaseURL is required")
	}
	u, err := url.Parse(strings.TrimRight(o.baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rcbu: new client: invalid base URL %q", o.baseURL)
	}
	if o.token == "" {
		return nil, errors.New("rcbu: new client: WithToken is required")
	}
	src := &tokenSource{static: true, tok: o.token}
	return newClient(o, []Endpoint{{Region: o.region, URL: u}}, tenantFromURL(u), src), nil
}

// newClient wires the services.
func newClient(o options, eps []Endpoint, tenant string, src *tokenSource) *Client {
	c := &Client{
		transport: o.transport,
		src:       src,
		log:       o.logger,
		tenant:    tenant,
		endpoints: eps,
		opts:      o,
		routes:    map[routeKey]int{},
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.common.client = c
	c.Agents = (*AgentsService)(&c.common)
	c.Configurations = (*ConfigurationsService)(&c.common)
	c.Backups = (*BackupsService)(&c.common)
	c.Restores = (*RestoresService)(&c.common)
	c.Activity = (*ActivityService)(&c.common)
	return c
}

func errNoTransport(op string) error {
	return fmt.Errorf("rcbu: %s: WithTransport is required (rcbuhttp's Connect and NewClient supply net/http's)", op)
}

// tenantFromURL returns the segment after v1.0 ("" if absent).
func tenantFromURL(u *url.URL) string {
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, p := range parts {
		if strings.EqualFold(p, "v1.0") && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return ""
}

// request describes one API call.
type request struct {
	op     string // for errors, e.g. "get agent 42"
	method string
	path   string // relative to the endpoint, e.g. "agent/42"
	body   any    // JSON-encoded when non-nil
	out    any    // decoded from a non-empty 2xx body when non-nil
	need   bool   // an empty 2xx body is an error (out required)
	raw    *[]byte
}

// do sends r to endpoint ep. Only GETs are retried (429, 502, 503, 504,
// connection errors); a 401 is replayed once with a fresh token (send), for
// every method, because it never reached the service logic.
func (c *Client) do(ctx context.Context, ep Endpoint, r request) error {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("rcbu: %s: encode request: %w", r.op, err)
		}
	}
	u := *ep.URL
	u.Path = strings.TrimRight(u.Path, "/") + "/" + r.path
	u.RawPath = ""
	if ep.URL.RawPath != "" || strings.Contains(r.path, "%") {
		u.RawPath = strings.TrimRight(ep.URL.EscapedPath(), "/") + "/" + r.path
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		}
	}
	req := &Request{Method: r.method, URL: &u, Body: payload, Header: textproto.MIMEHeader{}}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	attempts := 1
	if r.method == "GET" {
		attempts = c.opts.retryMax
	}
	for attempt := 0; ; attempt++ {
		start := time.Now()
		resp, err := c.send(ctx, req)
		if err != nil {
			c.log.DebugContext(ctx, "rcbu_request", slog.String("method", r.method), slog.String("path", u.Path),
				slog.String("region", ep.Region), slog.Int("attempt", attempt+1), slog.Duration("duration", time.Since(start)), slog.String("error", err.Error()))
			if ctx.Err() != nil {
				return fmt.Errorf("rcbu: %s: %w", r.op, ctx.Err())
			}
			var ae *authError
			if errors.As(err, &ae) {
				return ae.err
			}
			if attempt+1 < attempts {
				if werr := c.sleep(ctx, c.backoff(attempt, nil)); werr != nil {
					return fmt.Errorf("rcbu: %s: %w", r.op, werr)
				}
				continue
			}
			return fmt.Errorf("rcbu: %s: %w", r.op, err)
		}
		c.log.DebugContext(ctx, "rcbu_request", slog.String("method", r.method), slog.String("path", u.Path),
			slog.String("region", ep.Region), slog.Int("attempt", attempt+1), slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)))
		if retryable(resp.StatusCode) && attempt+1 < attempts {
			wait := c.backoff(attempt, resp)
			drain(resp)
			if wait < 0 { // Retry-After beyond what we are willing to wait
				return &Error{Op: r.op, Method: r.method, Path: u.Path, Region: ep.Region, StatusCode: resp.StatusCode, Message: "Retry-After too long"}
			}
			if werr := c.sleep(ctx, wait); werr != nil {
				return fmt.Errorf("rcbu: %s: %w", r.op, werr)
			}
			continue
		}
		return c.finish(resp, ep, u.Path, r)
	}
}

// authError is a failure to get a token: it is returned as it is, neither
// retried nor wrapped in the operation.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// send makes one exchange with the current token. On a 401 it refreshes
// the token and sends the request once more (unless the token is fixed).
func (c *Client) send(ctx context.Context, req *Request) (*Response, error) {
	tok, err := c.src.token(ctx)
	if err != nil {
		return nil, &authError{err}
	}
	req.Header.Set("X-Auth-Token", tok)
	resp, err := roundTrip(ctx, c.transport, req)
	if err != nil || resp.StatusCode != statusUnauthorized || !c.src.invalidate(tok) {
		return resp, err
	}
	drain(resp)
	if tok, err = c.src.token(ctx); err != nil {
		return nil, &authError{err}
	}
	req.Header.Set("X-Auth-Token", tok)
	return roundTrip(ctx, c.transport, req)
}

// finish reads and decodes the response.
func (c *Client) finish(resp *Response, ep Endpoint, path string, r request) error {
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &Error{
			Op: r.op, Method: r.method, Path: path, Region: ep.Region,
			StatusCode: resp.StatusCode, Message: errorMessage(b),
			RequestID: firstHeader(resp.Header, "X-Request-Id", "X-Compute-Request-Id", "X-Trans-Id"),
		}
	}
	b, err := readAll(io.LimitReader(resp.Body, maxSuccessBody+1), min(resp.ContentLength, maxSuccessBody))
	if err != nil {
		return fmt.Errorf("rcbu: %s: read response: %w", r.op, err)
	}
	if len(b) > maxSuccessBody {
		return fmt.Errorf("rcbu: %s: response larger than %d MiB", r.op, maxSuccessBody>>20)
	}
	if r.raw != nil {
		*r.raw = b
	}
	if r.out == nil {
		return nil
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if r.need {
			return fmt.Errorf("rcbu: %s: %w: empty body with status %d", r.op, errScalar, resp.StatusCode)
		}
		return nil
	}
	switch out := r.out.(type) {
	case *[]Activity:
		err = decodeActivities(b, out) // the biggest lists: one pass, no reflection
	default:
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		return fmt.Errorf("rcbu: %s: decode response: %w", r.op, err)
	}
	return nil
}

func firstHeader(h textproto.MIMEHeader, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

func retryable(status int) bool {
	switch status {
	case statusTooManyRequests, statusBadGateway, statusUnavailable, statusGatewayTimeout:
		return true
	}
	return false
}

// maxRetryAfter is the longest Retry-After the client waits for.
const maxRetryAfter = 30 * time.Second

// backoff returns the wait before the next try: the server's Retry-After
// when given (or -1 when it exceeds maxRetryAfter), else full jitter over
// min(cap, base·2^attempt).
func (c *Client) backoff(attempt int, resp *Response) time.Duration {
	if resp != nil {
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			var d time.Duration
			if secs, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && secs >= 0 {
				d = time.Duration(secs) * time.Second
			} else if t, ok := parseHTTPDate(ra); ok {
				d = max(t.Sub(c.opts.now()), 0)
			}
			if d > maxRetryAfter {
				return -1
			}
			if d > 0 {
				return d
			}
		}
	}
	ceil := c.opts.retryBase << min(attempt, 20)
	if ceil > c.opts.retryCap || ceil <= 0 {
		ceil = c.opts.retryCap
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// sleep waits d or until ctx is done.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func drain(resp *Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
}

// readAll is io.ReadAll with the buffer sized from the Content-Length
// (sizeHint, ignored when <= 0), so a 10 MB list is read without growing
// and copying its buffer a dozen times.
func readAll(r io.Reader, sizeHint int64) ([]byte, error) {
	if sizeHint <= 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, sizeHint+1) // +1: the read that sees EOF needs room
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) { // longer than announced: grow as io.ReadAll does
			b = append(b, 0)[:len(b)]
		}
	}
}
