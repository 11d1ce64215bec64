package app

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id cost parameters used for new hashes.
// Existing hashes carry their own parameters, so changing these only affects
// passwords set afterwards.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams returns the OWASP recommendation for argon2id
// (19 MiB, 2 iterations, 1 thread).
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}
}

const (
	passwordSaltLen = 16
	passwordKeyLen  = 32
	// MinPasswordLen is the shortest password the console accepts.
	MinPasswordLen = 12
	// MaxPasswordLen bounds the work an attacker can ask argon2 to do.
	MaxPasswordLen = 256
)

// HashPassword returns an encoded argon2id hash of password in the PHC string
// format: $argon2id$v=19$m=...,t=...,p=...$salt$key.
func HashPassword(password string, p PasswordParams) (string, error) {
	salt := make([]byte, passwordSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, passwordKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the encoded hash. A
// malformed hash never matches.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	// Refuse absurd parameters from a tampered row rather than burn memory.
	if p.Memory == 0 || p.Memory > 1<<20 || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// validatePassword checks a new password's length.
func validatePassword(v validation, field, password string) {
	switch n := len([]rune(password)); {
	case n < MinPasswordLen:
		v.add(field, fmt.Sprintf("Use at least %d characters.", MinPasswordLen))
	case len(password) > MaxPasswordLen:
		v.add(field, fmt.Sprintf("Use at most %d characters.", MaxPasswordLen))
	}
}

// RandomPassword returns a random password of 20 URL-safe characters, used for
// the first admin and for password resets.
func RandomPassword() (string, error) {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
