package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// Scope is the set of Rackspace accounts a request may see and act on: the
// account chosen in the header's switcher, or all of them. Every lookup by
// id is checked against it, so an id from a URL never reaches an account
// outside it.
type Scope struct {
	Accounts []Account
}

// NewScope returns the scope over accts.
func NewScope(accts ...Account) Scope { return Scope{Accounts: accts} }

// Account returns the account of the scope with that id.
func (s Scope) Account(id AccountID) (Account, bool) {
	for _, a := range s.Accounts {
		if a.ID == id {
			return a, true
		}
	}
	return Account{}, false
}

// Multi reports whether the scope spans several accounts (pages then show
// which account each row belongs to).
func (s Scope) Multi() bool { return len(s.Accounts) > 1 }

// ClientSource gives the signed-in API client of an account; *Accounts is one.
type ClientSource interface {
	Client(ctx context.Context, id AccountID) (*rcbu.Client, error)
}

// FleetAgent is an agent together with the account it belongs to.
type FleetAgent struct {
	AccountID   AccountID
	AccountName string
	Agent       rcbu.Agent
	// Live reports whether Agent comes from the details call, with a live
	// Status; otherwise it is the list's data, whose Status is a placeholder.
	Live bool
	// Problem says, in words, why the live details are missing ("" when Live).
	Problem string
}

// FleetConfiguration is a backup configuration with its account.
type FleetConfiguration struct {
	AccountID     AccountID
	AccountName   string
	Configuration rcbu.Configuration
}

// FleetActivity is an activity item (a backup, restore or cleanup job) with
// its account.
type FleetActivity struct {
	AccountID   AccountID
	AccountName string
	Activity    rcbu.Activity
}

// FleetBackup is one backup run's status with its account.
type FleetBackup struct {
	AccountID   AccountID
	AccountName string
	Backup      rcbu.BackupStatus
}

// FleetRestore is one restore with its account.
type FleetRestore struct {
	AccountID   AccountID
	AccountName string
	Restore     rcbu.RestoreConfiguration
}

// AccountProblem is an account whose data could not be read. Pages show it
// as an inline banner while the other accounts still render.
type AccountProblem struct {
	AccountID   AccountID
	AccountName string
	Message     string // in words, from Problem
	Err         error
}

// FleetOptions tune a Fleet. Zero fields take the defaults.
type FleetOptions struct {
	// TTL is how long lists and agent details stay cached (default 5 s).
	TTL time.Duration
	// MaxStale is how old a cached value may still be served while one
	// background refresh replaces it (stale-while-revalidate). Zero (the
	// default) serves nothing older than TTL: every read past it waits
	// for the API. Invalidate drops stale values too, so a change made
	// through the console is never hidden by them.
	MaxStale time.Duration
	// Concurrency bounds the accounts queried at once by one call (default 8).
	Concurrency int
	// DetailConcurrency bounds the agent-details calls one request makes at
	// once (default 16). The overview page itself makes none: it shows the
	// details cached, and its live-status fragment fetches the rest.
	DetailConcurrency int
	// Budget bounds the list calls made for one page (default 5 s). A call
	// shared by several requests (singleflight) gets its own Budget.
	Budget time.Duration
	// DetailBudget bounds the agent details of one page (default 3 s); past
	// it the page shows the list's data for the agents still missing.
	DetailBudget time.Duration
	Now          func() time.Time
	Log          *slog.Logger
}

func (o FleetOptions) withDefaults() FleetOptions {
	orDefault(&o.TTL, 5*time.Second)
	orDefault(&o.Concurrency, 8)
	orDefault(&o.DetailConcurrency, 16)
	orDefault(&o.Budget, 5*time.Second)
	orDefault(&o.DetailBudget, 3*time.Second)
	clockAndLog(&o.Now, &o.Log)
	return o
}

