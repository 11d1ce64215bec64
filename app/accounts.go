package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// DefaultIdentityURL is Rackspace's Identity v2.0 token endpoint.
const DefaultIdentityURL = "https://identity.api.rackspacecloud.com/v2.0/tokens"

// CredentialKind says which secret an account signs in with.
type CredentialKind string

// The credential kinds.
const (
	CredentialAPIKey   CredentialKind = "api_key"
	CredentialPassword CredentialKind = "password"
)

// Label names the kind for people.
func (k CredentialKind) Label() string {
	if k == CredentialPassword {
		return "Password"
	}
	return "API key"
}

// AccountSource says who manages an account row.
type AccountSource string

// The account sources.
const (
	SourceAdmin AccountSource = "admin" // added under Admin → Accounts
	SourceEnv   AccountSource = "env"   // from RCBU_USERNAME & co., refreshed at each start
	SourceDemo  AccountSource = "demo"  // the built-in simulator, refreshed at each start
)

// AccountRegions lists the Cloud Backup regions an account can be limited to.
func AccountRegions() []string { return []string{"DFW", "ORD", "IAD", "LON", "HKG", "SYD"} }

// Account is a Rackspace account the console reads and acts on.
type Account struct {
	ID           AccountID
	Name         string
	Username     string
	Kind         CredentialKind
	SecretSealed []byte // the API key or password, encrypted by Sealer; never rendered or logged
	IdentityURL  string
	Region       string // "" means all regions
	Source       AccountSource
	Created      time.Time
	Updated      time.Time
}

// Demo reports whether this is the built-in simulator account.
func (a Account) Demo() bool { return a.Source == SourceDemo }

// RegionLabel names the account's region scope.
func (a Account) RegionLabel() string {
	if a.Region == "" {
		return "All regions"
	}
	return a.Region
}

// AccountRequest is the form input for adding or editing an account. When
// editing, an empty Secret keeps the stored one.
type AccountRequest struct {
	Name        string
	Username    string
	Kind        string
	Secret      string
	IdentityURL string
	Region      string // "" for all regions
}

// Credentials is what a Connector needs to reach one account.
type Credentials struct {
	Username    string
	APIKey      string
	Password    string
	IdentityURL string
	Region      string // "" for all regions
}

// Connector signs in to Cloud Backup and returns a ready client.
type Connector func(ctx context.Context, c Credentials) (*rcbu.Client, error)

// AccountStore is the persistence Accounts needs.
type AccountStore interface {
	// CreateAccount inserts a and returns it with its id.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// Account returns one account; a missing one wraps ErrNotFound.
	Account(ctx context.Context, id AccountID) (Account, error)
	// ListAccounts returns every account ordered by name.
	ListAccounts(ctx context.Context) ([]Account, error)
	// UpdateAccount writes a's fields.
	UpdateAccount(ctx context.Context, a Account) error
	// DeleteAccount deletes one account; a missing one wraps ErrNotFound.
	DeleteAccount(ctx context.Context, id AccountID) error
	// UpsertManagedAccount inserts or updates the single row of a.Source
	// (demo or env), keeping its id stable, and returns it.
	UpsertManagedAccount(ctx context.Context, a Account) (Account, error)
}

// connectTimeout bounds one sign-in, however many callers wait for it.
const connectTimeout = 30 * time.Second

// Accounts manages the Rackspace accounts and gives every other feature its
// way to the API: Client connects lazily, once per account, and caches.
type Accounts struct {
	store   AccountStore
	sealer  *Sealer
	connect Connector
	audit   *Audit
	now     func() time.Time
	log     *slog.Logger

	mu      sync.Mutex
	demo    bool // the built-in simulator runs: demo rows are listed
	clients map[AccountID]*clientEntry
	notices changeNotices // the other replicas
	// lastList and lastAccount are the accounts last read (with their
	// sealed credentials), served while the store is unavailable, so the
	// pages that need only Cloud Backup still sign in to it.
	lastList    *lastGood[struct{}, []Account]
	lastAccount *lastGood[AccountID, Account]
}

// clientEntry is one connection attempt; done closes when it has finished.
type clientEntry struct {
	done   chan struct{}
	client *rcbu.Client
	err    error
}

