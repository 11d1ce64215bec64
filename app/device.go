package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// A device cookie marks a browser that signed in as one user before. It is
// signed with AuthConfig.DeviceKey and holds no secret of its own:
//
//	base64url( user id (8) | issued unix (8) | random id (16) | HMAC-SHA256 of those (32) )
//
// It only changes which throttle counter an attempt is charged to, so a
// stolen one gains an attacker no more guesses than a fresh browser has.
const (
	devicePayloadLen = 8 + 8 + 16
	deviceMACLen     = sha256.Size
)

// device is a verified device cookie.
type device struct {
	user UserID
	id   string // hex of the random part: the throttle key
}

// newDevice returns a fresh device cookie value for user.
func (a *Auth) newDevice(user UserID, now time.Time) (string, error) {
	b := make([]byte, devicePayloadLen, devicePayloadLen+deviceMACLen)
	binary.BigEndian.PutUint64(b[0:8], uint64(user))
	binary.BigEndian.PutUint64(b[8:16], uint64(now.Unix()))
	if _, err := rand.Read(b[16:32]); err != nil {
		return "", fmt.Errorf("device cookie: %w", err)
	}
	m := hmac.New(sha256.New, a.cfg.DeviceKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b)), nil
}

// verifyDevice checks a device cookie's signature and age.
func (a *Auth) verifyDevice(v string, now time.Time) (device, bool) {
	if v == "" || len(v) > 2*(devicePayloadLen+deviceMACLen) {
		return device{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != devicePayloadLen+deviceMACLen {
		return device{}, false
	}
	m := hmac.New(sha256.New, a.cfg.DeviceKey)
	m.Write(b[:devicePayloadLen])
	if !hmac.Equal(m.Sum(nil), b[devicePayloadLen:]) {
		return device{}, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[8:16])), 0)
	if now.Sub(issued) > a.cfg.DeviceLifetime || issued.After(now.Add(time.Minute)) {
		return device{}, false
	}
	return device{user: UserID(binary.BigEndian.Uint64(b[0:8])), id: hex.EncodeToString(b[16:32])}, true
}