// Fleet is the console's account-scoped, cached access to Cloud Backup for
// every page. Lists (agents, configurations, activity) and agent details are
// cached per account for a few seconds, with concurrent requests for the
// same data coalesced into one call; Invalidate drops an account's cache so
// that after a change made through the console the user sees the new state.
// Lookups by id check that the object belongs to an account of the scope.
type Fleet struct {
	clients ClientSource
	opts    FleetOptions
	sf      singleflight.Group

	mu        sync.Mutex
	gen       map[AccountID]uint64 // bumped by Invalidate; a fetch begun before does not fill the cache
	epoch     uint64               // bumped by dropAll, as every account's gen
	cache     map[cacheKey]cacheEntry
	lastSweep time.Time
	notices   changeNotices // the other replicas
}

type cacheKind uint8

const (
	kindAgents cacheKind = iota + 1
	kindConfigurations
	kindActivity
	kindAgentDetails
)

type cacheKey struct {
	account AccountID
	kind    cacheKind
	id      int64 // the agent, for kindAgentDetails
}

type cacheEntry struct {
	val     any
	fetched time.Time
	// busy are the busy backups and restores of an activity list, picked
	// out once when it is stored rather than on every page that shows
	// the running jobs (the list holds the account's whole history).
	busy []rcbu.Activity
}

// NewFleet returns a Fleet over the accounts' clients.
func NewFleet(clients ClientSource, opts FleetOptions) *Fleet {
	return &Fleet{
		clients: clients,
		opts:    opts.withDefaults(),
		gen:     map[AccountID]uint64{},
		cache:   map[cacheKey]cacheEntry{},
	}
}

// Invalidate drops everything cached for the account, here and (through
// Caches) on the other replicas. Every mutation made through the console
// calls it, so the next page reads the new state.
func (f *Fleet) Invalidate(id AccountID) {
	f.drop(id)
	f.notices.publish(Change{Kind: ChangeFleet, Account: id})
}

// drop is Invalidate on this replica only.
func (f *Fleet) drop(id AccountID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen[id]++
	for k := range f.cache {
		if k.account == id {
			delete(f.cache, k)
		}
	}
}

// dropAll drops every account's cache on this replica.
func (f *Fleet) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch++
	clear(f.cache)
}

// genOf is the account's generation, with f.mu held: a fetch begun under
// another one does not fill the cache.
func (f *Fleet) genOf(id AccountID) uint64 {
	return f.gen[id] + f.epoch<<32
}

// Client returns the API client of an account in the scope; an account
// outside the scope is not found.
func (f *Fleet) Client(ctx context.Context, scope Scope, id AccountID) (*rcbu.Client, error) {
	if _, ok := scope.Account(id); !ok {
		return nil, fmt.Errorf("fleet: account %d: %w", id, ErrNotFound)
	}
	c, err := f.clients.Client(ctx, id)
	if err != nil {
		return nil, upstream("connect to account "+id.String(), "account", err)
	}
	return c, nil
}

// cached returns the value under key when it is younger than the TTL, or
// fetches it once for every concurrent caller. The shared fetch must not be
// cut short by the one caller that started it, so it runs with its own
// Budget; each caller waits only as long as its own ctx allows. Errors are
// not cached.
func cached[T any](ctx context.Context, f *Fleet, key cacheKey, fetch func(context.Context) (T, error)) (T, error) {
	v, _, err := cachedAt(ctx, f, key, fetch)
	return v, err
}

// cachedAt is cached that also says when the value was fetched. A value
// older than the TTL but within MaxStale is returned at once while one
// background fetch (shared with any caller that does wait) refreshes it.
func cachedAt[T any](ctx context.Context, f *Fleet, key cacheKey, fetch func(context.Context) (T, error)) (T, time.Time, error) {
	var zero T
	now := f.opts.Now()
	f.mu.Lock()
	gen := f.genOf(key.account)
	e, ok := f.cache[key]
	f.mu.Unlock()
	if ok && !now.Before(e.fetched) {
		age := now.Sub(e.fetched)
		if age < f.opts.TTL {
			return e.val.(T), e.fetched, nil
		}
		if age <= f.opts.MaxStale {
			fetchShared(ctx, f, key, gen, fetch) // refresh in the background; nobody waits
			return e.val.(T), e.fetched, nil
		}
	}
	ch := fetchShared(ctx, f, key, gen, fetch)
	select {
	case r := <-ch:
		if r.Err != nil {
			return zero, time.Time{}, r.Err
		}
		fr := r.Val.(fetched[T])
		return fr.val, fr.at, nil
	case <-ctx.Done():
		return zero, time.Time{}, ctx.Err()
	}
}

