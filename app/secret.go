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
)

// MinSecretLen is the shortest app secret accepted (in bytes).
const MinSecretLen = 32

// SettingStore keeps small named values.
type SettingStore interface {
	// Setting returns the value; a missing one wraps ErrNotFound.
	Setting(ctx context.Context, key string) (string, error)
	// InsertSettingIfAbsent stores value unless key exists, and returns the stored value.
	InsertSettingIfAbsent(ctx context.Context, key, value string) (string, error)
}

const secretSetting = "app_secret"

// EnsureSecret returns the application secret: the configured one when given,
// else the one generated on the first start and kept in the settings table.
func EnsureSecret(ctx context.Context, store SettingStore, configured string) ([]byte, error) {
	if configured != "" {
		if len(configured) < MinSecretLen {
			return nil, fmt.Errorf("app secret: use at least %d characters: %w", MinSecretLen, ErrInvalid)
		}
		return []byte(configured), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("app secret: %w", err)
	}
	v, err := store.InsertSettingIfAbsent(ctx, secretSetting, base64.RawStdEncoding.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("app secret: %w", err)
	}
	secret, err := base64.RawStdEncoding.DecodeString(v)
	if err != nil || len(secret) < MinSecretLen {
		return nil, errors.New("app secret: the stored secret is malformed")
	}
	return secret, nil
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
