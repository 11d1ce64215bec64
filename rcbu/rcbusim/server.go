package rcbusim

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fixed demo credentials. Every dataset knows these users.
const (
	DemoTenant       = "123456"
	DemoUser         = "demo"
	DemoAPIKey       = "demo-api-key"
	DemoPassword     = "demo-password"
	ObserverUser     = "observer"
	ObserverAPIKey   = "observer-api-key"
	ObserverPassword = "observer-password"
	CreatorUser      = "creator"
	CreatorAPIKey    = "creator-api-key"
	CreatorPassword  = "creator-password"
	OtherTenant      = "654321"
	OtherUser        = "other"
	OtherAPIKey      = "other-api-key"
	OtherPassword    = "other-password"
)

// maxBody bounds request bodies (413 beyond).
const maxBody = 1 << 20

// Regions returns the region codes the simulator serves, each under its own
// lowercase path prefix ("/dfw/v1.0/...") or, with WithRegionListeners, on
// its own listener.
func Regions() []string {
	return []string{"DFW", "ORD", "IAD", "LON", "HKG", "SYD"}
}

func isRegion(s string) (string, bool) {
	switch s {
	case "dfw", "ord", "iad", "lon", "hkg", "syd":
		return strings.ToUpper(s), true
	}
	return "", false
}

// Option configures a Server.
type Option func(*config)

type faultRate struct {
	rate     float64
	statuses []int
}

type config struct {
	clock       Clock
	dataset     string
	seedJSON    []byte
	seedPath    string
	scaleAgents int
	scaleCPA    int
	scaleDays   int
	randSeed    uint64
	tokenTTL    time.Duration
	latency     time.Duration
	jitter      time.Duration
	errRate     faultRate
	opErrRates  map[Op]faultRate
	hangRate    float64
	wakeDelay   time.Duration
	pace        float64
	logger      *slog.Logger
	regionLns   map[string]net.Listener
}

// WithClock sets the clock (default: the wall clock).
func WithClock(c Clock) Option { return func(o *config) { o.clock = c } }

// WithJobPace makes jobs and wake-ups pace times as quick as their
// simulated timing (see the package doc) while the clock keeps its own
// rate: a backup of 60 s takes 6 s at pace 10 and its report's times are
// read from the same clock as everything else. Unlike a faster clock, the
// simulator's time then stays the client's time, so a console showing
// "3 minutes ago" agrees with it. Values <= 0 are treated as 1.
func WithJobPace(pace float64) Option { return func(o *config) { o.pace = pace } }

// WithDataset selects the initial data: "empty" (the default) or "demo".
func WithDataset(name string) Option { return func(o *config) { o.dataset = name } }

// WithSeedFile loads agents and configurations from a JSON seed file (format
// in the package doc). It replaces the dataset's own agents.
func WithSeedFile(path string) Option { return func(o *config) { o.seedPath = path } }

// WithSeedJSON is WithSeedFile for in-memory seed data.
func WithSeedJSON(data []byte) Option { return func(o *config) { o.seedJSON = data } }

// WithScale adds agents generated agents (each with configsPerAgent
// configurations) to the demo tenant and, when historyDays > 0, generates
// that many days of finished backups for every scheduled configuration.
func WithScale(agents, configsPerAgent, historyDays int) Option {
	return func(o *config) {
		o.scaleAgents, o.scaleCPA, o.scaleDays = max(agents, 0), max(configsPerAgent, 0), max(historyDays, 0)
	}
}

// WithRandSeed sets the seed of the simulator's random source; equal seeds
// and equal request sequences give equal results.
func WithRandSeed(seed uint64) Option { return func(o *config) { o.randSeed = seed } }

// WithTokenTTL sets the lifetime of issued tokens (default 24h; values
// <= 0 keep the default).
func WithTokenTTL(d time.Duration) Option {
	return func(o *config) {
		if d > 0 {
			o.tokenTTL = d
		}
	}
}

