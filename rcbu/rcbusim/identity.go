package rcbusim

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"time"
)

type identityError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func identityErr(status int, key, msg string) reply {
	return reply{status, map[string]identityError{key: {status, msg}}}
}

const msgBadAuth = "Invalid request body: unable to parse Auth data. Please review XML or JSON formatting."

// authenticate answers POST /v2.0/tokens (§2).
func (s *Server) authenticate(host string, body []byte) reply {
	top, err := decodeFields(body, false)
	if err != nil {
		return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
	}
	rawAuth, present := top["auth"]
	if !present || isNull(rawAuth) {
		return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
	}
	auth, err := decodeFields(rawAuth, false)
	if err != nil {
		return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
	}
	tenantID, hasTenantID, err1 := auth.stringField("tenantId")
	tenantName, hasTenantName, err2 := auth.stringField("tenantName")
	if err1 != nil || err2 != nil {
		return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
	}
	if hasTenantID && hasTenantName {
		return identityErr(http.StatusBadRequest, "badRequest", "Invalid request. Specify tenantId OR tenantName, not both.")
	}
	if hasTenantName {
		tenantID, hasTenantID = tenantName, true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var u *user
	method := ""
	switch {
	case auth.has("RAX-KSKEY:apiKeyCredentials"):
		var wellFormed bool
		u, wellFormed = s.credentialUser(auth["rax-kskey:apikeycredentials"], "apiKey", func(u *user) string { return u.apiKey })
		if !wellFormed {
			return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
		}
		method = "APIKEY"
	case auth.has("passwordCredentials"):
		var wellFormed bool
		u, wellFormed = s.credentialUser(auth["passwordcredentials"], "password", func(u *user) string { return u.password })
		if !wellFormed {
			return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
		}
		method = "PASSWORD"
	case auth.has("token"):
		tf, err := decodeFields(auth["token"], false)
		if err != nil {
			return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
		}
		id, _, e := tf.stringField("id")
		if e != nil || id == "" {
			return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
		}
		if !hasTenantID {
			return identityErr(http.StatusBadRequest, "badRequest", "Invalid request. tenantId or tenantName is required with token credentials.")
		}
		if t := s.tokens[id]; t != nil && now.Before(t.expires) {
			u = t.user
			method = t.method
		}
	default:
		return identityErr(http.StatusBadRequest, "badRequest", msgBadAuth)
	}
	if u == nil {
		return identityErr(http.StatusUnauthorized, "unauthorized", "Unable to authenticate user with credentials provided.")
	}
	if hasTenantID && tenantID != u.tenant {
		return identityErr(http.StatusUnauthorized, "unauthorized", "Token not authorized for tenant "+tenantID+".")
	}
	t := &token{id: newTokenID(), user: u, expires: now.Add(s.cfg.tokenTTL), method: method}
	s.tokens[t.id] = t
	s.pruneTokens(now)
	return ok(s.accessBody(t, "http://"+host))
}

// credentialUser reads a {"username", secretKey} credentials object and
// returns the user whose secret (per secretOf) matches, or nil. wellFormed is
// false when the object or either string is missing or malformed.
func (s *Server) credentialUser(raw []byte, secretKey string, secretOf func(*user) string) (u *user, wellFormed bool) {
	cred, err := decodeFields(raw, false)
	if err != nil {
		return nil, false
	}
	name, _, e1 := cred.stringField("username")
	secret, _, e2 := cred.stringField(secretKey)
	if e1 != nil || e2 != nil || name == "" || secret == "" {
		return nil, false
	}
	if cand := s.users[strings.ToLower(name)]; cand != nil && secretOf(cand) == secret {
		return cand, true
	}
	return nil, true
}

// pruneTokens drops tokens that expired more than a day ago so a long-running
// simulator does not grow without bound.
func (s *Server) pruneTokens(now time.Time) {
	s.tokenSeq++
	if s.tokenSeq%256 != 0 {
		return
	}
	for id, t := range s.tokens {
		if now.Sub(t.expires) > 24*time.Hour {
			delete(s.tokens, id)
		}
	}
}

func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// accessBody builds the §2.3 response; catalogBase is "http://" plus the
// request's Host, so the simulator needs no knowledge of its own address.
// A region with its own listener is listed at that listener's port on the
// same host, with the real service's path shape (§1.1).
func (s *Server) accessBody(t *token, catalogBase string) map[string]any {
	ten := t.user.tenant
	var backupEPs, filesEPs []map[string]string
	filesTenant := "MossoCloudFS_" + ten + "-5e0c-4a2b-9aaa-0123456789ab"
	for _, r := range Regions() {
		lr := strings.ToLower(r)
		publicURL := catalogBase + "/" + lr + "/v1.0/" + ten
		if port, ok := s.regionPorts[r]; ok {
			publicURL = "http://" + withPort(strings.TrimPrefix(catalogBase, "http://"), port) + "/v1.0/" + ten
		}
		backupEPs = append(backupEPs, map[string]string{
			"region": r, "tenantId": ten, "publicURL": publicURL,
		})
		filesEPs = append(filesEPs, map[string]string{
			"region": r, "tenantId": filesTenant,
			"publicURL":   "https://storage101." + lr + "1.clouddrive.com/v1/" + filesTenant,
			"internalURL": "https://snet-storage101." + lr + "1.clouddrive.com/v1/" + filesTenant,
		})
	}
	backupEPs = append(backupEPs, map[string]string{"tenantId": ten, "publicURL": catalogBase + "/v1.0/" + ten})
	roles := make([]map[string]string, 0, len(t.user.roles))
	for i, r := range t.user.roles {
		m := map[string]string{"id": string(rune('3' + i)), "name": r, "description": "Role " + r + "."}
		if strings.HasPrefix(r, "cloudbackup:") {
			m["tenantId"] = ten
		}
		roles = append(roles, m)
	}
	return map[string]any{"access": map[string]any{
		"token": map[string]any{
			"id":                       t.id,
			"expires":                  t.expires.UTC().Format("2006-01-02T15:04:05.000Z"),
			"tenant":                   map[string]string{"id": ten, "name": ten},
			"RAX-AUTH:authenticatedBy": []string{t.method},
		},
		"serviceCatalog": []map[string]any{
			{"name": "cloudBackup", "type": "rax:backup", "endpoints": backupEPs},
			{"name": "cloudFiles", "type": "object-store", "endpoints": filesEPs},
		},
		"user": map[string]any{
			"id": t.user.id, "name": t.user.name, "roles": roles,
			"RAX-AUTH:defaultRegion": "DFW", "RAX-AUTH:domainId": ten,
		},
	}}
}

// withPort replaces the port of host (a Host header: "name", "name:port",
// "[v6]" or "[v6]:port").
func withPort(host, port string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return net.JoinHostPort(h, port)
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), port)
}
