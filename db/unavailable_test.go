package db_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

// flakyProxy forwards TCP connections to a server until it is taken down
// (the listener closed, every connection cut), and can come back up on the
// same address: a database server that goes away and returns.
type flakyProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{addr: ln.Addr().String(), target: target}
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *flakyProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }() //nolint:errcheck // ends when either side closes
			go func() { io.Copy(c, s); c.Close() }() //nolint:errcheck
		}
	}()
}

func (p *flakyProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *flakyProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// A PostgreSQL server that goes away: the store's calls fail with an error
// that matches app.ErrUnavailable (the pages' 503 in words), and when it is
// back the store carries on with nothing lost.
func TestUnreachablePostgreSQLIsUnavailableThenRecovers(t *testing.T) {
	requirePostgres(t)
	u, err := url.Parse(testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFlakyProxy(t, u.Host)
	u.Host = proxy.addr
	ctx := context.Background()
	s, err := db.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateUser(ctx, app.User{Email: "a@example.com", PasswordHash: "x", Role: app.RoleAdmin, TimeZone: "UTC", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	proxy.down()
	if _, err := s.CountUsers(ctx); !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("CountUsers with the server gone: %v; want app.ErrUnavailable", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("Ping with the server gone: %v; want app.ErrUnavailable", err)
	}
	proxy.up(t)
	var n int
	for range 3 { // connections broken while it was away fail once each at most
		if n, err = s.CountUsers(ctx); err == nil {
			break
		}
	}
	if err != nil || n != 1 {
		t.Fatalf("CountUsers after the server came back = %d, %v; want 1", n, err)
	}
}