// WithLatency delays every response by fixed plus a uniform random amount
// in [0, jitter).
func WithLatency(fixed, jitter time.Duration) Option {
	return func(o *config) { o.latency, o.jitter = fixed, jitter }
}

// WithErrorRate makes each request fail with probability rate, answering one
// of statuses (default 500 and 503).
func WithErrorRate(rate float64, statuses ...int) Option {
	return func(o *config) { o.errRate = faultRate{rate, statusesOr(statuses)} }
}

// WithOpErrorRate is WithErrorRate for a single operation; it takes
// precedence over WithErrorRate for that operation.
func WithOpErrorRate(op Op, rate float64, statuses ...int) Option {
	return func(o *config) {
		if o.opErrRates == nil {
			o.opErrRates = map[Op]faultRate{}
		}
		o.opErrRates[op] = faultRate{rate, statusesOr(statuses)}
	}
}

func statusesOr(s []int) []int {
	if len(s) == 0 {
		return []int{http.StatusInternalServerError, http.StatusServiceUnavailable}
	}
	return append([]int(nil), s...)
}

// WithHangRate makes each request hang with probability rate: no answer
// until the client gives up (the request context is done).
func WithHangRate(rate float64) Option { return func(o *config) { o.hangRate = rate } }

// WithWakeDelay sets how long (simulated time) an offline agent takes to come
// Online after a wake-up call (default 15s).
func WithWakeDelay(d time.Duration) Option { return func(o *config) { o.wakeDelay = max(d, 0) } }

// WithLogger sets the logger for request logs (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *config) { o.logger = l } }

// WithRegionListeners serves each region of lns (region code → listener,
// see ListenRegions) on its own listener, the way the real service serves
// each region on its own host (§1.1): the catalog lists the region's
// endpoint as http://HOST:PORT/v1.0/{tenant}, where HOST is the host the
// client authenticated at and PORT the listener's, and a request on that
// listener is in that region with no path prefix. The Server's own
// listener keeps Identity, the region-less endpoint and the path prefixes.
// New starts serving the listeners; Close stops them.
func WithRegionListeners(lns map[string]net.Listener) Option {
	return func(o *config) { o.regionLns = lns }
}

// ListenRegions opens one TCP listener per region (Regions) on host, at
// consecutive ports from firstPort in the order of Regions, or at free
// ports when firstPort is 0. On error none is left open.
func ListenRegions(host string, firstPort int) (map[string]net.Listener, error) {
	lns := map[string]net.Listener{}
	for i, r := range Regions() {
		port := 0
		if firstPort > 0 {
			port = firstPort + i
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("rcbusim: listen for region %s: %w", r, err)
		}
		lns[r] = ln
	}
	return lns, nil
}

type user struct {
	name     string
	id       string
	apiKey   string
	password string
	tenant   string
	role     role
	roles    []string
}

type token struct {
	id      string
	user    *user
	expires time.Time
	method  string
}

// Server is the simulated Cloud Backup and Identity service. It is an
// http.Handler; all state lives in memory behind one mutex.
type Server struct {
	cfg    config
	clock  Clock
	log    *slog.Logger
	routes routeTable
	// initErr records a dataset or seed problem found by New.
	initErr error
	// regionPorts maps a region served on its own listener to the
	// listener's port; regionSrvs serve those listeners.
	regionPorts map[string]string
	regionSrvs  []*http.Server

	mu       sync.Mutex
	rng      *rand.Rand // data and job outcomes
	faultRNG *rand.Rand // fault injection, kept apart so faults do not perturb data
	users    map[string]*user
	tokens   map[string]*token
	tokenSeq uint64
	tenants  map[string]*tenant
	agents   map[int64]*agent
	configs  map[int64]*configuration
	backups  map[int64]*backup
	restores map[int64]*restore
	cleanups map[int64]*cleanup
	events   eventHeap
	eventSeq uint64
	failNext map[Op][]int
	nextID   struct{ agent, config, schedule, file, backup, restore, rfile, cleanup, guid int64 }
}

