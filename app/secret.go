package app

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// MinSecretLen is the shortest app secret accepted (in bytes).
const MinSecretLen = 32

// SecretStore is what LoadSecret needs from the database: only to move a
// secret that an older version kept there out of it.
type SecretStore interface {
	// Setting returns the value; a missing one wraps ErrNotFound.
	Setting(ctx context.Context, key string) (string, error)
	// PurgeSetting deletes key so that its value is gone from the database
	// files too (overwritten, and the WAL checkpointed), not just unlinked.
	PurgeSetting(ctx context.Context, key string) error
}

// legacySecretSetting is where versions before the key file kept the
// generated secret, beside the sealed values it protects.
const legacySecretSetting = "app_secret"

// KeyFilePath is where the generated secret of the database at dbPath is
// kept: beside it, "<db>.key". It is never inside the database, so neither
// the database file nor the backup download can open the sealed secrets.
func KeyFilePath(dbPath string) string { return dbPath + ".key" }

// SecretSource says where LoadSecret found the secret.
type SecretSource int

// The sources.
const (
	SecretConfigured SecretSource = iota // RCBU_WEB_SECRET
	SecretKeyFile                        // an existing key file
	SecretCreated                        // a key file written now, on the first start
	SecretMigrated                       // a key file written now from the secret an older version stored in the database
)

// LoadSecret returns the application secret: the configured one when given,
// else the key file's, writing a new key file (mode 0600) on the first
// start. A secret an older version stored in the database moves to the key
// file (when none is configured, so the sealed values still open) and is
// purged from the database either way.
func LoadSecret(ctx context.Context, store SecretStore, configured, keyFile string) ([]byte, SecretSource, error) {
	legacy, err := store.Setting(ctx, legacySecretSetting)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, 0, fmt.Errorf("app secret: %w", err)
	}
	var secret []byte
	var src SecretSource
	switch {
	case configured != "":
		if len(configured) < MinSecretLen {
			return nil, 0, fmt.Errorf("app secret: use at least %d characters: %w", MinSecretLen, ErrInvalid)
		}
		secret, src = []byte(configured), SecretConfigured
	default:
		secret, err = readKeyFile(keyFile)
		switch {
		case err == nil:
			src = SecretKeyFile
		case !errors.Is(err, fs.ErrNotExist):
			return nil, 0, err
		case legacy != "":
			if secret, err = decodeSecret(legacy); err != nil {
				return nil, 0, fmt.Errorf("app secret: the secret stored in the database: %w", err)
			}
			src = SecretMigrated
		default:
			secret = make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				return nil, 0, fmt.Errorf("app secret: %w", err)
			}
			src = SecretCreated
		}
		if src != SecretKeyFile {
			if err := WriteKeyFile(keyFile, secret); err != nil {
				return nil, 0, err
			}
		}
	}
	// Only once the key file holds it may the database forget it.
	if legacy != "" {
		if err := store.PurgeSetting(ctx, legacySecretSetting); err != nil {
			return nil, 0, fmt.Errorf("app secret: %w", err)
		}
	}
	return secret, src, nil
}

func decodeSecret(text string) ([]byte, error) {
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(b) < MinSecretLen {
		return nil, errors.New("malformed: want at least 32 bytes in unpadded base64")
	}
	return b, nil
}

// readKeyFile reads the secret from path.
func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("app secret: %w", err)
	}
	secret, err := decodeSecret(string(b))
	if err != nil {
		return nil, fmt.Errorf("app secret: key file %s: %w", path, err)
	}
	return secret, nil
}

// WriteKeyFile writes secret to path with mode 0600, replacing it
// atomically (a temporary file, synced, then renamed).
func WriteKeyFile(path string, secret []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("app secret: write key file: %w", err)
	}
	_, err = f.WriteString(base64.RawStdEncoding.EncodeToString(secret) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("app secret: write key file: %w", err)
	}
	return nil
}

// DeriveKey derives an n-byte key for one purpose from the app secret with
// HKDF-SHA256, so that the cookie keys and the credential key are independent.
func DeriveKey(secret []byte, purpose string, n int) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, secret, nil, "rcbu-console "+purpose, n)
	if err != nil {
		return nil, fmt.Errorf("derive %s key: %w", purpose, err)
	}
	return k, nil
}

// Sealer encrypts small secrets (Rackspace API keys and passwords) at rest
// with AES-256-GCM under a key derived from the app secret.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer keyed from the app secret.
func NewSealer(secret []byte) (*Sealer, error) {
	key, err := DeriveKey(secret, "account credentials v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad; the result is nonce || ciphertext.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Open decrypts what Seal produced with the same aad.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("open: sealed value too short")
	}
	p, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return p, nil
}

// SealedKind names a column of sealed values; each is sealed with its own
// additional data, so a value cannot be moved from one to another.
type SealedKind string

// The sealed columns.
const (
	SealedAccountSecret SealedKind = "account-secret" // accounts.secret_sealed
	SealedChannelSecret SealedKind = channelSecretAAD // alert_channels.secret_sealed
)

// ResealStore rewrites every sealed value.
type ResealStore interface {
	// ResealSecrets passes every sealed value to fn and stores what it
	// returns, all in one transaction: any error leaves every value as it
	// was. It returns how many values were rewritten.
	ResealSecrets(ctx context.Context, fn func(kind SealedKind, sealed []byte) ([]byte, error)) (int, error)
}

// RotateSecret re-seals every sealed secret (Rackspace API keys and
// passwords, alert channel secrets) from the old app secret to the new one,
// in one transaction. Values that do not open with the old secret stop the
// rotation with nothing changed.
func RotateSecret(ctx context.Context, store ResealStore, oldSecret, newSecret []byte) (int, error) {
	from, err := NewSealer(oldSecret)
	if err != nil {
		return 0, err
	}
	to, err := NewSealer(newSecret)
	if err != nil {
		return 0, err
	}
	n, err := store.ResealSecrets(ctx, func(kind SealedKind, sealed []byte) ([]byte, error) {
		p, err := from.Open(sealed, []byte(kind))
		if err != nil {
			return nil, fmt.Errorf("%s: %w (is this the secret the database was sealed with?)", kind, err)
		}
		return to.Seal(p, []byte(kind))
	})
	if err != nil {
		return 0, fmt.Errorf("rotate secret: %w", err)
	}
	return n, nil
}
