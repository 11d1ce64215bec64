package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// signIn signs in with the printed first-admin password, replaces it as the
// console asks, and returns a client holding the session.
func signIn(t *testing.T, base, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(base+"/login", url.Values{"email": {"admin@example.com"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	replacePrintedPassword(t, hc, base, password)
	return hc
}

// replacePrintedPassword does what the first admin must do first: replace
// the printed password with their own.
func replacePrintedPassword(t *testing.T, hc *http.Client, base, printed string) {
	t.Helper()
	const own = "the first admin's own password"
	resp, err := hc.PostForm(base+"/password/change", url.Values{"current_password": {printed}, "new_password": {own}, "confirm_password": {own}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	done := resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/" || // a client that does not follow redirects
		resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/"
	if !done {
		t.Fatalf("replace the printed password: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

// fileHolds reports whether any of the database's files holds b.
func fileHolds(t *testing.T, dbPath string, b []byte) string {
	t.Helper()
	for _, p := range []string{dbPath, dbPath + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if bytes.Contains(data, b) {
			return p
		}
	}
	return ""
}

func TestSecretLivesInAKeyFileNotTheDatabase(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "data", "web.db")
	keyPath := dbPath + ".key"

	// A database from an older version kept the generated secret in its
	// settings table.
	legacy := make([]byte, 32)
	rand.Read(legacy)
	legacyText := base64.RawStdEncoding.EncodeToString(legacy)
	store, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.InsertSettingIfAbsent(context.Background(), "app_secret", legacyText); err != nil {
		t.Fatal(err)
	}
	store.Close()

	base, stderr, stop := startRun(t, map[string]string{"RCBU_WEB_DB": dbPath})
	m := passwordRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no first-admin password:\n%s", stderr.String())
	}
	hc := signIn(t, base, m[1])
	stop()

	if !strings.Contains(stderr.String(), keyPath) {
		t.Errorf("the log does not name the key file %s:\n%s", keyPath, stderr.String())
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	key, _ := os.ReadFile(keyPath)
	if strings.TrimSpace(string(key)) != legacyText {
		t.Error("the stored secret was not moved to the key file as it was (sealed secrets would be lost)")
	}
	if p := fileHolds(t, dbPath, []byte(legacyText)); p != "" {
		t.Errorf("%s still holds the app secret", p)
	}

	// A restart keeps the sessions (the cookie keys come from the same
	// secret) and the account (its API key opens).
	base, _, stop = startRun(t, map[string]string{"RCBU_WEB_DB": dbPath})
	defer stop()
	// (Cookies do not depend on the port, so the jar sends them to the new one.)
	resp, err := hc.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after a restart the session is gone: %d", resp.StatusCode)
	}
	if strings.Contains(string(body), `data-testid="error-banner"`) || !strings.Contains(string(body), `data-testid="agent-name"`) {
		t.Error("after a restart the demo account does not work")
	}

	// The backup download holds no key either.
	resp, err = hc.PostForm(base+"/admin/maintenance/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	backup, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(backup, []byte("SQLite format 3")) {
		t.Fatalf("backup: %d, %d bytes", resp.StatusCode, len(backup))
	}
	if bytes.Contains(backup, []byte(legacyText)) || bytes.Contains(backup, key[:20]) {
		t.Error("the backup download holds the app secret")
	}
}

func TestFirstStartWritesAKeyFile(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "data", "web.db")
	_, stderr, stop := startRun(t, map[string]string{"RCBU_WEB_DB": dbPath})
	stop()
	key, err := os.ReadFile(dbPath + ".key")
	if err != nil {
		t.Fatalf("no key file: %v", err)
	}
	if !strings.Contains(stderr.String(), dbPath+".key") {
		t.Errorf("the log does not name the key file")
	}
	if p := fileHolds(t, dbPath, bytes.TrimSpace(key)); p != "" {
		t.Errorf("%s holds the app secret", p)
	}
	// With RCBU_WEB_SECRET no key file is written.
	dbPath2 := filepath.Join(t.TempDir(), "web.db")
	_, _, stop = startRun(t, map[string]string{"RCBU_WEB_DB": dbPath2, "RCBU_WEB_SECRET": strings.Repeat("x", 40)})
	stop()
	if _, err := os.Stat(dbPath2 + ".key"); err == nil {
		t.Error("a key file was written although RCBU_WEB_SECRET is set")
	}
}

func TestRotateSecret(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "web.db")
	keyPath := dbPath + ".key"
	_, _, stop := startRun(t, map[string]string{"RCBU_WEB_DB": dbPath})
	stop()
	before, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	var out, errw bytes.Buffer
	if err := run(context.Background(), []string{"rotate-secret"}, env(map[string]string{"RCBU_WEB_DB": dbPath}), &out, &errw); err != nil {
		t.Fatalf("rotate-secret: %v\n%s", err, errw.String())
	}
	if !strings.Contains(out.String(), "Re-sealed 1 secrets") {
		t.Errorf("rotate-secret said %q", out.String())
	}
	after, err := os.ReadFile(keyPath)
	if err != nil || bytes.Equal(before, after) {
		t.Fatalf("the key file did not change: %v", err)
	}
	if fi, _ := os.Stat(keyPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	if _, err := os.Stat(keyPath + ".new"); err == nil {
		t.Error("a pending key file was left behind")
	}
	// The demo account's key opens under the new secret, not the old one.
	store, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	accts, err := store.ListAccounts(context.Background())
	if err != nil || len(accts) != 1 {
		t.Fatalf("accounts: %v %v", accts, err)
	}
	for name, key := range map[string][]byte{"new": after, "old": before} {
		secret, err := base64.RawStdEncoding.DecodeString(strings.TrimSpace(string(key)))
		if err != nil {
			t.Fatal(err)
		}
		sealer, err := app.NewSealer(secret)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sealer.Open(accts[0].SecretSealed, []byte(app.SealedAccountSecret))
		if ok := err == nil && string(p) == rcbusim.DemoAPIKey; ok != (name == "new") {
			t.Errorf("the %s key opens the account secret: %v", name, ok)
		}
	}
	// With RCBU_WEB_SECRET the new one must be given.
	err = run(context.Background(), []string{"rotate-secret"}, env(map[string]string{"RCBU_WEB_DB": dbPath, "RCBU_WEB_SECRET": strings.Repeat("y", 40)}), &out, &errw)
	if err == nil || !strings.Contains(err.Error(), "RCBU_WEB_NEW_SECRET") {
		t.Errorf("rotate-secret without RCBU_WEB_NEW_SECRET: %v", err)
	}
}

// On PostgreSQL there is no key file: rotate-secret takes the new secret
// from RCBU_WEB_NEW_SECRET and re-seals every sealed value in one
// transaction, all or nothing (under a wrong current secret nothing
// changes). The console then starts under the new secret with its account
// and channel secrets opening.
func TestRotateSecretOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	dsn := postgresForTest(t)
	oldSecret, newSecret := strings.Repeat("o", 40), strings.Repeat("n", 40)
	_, stderr, stop := startRun(t, map[string]string{"RCBU_WEB_DB": dsn, "RCBU_WEB_SECRET": oldSecret})
	stop()
	m := passwordRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no printed password:\n%s", stderr.String())
	}

	store, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sealers := map[string]*app.Sealer{}
	for name, secret := range map[string]string{"old": oldSecret, "new": newSecret} {
		if sealers[name], err = app.NewSealer([]byte(secret)); err != nil {
			t.Fatal(err)
		}
	}
	accts, err := store.ListAccounts(ctx)
	if err != nil || len(accts) != 1 {
		t.Fatalf("accounts: %v %v", accts, err)
	}
	hookKey, err := sealers["old"].Seal([]byte("the webhook key"), []byte(app.SealedChannelSecret))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := store.CreateChannel(ctx, app.Channel{AccountID: accts[0].ID, Name: "hook", Kind: app.ChannelWebhook, Enabled: true,
		URL: "https://hooks.example.com/x", SecretSealed: hookKey, Created: time.Now(), Updated: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// opensUnder reports whether both sealed values open under the sealer.
	opensUnder := func(name string) bool {
		t.Helper()
		a, err := store.Account(ctx, accts[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		c, err := store.Channel(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		key, errA := sealers[name].Open(a.SecretSealed, []byte(app.SealedAccountSecret))
		hook, errC := sealers[name].Open(c.SecretSealed, []byte(app.SealedChannelSecret))
		return errA == nil && string(key) == rcbusim.DemoAPIKey && errC == nil && string(hook) == "the webhook key"
	}
	rotate := func(vars map[string]string) (string, error) {
		vars["RCBU_WEB_DB"] = dsn
		var out, errw bytes.Buffer
		err := run(ctx, []string{"rotate-secret"}, env(vars), &out, &errw)
		return out.String(), err
	}

	for _, c := range []struct {
		name, want string
		vars       map[string]string
	}{
		{"without the current secret", "RCBU_WEB_SECRET", map[string]string{"RCBU_WEB_NEW_SECRET": newSecret}},
		{"without the new secret", "RCBU_WEB_NEW_SECRET", map[string]string{"RCBU_WEB_SECRET": oldSecret}},
		{"with a new secret too short", "RCBU_WEB_NEW_SECRET", map[string]string{"RCBU_WEB_SECRET": oldSecret, "RCBU_WEB_NEW_SECRET": "short"}},
		{"under a wrong current secret", "is this the secret the database was sealed with?",
			map[string]string{"RCBU_WEB_SECRET": strings.Repeat("w", 40), "RCBU_WEB_NEW_SECRET": newSecret}},
	} {
		out, err := rotate(c.vars)
		if err == nil || !strings.Contains(err.Error(), c.want) || out != "" {
			t.Errorf("rotate-secret %s: %v, printed %q; want an error naming %q", c.name, err, out, c.want)
		}
		if !opensUnder("old") {
			t.Fatalf("rotate-secret %s changed sealed values", c.name)
		}
	}

	out, err := rotate(map[string]string{"RCBU_WEB_SECRET": oldSecret, "RCBU_WEB_NEW_SECRET": newSecret})
	if err != nil {
		t.Fatalf("rotate-secret: %v", err)
	}
	if !strings.Contains(out, "Re-sealed 2 secrets under RCBU_WEB_NEW_SECRET") {
		t.Errorf("rotate-secret said %q", out)
	}
	if !opensUnder("new") || opensUnder("old") {
		t.Error("after the rotation the sealed values do not open under the new secret only")
	}

	base, _, stop := startRun(t, map[string]string{"RCBU_WEB_DB": dsn, "RCBU_WEB_SECRET": newSecret})
	defer stop()
	hc := signIn(t, base, m[1])
	resp, err := hc.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `data-testid="error-banner"`) || !strings.Contains(string(body), `data-testid="agent-name"`) {
		t.Errorf("under the new secret the demo account does not work: %d", resp.StatusCode)
	}
}