// NewAccounts returns the account service.
func NewAccounts(store AccountStore, sealer *Sealer, connect Connector, audit *Audit, now func() time.Time, log *slog.Logger) *Accounts {
	return &Accounts{store: store, sealer: sealer, connect: connect, audit: audit, now: now, log: log, clients: map[AccountID]*clientEntry{},
		lastList: newLastGood[struct{}, []Account](now), lastAccount: newLastGood[AccountID, Account](now)}
}

// DemoActive reports whether the built-in simulator account is in use.
func (s *Accounts) DemoActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.demo
}

// List returns the accounts in use, ordered by name. The demo account is
// listed only while the simulator runs.
func (s *Accounts) List(ctx context.Context) ([]Account, error) {
	all, err := s.store.ListAccounts(ctx)
	all, err = s.lastList.read(ctx, struct{}{}, slices.Clone(all), err)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	all = slices.Clone(all) // filtered in place below
	demo := s.DemoActive()
	out := all[:0]
	for _, a := range all {
		if a.Source != SourceDemo || demo {
			out = append(out, a)
		}
	}
	return out, nil
}

// Get returns one account in use.
func (s *Accounts) Get(ctx context.Context, id AccountID) (Account, error) {
	a, err := s.store.Account(ctx, id)
	a, err = s.lastAccount.read(ctx, id, a, err)
	if err != nil {
		return Account{}, fmt.Errorf("get account: %w", err)
	}
	if a.Demo() && !s.DemoActive() {
		return Account{}, fmt.Errorf("get account %d: %w", id, ErrNotFound)
	}
	return a, nil
}

// HasConfiguredAccounts reports whether any non-demo account exists; the
// console runs the demo simulator only when there is none.
func (s *Accounts) HasConfiguredAccounts(ctx context.Context) (bool, error) {
	all, err := s.store.ListAccounts(ctx)
	if err != nil {
		return false, fmt.Errorf("has accounts: %w", err)
	}
	return slices.ContainsFunc(all, func(a Account) bool { return !a.Demo() }), nil
}

// EnsureDemo upserts the demo account pointing at the in-process simulator's
// identity URL (which changes at each start; the row and its id stay) and
// turns on demo mode.
func (s *Accounts) EnsureDemo(ctx context.Context, identityURL, username, apiKey string) (Account, error) {
	a, err := s.ensureManaged(ctx, SourceDemo, AccountRequest{Name: "Demo account", Username: username, Kind: string(CredentialAPIKey), Secret: apiKey, IdentityURL: identityURL})
	if err != nil {
		return Account{}, fmt.Errorf("ensure demo account: %w", err)
	}
	s.mu.Lock()
	s.demo = true
	s.mu.Unlock()
	return a, nil
}

// EnsureFromEnv upserts the account configured through the environment.
func (s *Accounts) EnsureFromEnv(ctx context.Context, req AccountRequest) (Account, error) {
	a, err := s.ensureManaged(ctx, SourceEnv, req)
	if err != nil {
		return Account{}, fmt.Errorf("ensure env account: %w", err)
	}
	return a, nil
}

func (s *Accounts) ensureManaged(ctx context.Context, src AccountSource, req AccountRequest) (Account, error) {
	a, err := s.build(Account{Source: src}, req, true)
	if err != nil {
		return Account{}, err
	}
	a, err = s.store.UpsertManagedAccount(ctx, a)
	if err != nil {
		return Account{}, err
	}
	s.Invalidate(a.ID)
	return a, nil
}

