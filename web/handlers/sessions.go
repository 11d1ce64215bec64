package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// sessionCookie is the name of the session cookie.
const sessionCookie = "rcbu_session"

// Keys of sessions.Session.Values. Only these are persisted, with fixed
// types: the store refuses anything else rather than guess.
const (
	valUserID  = "user_id" // app.UserID; fixed when the session is created (login rotates)
	valAccount = "account" // string: an account id, or "all"
	valFlashes = "_flash"  // gorilla's default flash key; []any of templates.Flash
	valOIDC    = "oidc"    // app.OIDCPending: a single sign-on started in this browser
)

// sessionBackend is the server side of sessions (app.Auth).
type sessionBackend interface {
	CreateSession(ctx context.Context, token string, userID app.UserID, data []byte) (app.Session, error)
	Session(ctx context.Context, token string) (app.Session, error)
	SaveSession(ctx context.Context, token string, data []byte) error
	EndSession(ctx context.Context, token string) error
}

// sessionStore is a gorilla sessions.Store whose cookie holds only a signed
// random token; everything else lives in the sessions table.
type sessionStore struct {
	backend sessionBackend
	codec   securecookie.Codec
	opts    sessions.Options
}

var _ sessions.Store = (*sessionStore)(nil)

func newSessionStore(backend sessionBackend, hashKey []byte, secure bool, maxAge time.Duration) *sessionStore {
	codec := securecookie.New(hashKey, nil) // signed, not encrypted: the value is a random token
	codec.MaxAge(int(maxAge / time.Second))
	return &sessionStore{
		backend: backend,
		codec:   codec,
		opts: sessions.Options{
			Path:     "/",
			MaxAge:   int(maxAge / time.Second),
			Secure:   secure,
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		},
	}
}

// sessionData is the JSON kept in the row's data column.
type sessionData struct {
	Account string            `json:"account,omitempty"`
	Flashes []templates.Flash `json:"flashes,omitempty"`
	OIDC    *app.OIDCPending  `json:"oidc,omitempty"`
}