// New returns a Server configured by opts. A seed file that cannot be read
// or parsed leaves the server with the dataset alone and is reported by Err.
func New(opts ...Option) *Server {
	cfg := config{
		dataset:   "empty",
		randSeed:  1,
		tokenTTL:  24 * time.Hour,
		wakeDelay: 15 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.clock == nil {
		cfg.clock = wallClock{}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		clock:    cfg.clock,
		log:      cfg.logger,
		routes:   newRouteTable(),
		rng:      rand.New(rand.NewPCG(cfg.randSeed, 0x5eedcb)),
		faultRNG: rand.New(rand.NewPCG(cfg.randSeed, 0xfa_017)),
		users:    map[string]*user{},
		tokens:   map[string]*token{},
		tenants:  map[string]*tenant{},
		agents:   map[int64]*agent{},
		configs:  map[int64]*configuration{},
		backups:  map[int64]*backup{},
		restores: map[int64]*restore{},
		cleanups: map[int64]*cleanup{},
		failNext: map[Op][]int{},
	}
	s.nextID.agent = 212_000
	s.nextID.config = 380_000
	s.nextID.schedule = 548_000
	s.nextID.file = 900_000
	s.nextID.backup = 4_100_000
	s.nextID.restore = 88_000
	s.nextID.rfile = 12_000
	s.nextID.cleanup = 7_700_000
	s.addUsers()
	s.initErr = s.loadData()
	if err := s.serveRegions(cfg.regionLns); err != nil && s.initErr == nil {
		s.initErr = err
	}
	return s
}

// Err reports a problem New had loading the dataset or seed file, or with
// the region listeners, if any.
func (s *Server) Err() error { return s.initErr }

// serveRegions starts serving the listeners of WithRegionListeners.
func (s *Server) serveRegions(lns map[string]net.Listener) error {
	if len(lns) == 0 {
		return nil
	}
	s.regionPorts = map[string]string{}
	for r := range lns {
		if _, ok := isRegion(strings.ToLower(r)); !ok {
			return fmt.Errorf("rcbusim: WithRegionListeners: unknown region %q (want one of %s)", r, strings.Join(Regions(), ", "))
		}
	}
	for r, ln := range lns {
		region := strings.ToUpper(r)
		_, port, err := net.SplitHostPort(ln.Addr().String())
		if err != nil {
			return fmt.Errorf("rcbusim: WithRegionListeners: region %s: %w", region, err)
		}
		s.regionPorts[region] = port
		hs := &http.Server{
			Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handle(w, r, region) }),
			ReadHeaderTimeout: 10 * time.Second,
		}
		s.regionSrvs = append(s.regionSrvs, hs)
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("rcbusim_region_listener_stopped", slog.String("region", region), slog.Any("err", err))
			}
		}()
	}
	return nil
}