// fetched is a value with the time it was read.
type fetched[T any] struct {
	val T
	at  time.Time
}

// fetchShared starts, or joins, the one fetch of key for the account's
// current generation; the result is cached when it succeeds. The channel
// is buffered: a caller that does not wait leaks nothing.
func fetchShared[T any](ctx context.Context, f *Fleet, key cacheKey, gen uint64, fetch func(context.Context) (T, error)) <-chan singleflight.Result {
	sfKey := strconv.FormatInt(int64(key.account), 10) + "/" + strconv.Itoa(int(key.kind)) + "/" +
		strconv.FormatInt(key.id, 10) + "/" + strconv.FormatUint(gen, 10)
	return f.sf.DoChan(sfKey, func() (any, error) {
		// Pages wait on this shared fetch, whoever started it: never held
		// to the background budget.
		fctx, cancel := context.WithTimeout(Foreground(context.WithoutCancel(ctx)), f.opts.Budget)
		defer cancel()
		v, err := fetch(fctx)
		if err != nil {
			return nil, err
		}
		at := f.store(key, gen, v)
		return fetched[T]{val: v, at: at}, nil
	})
}

// store caches v unless the account was invalidated since the fetch began,
// and now and then sweeps out entries too old to serve, so the cache stays
// bounded by what was used within a TTL (or MaxStale) or so. It returns
// the time the value is cached with.
func (f *Fleet) store(key cacheKey, gen uint64, v any) time.Time {
	e := cacheEntry{val: v}
	if acts, ok := v.([]rcbu.Activity); ok {
		e.busy = busyJobs(acts)
	}
	now := f.opts.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.genOf(key.account) != gen {
		return now
	}
	e.fetched = now
	f.cache[key] = e
	keep := max(f.opts.TTL, f.opts.MaxStale)
	if now.Sub(f.lastSweep) > 10*keep {
		for k, e := range f.cache {
			if now.Sub(e.fetched) > keep {
				delete(f.cache, k)
			}
		}
		f.lastSweep = now
	}
	return now
}

