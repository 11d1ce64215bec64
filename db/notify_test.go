package db_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/poll"
)

// sink records what a subscription delivers.
type sink struct {
	mu        sync.Mutex
	changes   []app.Change
	listening []bool
}

func (s *sink) Apply(c app.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changes = append(s.changes, c)
}

func (s *sink) Listening(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listening = append(s.listening, ok)
}

func (s *sink) has(c app.Change) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.changes, c)
}

func (s *sink) got() ([]app.Change, []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes), slices.Clone(s.listening)
}

// subscribe runs st's subscription into a new sink until the test ends,
// once it listens.
func subscribe(t *testing.T, st *db.Store) *sink {
	t.Helper()
	var k sink
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); st.Subscribe(ctx, &k) }()
	t.Cleanup(func() { cancel(); <-done })
	poll.Until(t, "the subscription to listen", func() bool { return db.ListenerPID(st) != 0 })
	return &k
}

// openAt opens a store on dsn, closed when the test ends.
func openAt(t *testing.T, dsn string) *db.Store {
	t.Helper()
	st, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Two replicas on one schema hear each other's notices, not their own; a
// console on another schema of the same database hears none of them; and a
// listening connection that the server drops is made again, said to the
// sink (notices may have been missed) and then hears as before.
func TestChangesReachTheOtherReplicasOfTheSchemaOnly(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	dsn := testSchema(t)
	a, b := openAt(t, dsn), openAt(t, dsn)
	otherDSN := testSchema(t)
	other, otherPeer := openAt(t, otherDSN), openAt(t, otherDSN)
	heardA, heardB, heardOther := subscribe(t, a), subscribe(t, b), subscribe(t, other)

	fleet7 := app.Change{Kind: app.ChangeFleet, Account: 7}
	if err := a.Publish(ctx, fleet7); err != nil {
		t.Fatal(err)
	}
	// Published after a's notice: once the other schema's replica has heard
	// this one, it would have heard a's first had it been on its channel.
	marker := app.Change{Kind: app.ChangeHistory}
	if err := otherPeer.Publish(ctx, marker); err != nil {
		t.Fatal(err)
	}
	history := app.Change{Kind: app.ChangeHistory}
	if err := b.Publish(ctx, history); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "b to hear a's notice", func() bool { return heardB.has(fleet7) })
	poll.Until(t, "a to hear b's notice", func() bool { return heardA.has(history) })
	poll.Until(t, "a console on another schema to hear its own peer", func() bool { return heardOther.has(marker) })
	if got, _ := heardOther.got(); len(got) != 1 {
		t.Errorf("the console on another schema heard %v; want only its own schema's %v", got, marker)
	}
	if got, _ := heardA.got(); slices.Contains(got, fleet7) {
		t.Errorf("a heard its own notice back: %v", got)
	}
	if got, _ := heardB.got(); slices.Contains(got, history) {
		t.Errorf("b heard its own notice back: %v", got)
	}

	// The server drops b's listening connection.
	pid := db.ListenerPID(b)
	var killed bool
	if err := b.DB().QueryRowContext(ctx, `SELECT pg_terminate_backend(?)`, int64(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, killed, err)
	}
	poll.Until(t, "b to listen again on a new connection", func() bool {
		_, l := heardB.got()
		return len(l) == 3 && db.ListenerPID(b) != 0 && db.ListenerPID(b) != pid
	})
	if _, l := heardB.got(); !slices.Equal(l, []bool{true, false, true}) {
		t.Errorf("b's sink was told listening %v; want [true false true] (listening, lost, back)", l)
	}
	account3 := app.Change{Kind: app.ChangeAccount, Account: 3}
	if err := a.Publish(ctx, account3); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "b to hear a's notice after listening again", func() bool { return heardB.has(account3) })
}

// On SQLite (one process) there is nobody to tell: publishing succeeds and
// does nothing, and the subscription returns at once.
func TestChangesOnSQLiteAreLocal(t *testing.T) {
	st := openAt(t, filepath.Join(t.TempDir(), "one.db"))
	if err := st.Publish(context.Background(), app.Change{Kind: app.ChangeFleet, Account: 1}); err != nil {
		t.Fatal(err)
	}
	var k sink
	st.Subscribe(context.Background(), &k) // returns: the test would hang otherwise
	if c, l := k.got(); len(c)+len(l) != 0 {
		t.Errorf("an SQLite subscription delivered %v, %v", c, l)
	}
}