// Close stops serving the region listeners of WithRegionListeners (closing
// their connections); the Server's own listener is its caller's. Without
// region listeners it does nothing.
func (s *Server) Close() error {
	var errs []error
	for _, hs := range s.regionSrvs {
		errs = append(errs, hs.Close())
	}
	return errors.Join(errs...)
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (s *Server) addUsers() {
	add := func(name, id, key, pw, ten string, r role, roles ...string) {
		s.users[name] = &user{name: name, id: id, apiKey: key, password: pw, tenant: ten, role: r, roles: roles}
		s.tenantOf(ten)
	}
	add(DemoUser, "4455667", DemoAPIKey, DemoPassword, DemoTenant, roleAdmin, "identity:user-admin", "cloudbackup:admin")
	add(ObserverUser, "4455668", ObserverAPIKey, ObserverPassword, DemoTenant, roleObserver, "cloudbackup:observer")
	add(CreatorUser, "4455669", CreatorAPIKey, CreatorPassword, DemoTenant, roleCreator, "cloudbackup:creator")
	add(OtherUser, "5566778", OtherAPIKey, OtherPassword, OtherTenant, roleAdmin, "identity:user-admin", "cloudbackup:admin")
}

// tenantOf returns the tenant with id, creating it.
func (s *Server) tenantOf(id string) *tenant {
	t := s.tenants[id]
	if t == nil {
		t = &tenant{id: id}
		s.tenants[id] = t
	}
	return t
}

// call is one authenticated Cloud Backup request being handled.
type call struct {
	r      *http.Request
	now    time.Time
	user   *user
	tenant *tenant
	region string // "" on the region-less endpoint
	id     int64  // the "#" path segment, if any (no route has two)
	seg    string // the "*" path segment, if any
	body   []byte
	op     Op
}

// reply is what a handler answers: status and a body to encode. body nil
// means an empty body; json.RawMessage is written as is.
type reply struct {
	status int
	body   any
}

type errorBody struct {
	Message string
}

func errReply(status int, format string, args ...any) reply {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return reply{status, errorBody{msg}}
}

func badReply(err error) reply {
	var br *badRequest
	if errors.As(err, &br) {
		return reply{br.code, errorBody{br.msg}}
	}
	return reply{http.StatusBadRequest, errorBody{err.Error()}}
}

func ok(body any) reply { return reply{http.StatusOK, body} }

// ServeHTTP routes and answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handle(w, r, "") }

// handle answers one request that arrived on the listener of region
// listenerRegion ("" for the Server's own listener).
func (s *Server) handle(w http.ResponseWriter, r *http.Request, listenerRegion string) {
	start := time.Now()
	defer func() {
		// A simulator bug must not take the test process down: answer 500
		// and log it. The mutex is released by serve's own defer.
		if v := recover(); v != nil {
			s.log.LogAttrs(r.Context(), slog.LevelError, "rcbusim_panic",
				slog.String("path", r.URL.Path), slog.Any("panic", v))
			s.write(w, errReply(http.StatusInternalServerError, "internal simulator error"))
		}
	}()
	rep, op := s.serve(w, r, listenerRegion)
	if rep.status == 0 {
		return // hung request; the client went away
	}
	s.write(w, rep)
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "rcbusim_request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("op", string(op)), slog.Int("status", rep.status),
		slog.Duration("elapsed", time.Since(start)))
}

func (s *Server) write(w http.ResponseWriter, rep reply) {
	var body []byte
	switch b := rep.body.(type) {
	case nil:
	case json.RawMessage:
		body = b
	default:
		var err error
		body, err = json.Marshal(b)
		if err != nil {
			rep.status = http.StatusInternalServerError
			body = []byte(`{"Message":"internal error encoding the response"}`)
		}
	}
	h := w.Header()
	if len(body) > 0 {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.status)
	if len(body) > 0 {
		_, _ = w.Write(body)
	}
}