// Get returns the request's session (cached per request by gorilla's registry).
func (st *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session named by the request's cookie, or returns a new,
// empty one when there is no valid cookie or the session has ended.
func (st *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(st, name)
	opts := st.opts
	s.Options = &opts
	s.IsNew = true
	ck, err := r.Cookie(name)
	if err != nil {
		return s, nil
	}
	var token string
	if err := st.codec.Decode(name, ck.Value, &token); err != nil {
		return s, nil // tampered, expired or from an old key: start afresh
	}
	row, err := st.backend.Session(r.Context(), token)
	if errors.Is(err, app.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("load session: %w", err)
	}
	var data sessionData
	if len(row.Data) > 0 {
		if err := json.Unmarshal(row.Data, &data); err != nil {
			return s, fmt.Errorf("load session: %w", err)
		}
	}
	s.ID = token
	s.IsNew = false
	if row.UserID != 0 {
		s.Values[valUserID] = row.UserID
	}
	if data.Account != "" {
		s.Values[valAccount] = data.Account
	}
	if data.OIDC != nil {
		s.Values[valOIDC] = *data.OIDC
	}
	if len(data.Flashes) > 0 {
		fl := make([]any, len(data.Flashes))
		for i, f := range data.Flashes {
			fl[i] = f
		}
		s.Values[valFlashes] = fl
	}
	return s, nil
}

// Save writes the session. MaxAge < 0 ends it (row and cookie). A session
// without an id gets a fresh random token and a new row; that is how login
// rotates the id.
func (st *sessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	ctx := r.Context()
	if s.Options != nil && s.Options.MaxAge < 0 {
		if s.ID != "" {
			if err := st.backend.EndSession(ctx, s.ID); err != nil {
				return fmt.Errorf("save session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(s.Name(), "", s.Options))
		return nil
	}
	var data sessionData
	var uid app.UserID
	for k, v := range s.Values {
		switch k {
		case valUserID:
			id, ok := v.(app.UserID)
			if !ok {
				return fmt.Errorf("save session: %s has type %T", valUserID, v)
			}
			uid = id
		case valAccount:
			a, ok := v.(string)
			if !ok {
				return fmt.Errorf("save session: %s has type %T", valAccount, v)
			}
			data.Account = a
		case valFlashes:
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("save session: flashes have type %T", v)
			}
			for _, f := range list {
				fl, ok := f.(templates.Flash)
				if !ok {
					return fmt.Errorf("save session: flash has type %T", f)
				}
				data.Flashes = append(data.Flashes, fl)
			}
		case valOIDC:
			p, ok := v.(app.OIDCPending)
			if !ok {
				return fmt.Errorf("save session: %s has type %T", valOIDC, v)
			}
			data.OIDC = &p
		default:
			return fmt.Errorf("save session: unknown key %v", k)
		}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if s.ID == "" {
		token, err := app.NewSessionToken()
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		if _, err := st.backend.CreateSession(ctx, token, uid, b); err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		s.ID = token
	} else if err := st.backend.SaveSession(ctx, s.ID, b); err != nil {
		if errors.Is(err, app.ErrUnavailable) {
			// The database is away: what changed in the session (a flash
			// shown) is not kept, and the session carries on.
			return nil
		}
		if errors.Is(err, app.ErrNotFound) {
			// Revoked meanwhile (signed out elsewhere): drop the cookie.
			opts := *s.Options
			opts.MaxAge = -1
			http.SetCookie(w, sessions.NewCookie(s.Name(), "", &opts))
			return nil
		}
		return fmt.Errorf("save session: %w", err)
	}
	encoded, err := st.codec.Encode(s.Name(), s.ID)
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(s.Name(), encoded, s.Options))
	return nil
}

// session returns the request's session, loaded by the session middleware.
func session(c echo.Context) *sessions.Session {
	s, _ := c.Get(ctxSession).(*sessions.Session)
	return s
}

// addFlash queues a message for the next page and saves the session.
func addFlash(c echo.Context, kind templates.FlashKind, text string) error {
	s := session(c)
	if s == nil {
		return errors.New("add flash: no session")
	}
	s.AddFlash(templates.Flash{Kind: kind, Text: text})
	return s.Save(c.Request(), c.Response())
}

// flashAndRedirect stores a flash for the next page and redirects there with
// 303, the answer to a successful POST.
func flashAndRedirect(c echo.Context, kind templates.FlashKind, text, to string) error {
	if err := addFlash(c, kind, text); err != nil {
		return err
	}
	return seeOther(c, to)
}

// formDone ends a form POST: a validation failure shows the form again
// with its problems (invalid renders it, with 422), another error goes to
// the error handler, and success flashes ok and redirects to to (303).
func formDone(c echo.Context, err error, invalid func(templates.FormErrors) error, ok, to string) error {
	if fe, isForm := formErrors(err); isForm {
		return invalid(fe)
	}
	if err != nil {
		return err
	}
	return flashAndRedirect(c, templates.FlashSuccess, ok, to)
}

// startSession replaces the request's session with a fresh one (new token)
// for user: the old row is deleted, so a token fixed before login is useless.
func startSession(c echo.Context, user app.UserID, flash *templates.Flash) error {
	s := session(c)
	if s == nil {
		return errors.New("start session: no session")
	}
	if s.ID != "" {
		if err := sessionStoreOf(s).backend.EndSession(c.Request().Context(), s.ID); err != nil {
			return fmt.Errorf("start session: %w", err)
		}
	}
	s.ID = ""
	s.IsNew = true
	clear(s.Values)
	if user != 0 {
		s.Values[valUserID] = user
	}
	if flash != nil {
		s.AddFlash(*flash)
	}
	opts := *s.Options
	opts.MaxAge = sessionStoreOf(s).opts.MaxAge
	s.Options = &opts
	return s.Save(c.Request(), c.Response())
}

func sessionStoreOf(s *sessions.Session) *sessionStore {
	st, _ := s.Store().(*sessionStore)
	return st
}