// eachAccount calls fn for every account of the scope with the account's
// index and client, at most Concurrency at a time, and waits for them all.
// errs[i] is account i's error: its client's, else fn's.
func (f *Fleet) eachAccount(ctx context.Context, scope Scope, fn func(ctx context.Context, i int, a Account, c *rcbu.Client) error) (errs []error) {
	errs = make([]error, len(scope.Accounts))
	var g errgroup.Group
	g.SetLimit(f.opts.Concurrency)
	for i, a := range scope.Accounts {
		g.Go(func() error {
			c, err := f.clients.Client(ctx, a.ID)
			if err == nil {
				err = fn(ctx, i, a, c)
			}
			errs[i] = err
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through errs
	return errs
}

// perAccount runs fn for every account of the scope concurrently (bounded)
// and merges the results in the scope's order. An account that fails
// becomes an AccountProblem; the others still count. The error is the
// request's own context error, when it ended.
func perAccount[T any](ctx context.Context, f *Fleet, scope Scope, noun string, fn func(context.Context, Account, *rcbu.Client) ([]T, error)) ([]T, []AccountProblem, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Budget)
	defer cancel()
	results := make([][]T, len(scope.Accounts))
	errs := f.eachAccount(ctx, scope, func(ctx context.Context, i int, a Account, c *rcbu.Client) error {
		var err error
		results[i], err = fn(ctx, a, c)
		return err
	})
	var out []T
	var problems []AccountProblem
	for i, a := range scope.Accounts {
		if errs[i] != nil {
			problems = append(problems, AccountProblem{AccountID: a.ID, AccountName: a.Name, Message: Problem(errs[i], noun), Err: errs[i]})
			continue
		}
		out = append(out, results[i]...)
	}
	if err := context.Cause(ctx); err != nil && errors.Is(err, context.Canceled) {
		return out, problems, fmt.Errorf("fleet: %w", err)
	}
	return out, problems, nil
}

// perAccountList is perAccount over one (cached) list call: each item is
// tagged with its account by tag, and a failed call is an UpstreamError
// about op.
func perAccountList[T, F any](ctx context.Context, f *Fleet, scope Scope, noun, op string, list func(context.Context, Account, *rcbu.Client) ([]T, error), tag func(Account, T) F) ([]F, []AccountProblem, error) {
	return perAccount(ctx, f, scope, noun, func(ctx context.Context, a Account, c *rcbu.Client) ([]F, error) {
		items, err := list(ctx, a, c)
		if err != nil {
			return nil, upstream(op, noun, err)
		}
		out := make([]F, len(items))
		for i, it := range items {
			out[i] = tag(a, it)
		}
		return out, nil
	})
}

func (f *Fleet) agentList(ctx context.Context, a Account, c *rcbu.Client) ([]rcbu.Agent, error) {
	return cached(ctx, f, cacheKey{account: a.ID, kind: kindAgents}, c.Agents.List)
}

func (f *Fleet) configurationList(ctx context.Context, a Account, c *rcbu.Client) ([]rcbu.Configuration, error) {
	return cached(ctx, f, cacheKey{account: a.ID, kind: kindConfigurations}, c.Configurations.List)
}

func (f *Fleet) activityList(ctx context.Context, a Account, c *rcbu.Client) ([]rcbu.Activity, error) {
	return cached(ctx, f, cacheKey{account: a.ID, kind: kindActivity}, c.Activity.List)
}

func (f *Fleet) agentDetails(ctx context.Context, a AccountID, c *rcbu.Client, id rcbu.AgentID) (rcbu.Agent, error) {
	return cached(ctx, f, cacheKey{account: a, kind: kindAgentDetails, id: int64(id)}, func(ctx context.Context) (rcbu.Agent, error) {
		return deref(c.Agents.Get(ctx, id))
	})
}

// Agents returns the agents of every account in the scope from the list
// call: their Status is the list's placeholder. Use AgentsLive for status.
func (f *Fleet) Agents(ctx context.Context, scope Scope) ([]FleetAgent, []AccountProblem, error) {
	return perAccountList(ctx, f, scope, "agent", "list agents", f.agentList, func(a Account, ag rcbu.Agent) FleetAgent {
		return FleetAgent{AccountID: a.ID, AccountName: a.Name, Agent: ag}
	})
}

// AgentsLive is Agents with each agent's details (live status, last
// success) fetched concurrently, bounded by DetailConcurrency and cached like
// the lists. Details that fail or miss the DetailBudget leave that agent
// with the list's data (Live false, Problem set): the page still renders.
func (f *Fleet) AgentsLive(ctx context.Context, scope Scope) ([]FleetAgent, []AccountProblem, error) {
	agents, problems, err := f.Agents(ctx, scope)
	if err != nil || len(agents) == 0 {
		return agents, problems, err
	}
	f.fillDetails(ctx, agents)
	return agents, problems, nil
}

// AgentsCached is Agents with the live details that are in the cache
// (within the TTL, or within MaxStale while one background pass refreshes
// them) filled in, without waiting on the API for the rest. It returns how
// many agents still lack live details.
func (f *Fleet) AgentsCached(ctx context.Context, scope Scope) ([]FleetAgent, []AccountProblem, int, error) {
	agents, problems, err := f.Agents(ctx, scope)
	if err != nil {
		return agents, problems, 0, err
	}
	return agents, problems, f.cachedDetails(ctx, agents), nil
}

// refreshDetails fetches the details of agents anew (bounded by
// DetailConcurrency), caching what arrives; failures keep what is cached.
func (f *Fleet) refreshDetails(ctx context.Context, agents []FleetAgent) {
	var g errgroup.Group
	g.SetLimit(f.opts.DetailConcurrency)
	for _, fa := range agents {
		g.Go(func() error {
			c, err := f.clients.Client(ctx, fa.AccountID)
			if err != nil {
				return nil
			}
			key := cacheKey{account: fa.AccountID, kind: kindAgentDetails, id: int64(fa.Agent.ID)}
			f.mu.Lock()
			gen := f.genOf(key.account)
			f.mu.Unlock()
			select {
			case <-fetchShared(ctx, f, key, gen, func(ctx context.Context) (rcbu.Agent, error) {
				return deref(c.Agents.Get(ctx, fa.Agent.ID))
			}):
			case <-ctx.Done():
			}
			return nil
		})
	}
	_ = g.Wait() // each fetch caches its own result
}

// fillDetails replaces list data by details where it can, in place.
func (f *Fleet) fillDetails(ctx context.Context, agents []FleetAgent) {
	dctx, cancel := context.WithTimeout(ctx, f.opts.DetailBudget)
	defer cancel()
	var g errgroup.Group
	g.SetLimit(f.opts.DetailConcurrency)
	for i := range agents {
		fa := &agents[i]
		g.Go(func() error {
			c, err := f.clients.Client(dctx, fa.AccountID)
			if err == nil {
				var ag rcbu.Agent
				ag, err = f.agentDetails(dctx, fa.AccountID, c, fa.Agent.ID)
				if err == nil {
					fa.Agent, fa.Live, fa.Problem = ag, true, ""
					return nil
				}
			}
			fa.Problem = Problem(err, "agent")
			f.opts.Log.DebugContext(ctx, "agent_details_unavailable", slog.Int64("agent_id", int64(fa.Agent.ID)), slog.Any("err", err))
			return nil
		})
	}
	_ = g.Wait() // each goroutine records its own outcome
}

// Configurations returns the configurations of every account in the scope.
func (f *Fleet) Configurations(ctx context.Context, scope Scope) ([]FleetConfiguration, []AccountProblem, error) {
	return perAccountList(ctx, f, scope, "configuration", "list configurations", f.configurationList, func(a Account, cf rcbu.Configuration) FleetConfiguration {
		return FleetConfiguration{AccountID: a.ID, AccountName: a.Name, Configuration: cf}
	})
}

// Activity returns the activity (backups, restores, cleanups; running and
// finished) of every account in the scope, each account's newest first.
func (f *Fleet) Activity(ctx context.Context, scope Scope) ([]FleetActivity, []AccountProblem, error) {
	return perAccountList(ctx, f, scope, "activity", "list activity", f.activityList, func(a Account, it rcbu.Activity) FleetActivity {
		return FleetActivity{AccountID: a.ID, AccountName: a.Name, Activity: it}
	})
}

// listHas is owner's look-up in an account's (cached) list: the item that
// is, if the list has it.
func listHas[T any](list func(context.Context, Account, *rcbu.Client) ([]T, error), is func(T) bool) func(context.Context, Account, *rcbu.Client) (T, bool, error) {
	return func(ctx context.Context, a Account, c *rcbu.Client) (T, bool, error) {
		var zero T
		items, err := list(ctx, a, c)
		if err != nil {
			return zero, false, err
		}
		for _, it := range items {
			if is(it) {
				return it, true, nil
			}
		}
		return zero, false, nil
	}
}

// owner finds the account of the scope whose cached list holds the object,
// and falls back to asking each account directly (probe) for objects the
// lists do not show yet. probe's 404 and 403 mean "not this account". The
// error wraps ErrNotFound when no account has it, or is the upstream error
// of an account that could not answer.
func owner[T any](ctx context.Context, f *Fleet, scope Scope, noun string,
	inList func(context.Context, Account, *rcbu.Client) (T, bool, error),
	probe func(context.Context, *rcbu.Client) (T, error),
) (T, Account, *rcbu.Client, error) {
	var zero T
	ctx, cancel := context.WithTimeout(ctx, f.opts.Budget)
	defer cancel()
	type hit struct {
		val    T
		found  bool
		client *rcbu.Client
	}
	find := func(try func(context.Context, Account, *rcbu.Client) (T, bool, error)) (T, Account, *rcbu.Client, error) {
		hits := make([]hit, len(scope.Accounts))
		errs := f.eachAccount(ctx, scope, func(ctx context.Context, i int, a Account, c *rcbu.Client) error {
			var err error
			hits[i].client = c
			hits[i].val, hits[i].found, err = try(ctx, a, c)
			return err
		})
		var firstErr error
		for i, h := range hits {
			if h.found {
				return h.val, scope.Accounts[i], h.client, nil
			}
			if errs[i] != nil && firstErr == nil {
				firstErr = errs[i]
			}
		}
		return zero, Account{}, nil, firstErr
	}
	if inList != nil {
		v, a, c, err := find(inList)
		if c != nil {
			return v, a, c, nil
		}
		if err != nil {
			return zero, Account{}, nil, upstream("find "+noun, noun, err)
		}
	}
	v, a, c, err := find(func(ctx context.Context, _ Account, c *rcbu.Client) (T, bool, error) {
		v, err := probe(ctx, c)
		if errors.Is(err, rcbu.ErrNotFound) || errors.Is(err, rcbu.ErrForbidden) {
			return zero, false, nil
		}
		return v, err == nil, err
	})
	if c != nil {
		return v, a, c, nil
	}
	if err != nil {
		return zero, Account{}, nil, upstream("find "+noun, noun, err)
	}
	return zero, Account{}, nil, fmt.Errorf("fleet: %s: %w", noun, ErrNotFound)
}

// Agent returns one agent of the scope with its live details, and the
// client of its account. An id outside the scope's accounts is ErrNotFound.
// When only the details fail, the list's data comes back with Live false and
// Problem set, so the agent page still renders.
func (f *Fleet) Agent(ctx context.Context, scope Scope, id rcbu.AgentID) (FleetAgent, *rcbu.Client, error) {
	if id <= 0 {
		return FleetAgent{}, nil, fmt.Errorf("fleet: agent %d: %w", id, ErrNotFound)
	}
	ag, acct, c, err := owner(ctx, f, scope, "agent", listHas(f.agentList, func(ag rcbu.Agent) bool { return ag.ID == id }),
		func(ctx context.Context, c *rcbu.Client) (rcbu.Agent, error) {
			return deref(c.Agents.Get(ctx, id))
		})
	if err != nil {
		return FleetAgent{}, nil, err
	}
	fa := FleetAgent{AccountID: acct.ID, AccountName: acct.Name, Agent: ag}
	dctx, cancel := context.WithTimeout(ctx, f.opts.DetailBudget)
	defer cancel()
	d, err := f.agentDetails(dctx, acct.ID, c, id)
	switch {
	case err == nil:
		fa.Agent, fa.Live = d, true
	case errors.Is(err, rcbu.ErrNotFound):
		// Deleted since the (cached) list was read.
		return FleetAgent{}, nil, fmt.Errorf("fleet: agent %d: %w", id, ErrNotFound)
	default:
		fa.Problem = Problem(err, "agent")
	}
	return fa, c, nil
}

// Configuration returns one configuration of the scope, fresh from the API,
// and the client of its account. An id outside the scope, or a deleted
// configuration, is ErrNotFound.
func (f *Fleet) Configuration(ctx context.Context, scope Scope, id rcbu.ConfigurationID) (FleetConfiguration, *rcbu.Client, error) {
	if id <= 0 {
		return FleetConfiguration{}, nil, fmt.Errorf("fleet: configuration %d: %w", id, ErrNotFound)
	}
	get := func(ctx context.Context, c *rcbu.Client) (rcbu.Configuration, error) {
		return deref(c.Configurations.Get(ctx, id))
	}
	_, acct, c, err := owner(ctx, f, scope, "configuration", listHas(f.configurationList, func(cf rcbu.Configuration) bool { return cf.ID == id }), get)
	if err != nil {
		return FleetConfiguration{}, nil, err
	}
	// The list may be a few seconds old: read the configuration itself,
	// within the same budget as the lists.
	gctx, cancel := context.WithTimeout(ctx, f.opts.Budget)
	defer cancel()
	fresh, err := get(gctx, c)
	switch {
	case errors.Is(err, rcbu.ErrNotFound):
		return FleetConfiguration{}, nil, fmt.Errorf("fleet: configuration %d: %w", id, ErrNotFound)
	case err != nil:
		return FleetConfiguration{}, nil, upstream("get configuration "+strconv.FormatInt(int64(id), 10), "configuration", err)
	case fresh.IsDeleted:
		return FleetConfiguration{}, nil, fmt.Errorf("fleet: configuration %d deleted: %w", id, ErrNotFound)
	}
	return FleetConfiguration{AccountID: acct.ID, AccountName: acct.Name, Configuration: fresh}, c, nil
}

// Backup returns one backup run's current status (never cached) and the
// client of its account, asking each account of the scope until one knows
// it. An id no account in the scope knows is ErrNotFound.
func (f *Fleet) Backup(ctx context.Context, scope Scope, id rcbu.BackupID) (FleetBackup, *rcbu.Client, error) {
	return oneJob(ctx, f, scope, "backup", int64(id), func(ctx context.Context, c *rcbu.Client) (rcbu.BackupStatus, error) {
		return deref(c.Backups.Get(ctx, id))
	}, func(a Account, st rcbu.BackupStatus) FleetBackup {
		return FleetBackup{AccountID: a.ID, AccountName: a.Name, Backup: st}
	})
}

// Restore returns one restore's current state (never cached) and the client
// of its account, as Backup does.
func (f *Fleet) Restore(ctx context.Context, scope Scope, id rcbu.RestoreID) (FleetRestore, *rcbu.Client, error) {
	return oneJob(ctx, f, scope, "restore", int64(id), func(ctx context.Context, c *rcbu.Client) (rcbu.RestoreConfiguration, error) {
		return deref(c.Restores.Get(ctx, id))
	}, func(a Account, r rcbu.RestoreConfiguration) FleetRestore {
		return FleetRestore{AccountID: a.ID, AccountName: a.Name, Restore: r}
	})
}

// oneJob reads one job (noun, id) with get from the account of the scope that
// knows it, tagged with that account; an id no account knows is
// ErrNotFound.
func oneJob[T, F any](ctx context.Context, f *Fleet, scope Scope, noun string, id int64, get func(context.Context, *rcbu.Client) (T, error), tag func(Account, T) F) (F, *rcbu.Client, error) {
	var zero F
	if id <= 0 {
		return zero, nil, fmt.Errorf("fleet: %s %d: %w", noun, id, ErrNotFound)
	}
	v, acct, c, err := owner(ctx, f, scope, noun, nil, get)
	if err != nil {
		return zero, nil, err
	}
	return tag(acct, v), c, nil
}

// deref is a getter's (*T, error) as (T, error), the shape cached and owner
// take.
func deref[T any](p *T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return *p, nil
}

// sortActivity orders activity newest first across accounts, then by id.
func sortActivity(acts []FleetActivity) {
	slices.SortStableFunc(acts, func(a, b FleetActivity) int {
		if c := b.Activity.TimeOfActivity.Compare(a.Activity.TimeOfActivity.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Activity.ID, a.Activity.ID)
	})
}