// splitPath splits, lower-cases and cleans a request path: empty segments
// (trailing or doubled slashes) are dropped and a ".json" suffix on the last
// segment is removed.
// The segments are appended to segs, so the caller can pass a stack buffer.
func splitPath(segs []string, p string) []string {
	p = strings.ToLower(p)
	for s := range strings.SplitSeq(p, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if n := len(segs); n > 0 {
		segs[n-1] = strings.TrimSuffix(segs[n-1], ".json")
		if segs[n-1] == "" {
			segs = segs[:n-1]
		}
	}
	return segs
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, listenerRegion string) (reply, Op) {
	var buf [8]string // every API path has fewer segments
	segs := splitPath(buf[:0], r.URL.Path)
	// Identity, on the Server's own listener only: the real service's
	// regional hosts do not serve it.
	if listenerRegion == "" && len(segs) == 2 && segs[0] == "v2.0" && segs[1] == "tokens" {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			return errReply(http.StatusMethodNotAllowed, "method %s not allowed; use POST", r.Method), OpAuth
		}
		body, rep, bad := readBody(w, r)
		if bad {
			return rep, OpAuth
		}
		if rep, faulted := s.inject(r.Context(), OpAuth); faulted {
			return rep, OpAuth
		}
		return s.authenticate(r.Host, body), OpAuth
	}
	// A region's own listener takes no prefix; the Server's takes one.
	region, prefix := listenerRegion, ""
	if region == "" && len(segs) > 0 {
		if reg, ok := isRegion(segs[0]); ok {
			region, prefix = reg, "/"+segs[0]
			segs = segs[1:]
		}
	}
	if len(segs) == 0 {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			return errReply(http.StatusMethodNotAllowed, "method %s not allowed; use GET", r.Method), OpListVersions
		}
		return s.versions(r, prefix), OpListVersions
	}
	if segs[0] != "v1.0" {
		return errReply(http.StatusNotFound, "no such resource: %s", r.URL.Path), ""
	}
	segs = segs[1:]
	pathTenant := ""
	if len(segs) > 0 && isDigits(segs[0]) {
		pathTenant = segs[0]
		segs = segs[1:]
	}
	if len(segs) == 0 {
		return s.versions(r, prefix), OpListVersions
	}
	rt, allow := s.routes.match(r.Method, segs)
	if rt == nil {
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return errReply(http.StatusMethodNotAllowed, "method %s not allowed on this resource; allowed: %s", r.Method, strings.Join(allow, ", ")), ""
		}
		return errReply(http.StatusNotFound, "no such resource: %s", r.URL.Path), ""
	}
	c := &call{r: r, region: region, op: rt.op}
	for i, p := range rt.pattern {
		switch p {
		case "#":
			c.id, _ = strconv.ParseInt(segs[i], 10, 64)
		case "*":
			c.seg = segs[i]
		}
	}
	body, rep, bad := readBody(w, r)
	if bad {
		return rep, c.op
	}
	c.body = body
	if rt.op == OpStartBackup || rt.op == OpStartRestore {
		c.op = actionOp(rt.op, body)
	}
	if rep, faulted := s.inject(r.Context(), c.op); faulted {
		return rep, c.op
	}
	tok := r.Header.Get("X-Auth-Token")

	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.clock.Now()
	s.advanceLocked(c.now)
	t := s.tokens[tok]
	if tok == "" || t == nil {
		return errReply(http.StatusUnauthorized, "missing or invalid X-Auth-Token"), c.op
	}
	if !c.now.Before(t.expires) {
		return errReply(http.StatusUnauthorized, "the token has expired; authenticate again"), c.op
	}
	if pathTenant != "" && pathTenant != t.user.tenant {
		return errReply(http.StatusForbidden, "access denied: token is not valid for account %s", pathTenant), c.op
	}
	if t.user.role < rt.min {
		return errReply(http.StatusForbidden, "access denied: your role does not allow %s", c.op), c.op
	}
	c.user = t.user
	c.tenant = s.tenantOf(t.user.tenant)
	return rt.handle(s, c), c.op
}

// actionOp tells start from stop for the action-requested endpoints so
// faults can target each.
func actionOp(start Op, body []byte) Op {
	f, err := decodeFields(body, false)
	if err != nil {
		return start
	}
	a, _, _ := f.stringField("Action")
	if strings.EqualFold(a, "StopManual") {
		if start == OpStartBackup {
			return OpStopBackup
		}
		return OpStopRestore
	}
	return start
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, reply, bool) {
	if r.Body == nil || r.Body == http.NoBody { // most GETs: nothing to read
		return nil, reply{}, false
	}
	if r.ContentLength > maxBody {
		return nil, errReply(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", maxBody), true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errReply(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", maxBody), true
		}
		return nil, errReply(http.StatusBadRequest, "cannot read the request body"), true
	}
	return body, reply{}, false
}