// build validates req and applies it to a, sealing the secret. requireSecret
// is false when editing, where an empty secret keeps the stored one.
func (s *Accounts) build(a Account, req AccountRequest, requireSecret bool) (Account, error) {
	v := validation{}
	name := strings.TrimSpace(req.Name)
	switch {
	case name == "":
		v.add("name", "Enter a name for this account.")
	case len([]rune(name)) > 100:
		v.add("name", "Use at most 100 characters.")
	}
	user := strings.TrimSpace(req.Username)
	switch {
	case user == "":
		v.add("username", "Enter the Rackspace username.")
	case len(user) > 200:
		v.add("username", "Use at most 200 characters.")
	}
	kind := CredentialKind(req.Kind)
	if kind != CredentialAPIKey && kind != CredentialPassword {
		v.add("kind", "Choose API key or password.")
	}
	idURL := strings.TrimSpace(req.IdentityURL)
	if idURL == "" {
		idURL = DefaultIdentityURL
	}
	if !identityURLAllowed(idURL) {
		v.add("identity_url", "Enter an https URL such as "+DefaultIdentityURL+" (http only to this machine's loopback address).")
	}
	secret := strings.TrimSpace(req.Secret)
	switch {
	case secret == "" && (requireSecret || kind != a.Kind):
		v.add("secret", "Enter the API key or password.")
	case secret == "" && (idURL != a.IdentityURL || user != a.Username):
		// The stored secret goes only where, and as whom, it was entered for:
		// a new destination must not receive it on an admin's word alone.
		v.add("secret", "Enter the API key or password again: the username or identity URL changed.")
	case len(secret) > 1000:
		v.add("secret", "Use at most 1000 characters.")
	}
	region := strings.ToUpper(strings.TrimSpace(req.Region))
	if region != "" && !slices.Contains(AccountRegions(), region) {
		v.add("region", "Choose a region from the list.")
	}
	if err := v.err(); err != nil {
		return Account{}, err
	}
	a.Name, a.Username, a.Kind, a.IdentityURL, a.Region = name, user, kind, idURL, region
	if secret != "" {
		sealed, err := s.sealer.Seal([]byte(secret), []byte("account-secret"))
		if err != nil {
			return Account{}, err
		}
		a.SecretSealed = sealed
	}
	now := s.now().UTC()
	if a.Created.IsZero() {
		a.Created = now
	}
	a.Updated = now
	return a, nil
}

// identityURLAllowed reports whether raw is an https URL, or an http one to a
// loopback host (the built-in simulator and tests): credentials never cross
// a network in clear text.
func identityURLAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip, err := netip.ParseAddr(host)
		return err == nil && ip.IsLoopback()
	}
	return false
}

// credentials opens the account's sealed secret.
func (s *Accounts) credentials(a Account) (Credentials, error) {
	secret, err := s.sealer.Open(a.SecretSealed, []byte("account-secret"))
	if err != nil {
		return Credentials{}, fmt.Errorf("account %d credentials: %w", a.ID, err)
	}
	c := Credentials{Username: a.Username, IdentityURL: a.IdentityURL, Region: a.Region}
	if a.Kind == CredentialPassword {
		c.Password = string(secret)
	} else {
		c.APIKey = string(secret)
	}
	return c, nil
}

// check signs in with the account's credentials; a failure becomes a
// validation error that the form shows.
func (s *Accounts) check(ctx context.Context, a Account) (*rcbu.Client, error) {
	creds, err := s.credentials(a)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := s.connect(ctx, creds)
	if err != nil {
		return nil, &ValidationError{Fields: map[string]string{"": "Could not sign in to Rackspace with these details: " + ConnectProblem(err)}}
	}
	return c, nil
}

// ConnectProblem explains a failed sign-in in words, without secrets.
func ConnectProblem(err error) string {
	switch {
	case errors.Is(err, rcbu.ErrUnauthorized):
		return "the username or the API key/password was rejected."
	case errors.Is(err, rcbu.ErrForbidden):
		return "the user may not use Cloud Backup."
	case errors.Is(err, rcbu.ErrNotFound):
		return "the identity URL did not answer as Rackspace Identity does (404)."
	case errors.Is(err, context.DeadlineExceeded):
		return "Rackspace Identity did not answer in time."
	}
	// Never the answer's body: the identity URL is the admin's to choose,
	// and what an arbitrary server says must not come back through the form.
	var re *rcbu.Error
	if errors.As(err, &re) {
		return fmt.Sprintf("the identity URL answered HTTP %d, not a Rackspace Identity token.", re.StatusCode)
	}
	return "the identity URL could not be reached or did not answer as Rackspace Identity does."
}

// Create checks the credentials and, if they work, stores the account.
// Nothing is saved when validation or sign-in fails.
func (s *Accounts) Create(ctx context.Context, actor User, req AccountRequest) (Account, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return Account{}, fmt.Errorf("create account: %w", ErrForbidden)
	}
	a, err := s.build(Account{Source: SourceAdmin}, req, true)
	if err == nil {
		_, err = s.check(ctx, a)
	}
	if err == nil {
		a, err = s.store.CreateAccount(ctx, a)
	}
	if err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionAccountCreate, strings.TrimSpace(req.Name), err))
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	s.audit.Record(ctx, actorEntry(actor, ActionAccountCreate, accountTarget(a), nil, "user "+a.Username+", "+a.RegionLabel()))
	return a, nil
}

