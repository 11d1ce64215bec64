package handlers

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOverLimitBodiesAre413(t *testing.T) {
	te := newTestEnv(t)
	big := "email=" + strings.Repeat("a", 2<<20) + "&password=x"
	for _, tc := range []struct {
		name    string
		chunked bool
	}{{"with a length", false}, {"chunked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/login", io.MultiReader(strings.NewReader(big)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.chunked {
				r.ContentLength = -1
			} else {
				r.ContentLength = int64(len(big))
			}
			rec := httptest.NewRecorder()
			te.e.ServeHTTP(rec, r)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", rec.Code)
			}
		})
	}
}

func TestSlowBodyIs408(t *testing.T) {
	te := newTestEnv(t)
	srv := httptest.NewUnstartedServer(te.e)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers promise 100 bytes; 10 come, then nothing.
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a%%40", srv.Listener.Addr())
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
}

func TestHSTSWithSecureCookies(t *testing.T) {
	for _, secure := range []bool{false, true} {
		te, _ := buildTestEnv(t, envOptions{change: func(d *Deps) { d.SecureCookies = secure }})
		got := te.get("/login", nil).Header().Get("Strict-Transport-Security")
		if secure && !strings.HasPrefix(got, "max-age=") {
			t.Errorf("secure cookies: Strict-Transport-Security %q", got)
		}
		if !secure && got != "" {
			t.Errorf("plain HTTP: Strict-Transport-Security %q", got)
		}
	}
}
