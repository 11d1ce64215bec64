package app

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// ChangeKind says which of a replica's caches a Change makes stale.
type ChangeKind string

// The kinds of Change. A notice of a kind this replica does not know is
// applied as ChangeAll, so a newer replica's notices never leave an older
// one's caches stale.
const (
	// ChangeFleet: an account's Cloud Backup lists and agent details
	// (Fleet), after a change made through the console.
	ChangeFleet ChangeKind = "fleet"
	// ChangeAccount: an account's row (its credentials, or the account
	// itself deleted), so its signed-in client (Accounts).
	ChangeAccount ChangeKind = "account"
	// ChangeHistory: the stored report snapshots, so what is cached under
	// the history's generation (the heatmap, the latest runs).
	ChangeHistory ChangeKind = "history"
	// ChangeUser: a user's sessions were ended (signed out, disabled, their
	// access or password changed), so the last good reads of the user and of
	// their sessions, which a replica answers from while the store is away.
	ChangeUser ChangeKind = "user"
	// ChangeAll: every cache. Nobody publishes it; it is applied when
	// notices may have been missed (the subscription was down).
	ChangeAll ChangeKind = "all"
)

// Change is a notice that something cached may be stale. Account is set
// for ChangeFleet and ChangeAccount, User for ChangeUser.
type Change struct {
	Kind    ChangeKind
	Account AccountID
	User    UserID
}

// Broadcaster carries Changes between the console replicas on one store: on
// PostgreSQL a NOTIFY channel of the store's schema, on SQLite (one process)
// nothing.
type Broadcaster interface {
	// Publish tells the other replicas about c. A replica's own notices
	// are not delivered back to it.
	Publish(ctx context.Context, c Change) error
	// Subscribe delivers the other replicas' notices to sink until ctx
	// ends, reconnecting when it loses the database. It returns at once
	// when there is nobody else to hear (SQLite).
	Subscribe(ctx context.Context, sink ChangeSink)
}

// ChangeSink receives what a Broadcaster's subscription hears.
type ChangeSink interface {
	// Apply drops what c names from this replica's caches.
	Apply(c Change)
	// Listening says whether notices arrive: false when the subscription
	// is lost, true once it is back. Either way notices may have been
	// missed in between.
	Listening(ok bool)
}

// publishTimeout bounds one notice: a database that does not answer must
// not hold up the change that publishes it (the other replicas' caches
// then expire by their TTL, or are dropped when their subscription
// notices the gap).
const publishTimeout = 2 * time.Second

// Caches keeps this replica's caches of the store and of Cloud Backup (the
// fleet's lists, the accounts' clients, the history's generation) in step
// with the other replicas on the same store: every invalidation made here
// is published, and the others' are applied here. While the subscription is
// down, and once when it comes back, every cache is dropped, so nothing
// stale survives a gap; only then does the history fall back on its
// periodic reread (History.SetSharedStore).
type Caches struct {
	bc       Broadcaster
	fleet    *Fleet
	accounts *Accounts
	history  *History
	auth     *Auth
	users    *Users
	log      *slog.Logger
	applied  atomic.Int64
}

// changeNotices is where a cached service tells the other replicas what it
// invalidated: the Caches it was wired to, or nobody before NewCaches (and
// in a service used alone).
type changeNotices struct{ to atomic.Pointer[Caches] }

func (n *changeNotices) publish(c Change) {
	if to := n.to.Load(); to != nil {
		to.publish(c)
	}
}

// NewCaches wires the services' invalidations to bc; call it before they
// are used. Run then applies the other replicas' notices. The store tells
// it of ended sessions through SessionsEnded.
func NewCaches(bc Broadcaster, fleet *Fleet, accounts *Accounts, history *History, auth *Auth, users *Users, log *slog.Logger) *Caches {
	c := &Caches{bc: bc, fleet: fleet, accounts: accounts, history: history, auth: auth, users: users, log: log}
	fleet.notices.to.Store(c)
	accounts.notices.to.Store(c)
	history.notices.to.Store(c)
	return c
}

// Run applies the other replicas' notices until ctx ends.
func (c *Caches) Run(ctx context.Context) {
	c.bc.Subscribe(ctx, c)
}

// Applied is how many notices (and gaps) this replica has applied; a test
// waits on it.
func (c *Caches) Applied() int64 { return c.applied.Load() }

func (c *Caches) publish(ch Change) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := c.bc.Publish(ctx, ch); err != nil {
		c.log.Warn("cache_change_publish_failed", slog.String("kind", string(ch.Kind)), slog.Int64("account_id", int64(ch.Account)), slog.Int64("user_id", int64(ch.User)), slog.Any("err", err))
	}
}

// SessionsEnded is told by the store, once the change is committed, of each
// user whose sessions it ended: this replica and the others then forget
// their last good reads of the user and of those sessions, so none of them
// lets the user in on the strength of a read made before, should the store
// be away next.
func (c *Caches) SessionsEnded(id UserID) {
	ch := Change{Kind: ChangeUser, User: id}
	c.Apply(ch)
	c.publish(ch)
}

// Apply drops what ch names from this replica's caches, without publishing
// it again. The last good reads of users and sessions are dropped only by
// ChangeUser, never for a gap (ChangeAll): a gap in the notices is most
// often the store going away, which is when they are needed.
func (c *Caches) Apply(ch Change) {
	switch ch.Kind {
	case ChangeFleet:
		c.fleet.drop(ch.Account)
	case ChangeAccount:
		c.accounts.drop(ch.Account)
	case ChangeHistory:
		c.history.bump()
	case ChangeUser:
		c.auth.forgetUser(ch.User)
		c.users.last.forget(ch.User)
	default:
		c.fleet.dropAll()
		c.accounts.dropAll()
		c.history.bump()
	}
	c.applied.Add(1)
}

// Listening drops every cache (notices may have been missed) and tells the
// history whether it must reread on its own meanwhile.
func (c *Caches) Listening(ok bool) {
	c.history.setHeard(ok)
	c.Apply(Change{Kind: ChangeAll})
	if ok {
		c.log.Info("cache_changes_listening")
	} else {
		c.log.Warn("cache_changes_not_listening", slog.String("note", "every cache is dropped; the history is reread periodically until notices arrive again"))
	}
}
