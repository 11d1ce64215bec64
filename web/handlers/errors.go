package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// handleError is the one HTTP error handler. It maps error kinds to a status
// and a short message for people, renders the error page in the layout (a
// fragment for htmx), and logs 5xx once with the request id. Users never see
// the text of an internal error.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	r := c.Request()
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away (navigated off, closed the tab, a load
		// generator stopped): not a server fault, and nobody reads a reply.
		s.Log.DebugContext(r.Context(), "request_abandoned",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
		)
		return
	}
	status, heading, msg := classify(err)
	if errors.Is(err, app.ErrUnavailable) && r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A change the database could not take was refused whole (or
		// before it began: errStoreAway), which is what the person needs.
		msg = "The database is not answering; nothing was changed. Try again in a moment."
	}
	var ue *app.UpstreamError
	switch {
	case errors.As(err, &ue):
		// Cloud Backup failed, not the console: worth a warning, not an error.
		s.logFailure(c, slog.LevelWarn, "upstream_failed", status, err)
	case status >= 500:
		if !errors.Is(err, errPanic) { // a panic was logged with its stack already
			s.logFailure(c, slog.LevelError, "request_failed", status, err)
		}
	}
	if status == http.StatusUnauthorized && !isHTMX(c) {
		// An expired session on a normal page: go sign in.
		if rerr := seeOther(c, loginURL(c)); rerr != nil {
			s.Log.ErrorContext(r.Context(), "error_response_failed", slog.Any("err", rerr))
		}
		return
	}
	var rerr error
	switch {
	case r.Method == http.MethodHead:
		rerr = c.NoContent(status)
	case isHTMX(c):
		rerr = render(c, status, templates.ErrorFragment(templates.ErrorView{Status: status, Heading: heading, Message: msg}))
	default:
		meta := s.meta(c, heading, templates.NavNone)
		rerr = render(c, status, templates.ErrorPage(templates.ErrorView{Meta: meta, Status: status, Heading: heading, Message: msg}))
	}
	if rerr != nil {
		s.Log.ErrorContext(r.Context(), "error_response_failed", slog.Any("err", rerr))
		_ = c.String(status, msg)
	}
}

// logFailure logs a failed request once, at level, with what identifies it.
func (s *server) logFailure(c echo.Context, level slog.Level, msg string, status int, err error) {
	r := c.Request()
	s.Log.Log(r.Context(), level, msg,
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
		slog.Any("err", err),
	)
}

// classify maps an error to a status, a heading and a message for people.
func classify(err error) (status int, heading, msg string) {
	var he *echo.HTTPError
	var ve *app.ValidationError
	var ue *app.UpstreamError
	switch {
	case errors.As(err, &ue):
		// A page whose main object could not be read from Cloud Backup:
		// the words say what failed, the layout stays usable.
		switch {
		case errors.Is(err, rcbu.ErrNotFound):
			return http.StatusNotFound, "Not found", ue.Message()
		case errors.Is(err, rcbu.ErrForbidden):
			return http.StatusForbidden, "Not allowed", ue.Message()
		}
		return http.StatusBadGateway, "Cloud Backup did not answer", ue.Message()
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, "Please check your input", strings.TrimPrefix(ve.Error(), "invalid input: ")
	case errors.Is(err, app.ErrUnavailable):
		return http.StatusServiceUnavailable, "The database is not answering",
			"The console cannot reach its database right now, so this page cannot be shown. Try again in a moment; nothing saved is lost."
	case errors.Is(err, app.ErrInvalid):
		return http.StatusUnprocessableEntity, "Please check your input", "Some of the input was not valid."
	case errors.Is(err, app.ErrNotFound):
		return withWords(http.StatusNotFound)
	case errors.Is(err, app.ErrConflict):
		return http.StatusConflict, "That cannot be done right now", app.Problem(err, "")
	case errors.Is(err, app.ErrUnauthorized):
		return withWords(http.StatusUnauthorized)
	case errors.Is(err, app.ErrForbidden):
		return withWords(http.StatusForbidden)
	case errors.As(err, &he):
		if _, h, m := withWords(he.Code); h != "" {
			return he.Code, h, m
		}
		if m, ok := he.Message.(string); ok {
			return he.Code, http.StatusText(he.Code), m
		}
		return he.Code, http.StatusText(he.Code), "The request could not be handled."
	default:
		return withWords(http.StatusInternalServerError)
	}
}

// withWords is a status with its heading and message for people: the
// statuses the console answers with for its own reasons have words of
// their own, any other 5xx is "Something went wrong", and any other status
// has no words (an empty heading).
func withWords(status int) (int, string, string) {
	own := map[int][2]string{
		http.StatusNotFound:              {"Page not found", "We could not find what you asked for. It may have been deleted, or the link is wrong."},
		http.StatusMethodNotAllowed:      {"Not allowed here", "This address does not accept that kind of request."},
		http.StatusForbidden:             {"Not allowed", "Your role does not allow this. Ask an admin if you need it."},
		http.StatusUnauthorized:          {"Please sign in", "Your session has ended. Sign in again to continue."},
		http.StatusRequestEntityTooLarge: {"Too large", "The request was larger than the console accepts."},
		http.StatusRequestTimeout:        {"Too slow", "The request did not arrive in time. Try again."},
	}
	if w, ok := own[status]; ok {
		return status, w[0], w[1]
	}
	if status >= 500 {
		return status, "Something went wrong", "The console hit an unexpected problem. Try again; if it keeps happening, tell your admin."
	}
	return status, "", ""
}