// inject applies latency, hangs and injected errors for op. It returns a
// zero-status reply when the request hung until the client gave up.
func (s *Server) inject(ctx context.Context, op Op) (reply, bool) {
	s.mu.Lock()
	delay := s.cfg.latency
	if s.cfg.jitter > 0 {
		delay += time.Duration(s.faultRNG.Int64N(int64(s.cfg.jitter)))
	}
	hang := s.cfg.hangRate > 0 && s.faultRNG.Float64() < s.cfg.hangRate
	status := 0
	if q := s.failNext[op]; len(q) > 0 {
		status = q[0]
		if len(q) == 1 {
			delete(s.failNext, op)
		} else {
			s.failNext[op] = q[1:]
		}
	} else {
		fr, ok := s.cfg.opErrRates[op]
		if !ok {
			fr = s.cfg.errRate
		}
		if fr.rate > 0 && s.faultRNG.Float64() < fr.rate {
			status = fr.statuses[s.faultRNG.IntN(len(fr.statuses))]
		}
	}
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return reply{}, true
		}
	}
	if hang {
		<-ctx.Done()
		return reply{}, true
	}
	if status != 0 {
		return errReply(status, "injected fault: %s answered %d %s", op, status, http.StatusText(status)), true
	}
	return reply{}, false
}

// FailNext makes the next call of op answer status (with a {"Message"}
// body). Calls queue up: FailNext twice fails the next two calls.
func (s *Server) FailNext(op Op, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[op] = append(s.failNext[op], status)
}

// ExpireTokens makes every token issued so far expired: their next use
// answers 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for _, t := range s.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// Advance moves a FakeClock forward by d and processes every event that fell
// due. With any other clock it only processes events due by the clock's
// current time.
func (s *Server) Advance(d time.Duration) {
	if fc, ok := s.clock.(*FakeClock); ok {
		fc.Advance(d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
}

// Now returns the simulator's current time.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Clock returns the simulator's clock (the one WithClock set, or the wall
// clock).
func (s *Server) Clock() Clock { return s.clock }

// after is the time d of job timing after at, at the simulator's job pace.
func (s *Server) after(at time.Time, d time.Duration) time.Time {
	if s.cfg.pace > 0 && s.cfg.pace != 1 {
		d = time.Duration(float64(d) / s.cfg.pace)
	}
	return at.Add(d)
}

// push schedules an event.
func (s *Server) push(at time.Time, kind eventKind, id int64, gen uint32) {
	s.eventSeq++
	heap.Push(&s.events, event{at: at, seq: s.eventSeq, kind: kind, id: id, gen: gen})
}

// advanceLocked runs every event due at or before now, in time order.
func (s *Server) advanceLocked(now time.Time) {
	for len(s.events) > 0 && !s.events[0].at.After(now) {
		ev := heap.Pop(&s.events).(event)
		switch ev.kind {
		case evBackupStep:
			s.stepBackup(ev)
		case evRestoreStep:
			s.stepRestore(ev)
		case evScheduleFire:
			s.fireSchedule(ev)
		case evAgentWake:
			if a := s.agents[ev.id]; a != nil && a.wakePending {
				a.wakePending = false
				a.online = true
			}
		}
	}
}

// versions lists the API versions; prefix is the region path prefix the
// request came through ("/dfw"), if any.
func (s *Server) versions(r *http.Request, prefix string) reply {
	base := "http://" + r.Host + prefix
	return ok(map[string]any{"versions": []map[string]any{{
		"id": "v1.0", "status": "CURRENT", "updated": "2015-09-09T00:00:00Z",
		"links": []map[string]string{{"rel": "self", "href": base + "/v1.0/"}},
	}}})
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func jsonInt(n int64) json.RawMessage {
	return strconv.AppendInt(nil, n, 10)
}
