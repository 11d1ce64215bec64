package app_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

// awayStore is a real store that can be made to answer as an unreachable
// database does: every call below fails with app.ErrUnavailable.
type awayStore struct {
	*db.Store
	down atomic.Bool
}

func (s *awayStore) Session(ctx context.Context, hash string) (app.Session, error) {
	if s.down.Load() {
		return app.Session{}, unavailable
	}
	return s.Store.Session(ctx, hash)
}

func (s *awayStore) UpdateSession(ctx context.Context, se app.Session) error {
	if s.down.Load() {
		return unavailable
	}
	return s.Store.UpdateSession(ctx, se)
}

func (s *awayStore) DeleteSession(ctx context.Context, hash string) error {
	if s.down.Load() {
		return unavailable
	}
	return s.Store.DeleteSession(ctx, hash)
}

func (s *awayStore) User(ctx context.Context, id app.UserID) (app.User, error) {
	if s.down.Load() {
		return app.User{}, unavailable
	}
	return s.Store.User(ctx, id)
}

// unavailable is what the store answers while it is away.
var unavailable = errors.Join(errors.New("db: dial tcp: connection refused"), app.ErrUnavailable)

// While the store is away a replica answers from its last good reads of a
// session and its user, and says so on the request's context; never for
// longer than LastGoodFor, never past the session's own expiry, and never
// for a session it has ended itself.
func TestLastGoodReadsServeOnlyWhileTheStoreIsAway(t *testing.T) {
	e := newEnv(t)
	st := &awayStore{Store: e.store}
	cfg := app.DefaultAuthConfig()
	cfg.Password = cheap
	cfg.DeviceKey = []byte(strings.Repeat("d", 32))
	cfg.AbsoluteTimeout = app.LastGoodFor + 10*time.Minute
	auth, err := app.NewAuth(st, e.audit, cfg, e.clock.Now, discard())
	if err != nil {
		t.Fatal(err)
	}
	users := app.NewUsers(st, e.audit, cheap, e.clock.Now, discard())
	bg := context.Background()
	newSession := func() string {
		t.Helper()
		tok, err := app.NewSessionToken()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := auth.CreateSession(bg, tok, e.admin.ID, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Session(app.WithStoreWatch(bg), tok); err != nil { // read once while the store answers
			t.Fatal(err)
		}
		return tok
	}
	read, ended, never := newSession(), newSession(), "never-read-token"
	if _, err := users.Get(bg, e.admin.ID); err != nil {
		t.Fatal(err)
	}

	st.down.Store(true)
	ctx := app.WithStoreWatch(bg)
	if s, err := auth.Session(ctx, read); err != nil || s.UserID != e.admin.ID {
		t.Fatalf("a session read before the store went away: %+v, %v; want it served from memory", s, err)
	}
	if u, err := users.Get(ctx, e.admin.ID); err != nil || u.Email != e.admin.Email {
		t.Fatalf("the user read before the store went away: %+v, %v", u, err)
	}
	if !app.StoreAway(ctx) {
		t.Error("answers from memory were not noted on the request's context")
	}
	if _, err := auth.Session(app.WithStoreWatch(bg), never); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("a session never read: %v; want ErrUnavailable", err)
	}
	if err := auth.EndSession(bg, ended); !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("EndSession with the store away: %v", err)
	}
	if _, err := auth.Session(app.WithStoreWatch(bg), ended); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("a session ended here was served from memory: %v", err)
	}

	e.clock.Advance(app.LastGoodFor + time.Second)
	if _, err := auth.Session(app.WithStoreWatch(bg), read); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("a session read %s ago: %v; want ErrUnavailable", app.LastGoodFor+time.Second, err)
	}
	if _, err := users.Get(bg, e.admin.ID); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("a user read %s ago: %v; want ErrUnavailable", app.LastGoodFor+time.Second, err)
	}

	// Back: read again, then away again past the session's own expiry.
	st.down.Store(false)
	if _, err := auth.Session(bg, read); err != nil {
		t.Fatal(err)
	}
	st.down.Store(true)
	e.clock.Advance(app.LastGoodFor - time.Minute) // within memory, past AbsoluteTimeout
	if _, err := auth.Session(app.WithStoreWatch(bg), read); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("a remembered session past its expiry: %v; want ErrNotFound (ended)", err)
	}
	if ctx := app.WithStoreWatch(bg); app.StoreAway(ctx) {
		t.Error("a fresh request context says the store is away")
	}
}