// Update edits an account after checking the (new or kept) credentials, and
// drops its cached client so the next call reconnects.
func (s *Accounts) Update(ctx context.Context, actor User, id AccountID, req AccountRequest) (Account, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return Account{}, fmt.Errorf("update account: %w", ErrForbidden)
	}
	old, err := s.Get(ctx, id)
	if err != nil {
		return Account{}, fmt.Errorf("update account: %w", err)
	}
	if old.Source != SourceAdmin {
		return Account{}, fmt.Errorf("update account: %w", Invalid("", "This account is managed by the server's configuration and cannot be edited here."))
	}
	a, err := s.build(old, req, false)
	if err == nil {
		_, err = s.check(ctx, a)
	}
	if err == nil {
		err = s.store.UpdateAccount(ctx, a)
	}
	if err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionAccountUpdate, accountTarget(old), err))
		return Account{}, fmt.Errorf("update account: %w", err)
	}
	s.Invalidate(id)
	s.audit.Record(ctx, actorEntry(actor, ActionAccountUpdate, accountTarget(a), nil))
	return a, nil
}

// Delete removes an account added by an admin.
func (s *Accounts) Delete(ctx context.Context, actor User, id AccountID) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("delete account: %w", ErrForbidden)
	}
	a, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	if a.Source != SourceAdmin {
		err := error(Conflict("the %s account is managed by the server's configuration", a.Source))
		s.audit.Record(ctx, actorEntry(actor, ActionAccountDelete, accountTarget(a), err))
		return fmt.Errorf("delete account: %w", err)
	}
	if err := s.store.DeleteAccount(ctx, id); err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionAccountDelete, accountTarget(a), err))
		return fmt.Errorf("delete account: %w", err)
	}
	s.Invalidate(id)
	s.audit.Record(ctx, actorEntry(actor, ActionAccountDelete, accountTarget(a), nil))
	return nil
}

func accountTarget(a Account) string {
	return fmt.Sprintf("account %d (%s)", a.ID, a.Name)
}

// Client returns a signed-in API client for the account. The first call
// connects; concurrent callers wait for that one sign-in; later calls get the
// cached client (which refreshes its own token). A failed sign-in is not
// cached, so the next call tries again. Editing the account drops the cache.
func (s *Accounts) Client(ctx context.Context, id AccountID) (*rcbu.Client, error) {
	s.mu.Lock()
	e, ok := s.clients[id]
	if !ok {
		e = &clientEntry{done: make(chan struct{})}
		s.clients[id] = e
	}
	s.mu.Unlock()
	if !ok {
		// Sign in on behalf of every waiter: a caller that gives up must not
		// fail the others, so the attempt has its own deadline, and a page
		// may be among them, so it is not held to the background budget.
		cctx, cancel := context.WithTimeout(Foreground(context.WithoutCancel(ctx)), connectTimeout)
		e.client, e.err = s.dial(cctx, id)
		cancel()
		if e.err != nil {
			s.mu.Lock()
			if s.clients[id] == e {
				delete(s.clients, id)
			}
			s.mu.Unlock()
		}
		close(e.done)
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("account %d client: %w", id, ctx.Err())
	}
	if e.err != nil {
		return nil, fmt.Errorf("account %d client: %w", id, e.err)
	}
	return e.client, nil
}

func (s *Accounts) dial(ctx context.Context, id AccountID) (*rcbu.Client, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	creds, err := s.credentials(a)
	if err != nil {
		return nil, err
	}
	return s.connect(ctx, creds)
}

// Invalidate drops the account's cached client, here and (through Caches)
// on the other replicas, so the next Client call signs in again.
func (s *Accounts) Invalidate(id AccountID) {
	s.drop(id)
	s.notices.publish(Change{Kind: ChangeAccount, Account: id})
}

// drop is Invalidate on this replica only.
func (s *Accounts) drop(id AccountID) {
	s.mu.Lock()
	delete(s.clients, id)
	s.mu.Unlock()
}

// dropAll drops every cached client on this replica.
func (s *Accounts) dropAll() {
	s.mu.Lock()
	clear(s.clients)
	s.mu.Unlock()
}

// CheckAll connects every account in use (from the cache when possible) and
// returns the first failure; /readyz uses it.
func (s *Accounts) CheckAll(ctx context.Context) error {
	accts, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, a := range accts {
		if _, err := s.Client(ctx, a.ID); err != nil {
			return fmt.Errorf("account %q: %s", a.Name, ConnectProblem(err))
		}
	}
	return nil
}
