package db

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rcbu-console/rcbu-console/app"
)

// changes is the PostgreSQL channel through which the console replicas on
// one schema tell each other about changes (app.Broadcaster): NOTIFY to
// publish, one LISTEN connection per Store to hear. Its name derives from
// the database and schema, so consoles on other schemas of the same cluster
// hear nothing of it. A notice's payload is its kind, the account (0 when
// none; the user for app.ChangeUser) and the publishing Store's origin,
// which that Store ignores when it hears its own notice back.
type changes struct {
	conn    *pgx.ConnConfig // the store's own DSN: same server, user and search_path
	channel string
	origin  string
	pid     atomic.Uint32 // the listening connection's server process, 0 when none
}

// Backoff between attempts to listen again, and how often a quiet listening
// connection is checked (a connection cut without a word from the network
// would otherwise wait for a notice forever).
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 10 * time.Second
	listenCheck    = 30 * time.Second
	listenCheckMax = 5 * time.Second
)

// maxChannelLen is PostgreSQL's identifier limit (NAMEDATALEN - 1 bytes).
const maxChannelLen = 63

func newChanges(conn *pgx.ConnConfig, schema string) *changes {
	channel := "rcbu changes " + schema
	if len(channel) > maxChannelLen {
		h := fnv.New64a()
		h.Write([]byte(schema))
		channel = fmt.Sprintf("rcbu changes %016x", h.Sum64())
	}
	return &changes{conn: conn, channel: channel, origin: rand.Text()}
}

// Publish tells the other replicas on this store about c (pg_notify); on
// SQLite, which one process uses, it does nothing.
func (s *Store) Publish(ctx context.Context, c app.Change) error {
	if s.changes == nil {
		return nil
	}
	id := int64(c.Account)
	if c.Kind == app.ChangeUser {
		id = int64(c.User)
	}
	payload := string(c.Kind) + " " + strconv.FormatInt(id, 10) + " " + s.changes.origin
	if _, err := s.db.ExecContext(ctx, `SELECT pg_notify(?, ?)`, s.changes.channel, payload); err != nil {
		return fmt.Errorf("db: publish %s change: %w", c.Kind, err)
	}
	return nil
}

// Subscribe delivers the other replicas' notices to sink until ctx ends,
// over one connection of its own (the pool's connections come and go). When
// that connection is lost it says so (sink.Listening(false)) and connects
// again, backing off up to listenRetryMax, and says so again once it
// listens. On SQLite it returns at once.
func (s *Store) Subscribe(ctx context.Context, sink app.ChangeSink) {
	if s.changes == nil {
		return
	}
	wait := listenRetryMin
	for {
		conn, err := s.changes.listen(ctx)
		if err == nil {
			wait = listenRetryMin
			s.changes.pid.Store(conn.PgConn().PID())
			sink.Listening(true)
			_ = s.changes.receive(ctx, conn, sink) // whatever ended it, the connection is closed and made again
			s.changes.pid.Store(0)
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenCheckMax)
			_ = conn.Close(closeCtx) // the connection is gone or no longer wanted
			cancel()
			if ctx.Err() != nil {
				return
			}
			sink.Listening(false)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listen opens the listening connection.
func (c *changes) listen(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, c.conn.Copy())
	if err != nil {
		return nil, fmt.Errorf("db: listen: %w", err)
	}
	if _, err := conn.Exec(cctx, c.listenSQL()); err != nil {
		_ = conn.Close(context.WithoutCancel(cctx))
		return nil, fmt.Errorf("db: listen: %w", err)
	}
	return conn, nil
}

// listenSQL is the LISTEN statement of the channel. It is also the check
// of a quiet connection (listening again changes nothing), so that the
// connection's query in pg_stat_activity always names what it is for.
func (c *changes) listenSQL() string {
	return `LISTEN ` + pgx.Identifier{c.channel}.Sanitize()
}

// receive applies the notices conn hears until it fails or ctx ends. A
// connection quiet for listenCheck is checked, so a dead one is noticed.
func (c *changes) receive(ctx context.Context, conn *pgx.Conn, sink app.ChangeSink) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed() {
				return err
			}
			pctx, cancel := context.WithTimeout(ctx, listenCheckMax)
			_, err = conn.Exec(pctx, c.listenSQL())
			cancel()
			if err != nil {
				return err
			}
			continue
		}
		if ch, mine := c.parse(n.Payload); !mine {
			sink.Apply(ch)
		}
	}
}

// parse reads a notice's payload; mine says it is this Store's own. A
// payload it cannot read is applied as app.ChangeAll: better every cache
// dropped once than one left stale.
func (c *changes) parse(payload string) (ch app.Change, mine bool) {
	f := strings.Fields(payload)
	if len(f) != 3 {
		return app.Change{Kind: app.ChangeAll}, false
	}
	if f[2] == c.origin {
		return app.Change{}, true
	}
	id, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return app.Change{Kind: app.ChangeAll}, false
	}
	if kind := app.ChangeKind(f[0]); kind == app.ChangeUser {
		return app.Change{Kind: kind, User: app.UserID(id)}, false
	}
	return app.Change{Kind: app.ChangeKind(f[0]), Account: app.AccountID(id)}, false
}
