package rcbu_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

func TestEncryptPassphrase(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rcbu.PublicKey{ModulusHex: fmt.Sprintf("%X", key.N), ExponentHex: rcbu.FlexString(fmt.Sprintf("%x", key.E))}
	ct, err := rcbu.EncryptPassphrase(pub, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(ct)
	if err != nil || len(raw) != 256 {
		t.Fatalf("ciphertext %q: %v", ct, err)
	}
	//lint:ignore SA1019 the agent's side of the PKCS#1 v1.5 protocol
	plain, err := rsa.DecryptPKCS1v15(nil, key, raw)
	if err != nil || string(plain) != "correct horse" {
		t.Fatalf("decrypt = %q, %v", plain, err)
	}
	for name, k := range map[string]*rcbu.PublicKey{
		"nil":          nil,
		"bad modulus":  {ModulusHex: "zz", ExponentHex: "10001"},
		"bad exponent": {ModulusHex: pub.ModulusHex, ExponentHex: "x"},
	} {
		if _, err := rcbu.EncryptPassphrase(k, "p"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := rcbu.Credentials{Username: "alice", APIKey: "key-123", Password: "pw-456"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "creds", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "creds", c)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", c, c, c, c)
	if strings.Contains(out, "key-123") || strings.Contains(out, "pw-456") || !strings.Contains(out, "alice") {
		t.Errorf("output = %s", out)
	}
}

func TestAgentAccessors(t *testing.T) {
	for _, tt := range []struct {
		a                          rcbu.Agent
		online, known, enabled, en bool
	}{
		{rcbu.Agent{Status: rcbu.AgentStatusOnline}, true, true, true, false},
		{rcbu.Agent{Status: rcbu.AgentStatusOffline, IsDisabled: true}, false, true, false, false},
		{rcbu.Agent{Status: rcbu.AgentStatusUnknown, IsEncrypted: true}, false, false, true, true},
	} {
		if tt.a.Online() != tt.online || tt.a.StatusKnown() != tt.known || tt.a.Enabled() != tt.enabled || tt.a.Encrypted() != tt.en {
			t.Errorf("%+v: online %v known %v enabled %v encrypted %v", tt.a, tt.a.Online(), tt.a.StatusKnown(), tt.a.Enabled(), tt.a.Encrypted())
		}
	}
}
