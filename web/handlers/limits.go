package handlers

import (
	"errors"
	"mime"
	"net"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
)

// maxBodyBytes bounds every request body (the largest legitimate one is a
// configuration import).
const maxBodyBytes = 1 << 20

// bodyLimit bounds the request body and reads a form body here, up front,
// so that a body over the limit (chunked ones too) is a 413 and a body that
// stops arriving is a 408. Left to the handlers, net/http's form parsing
// would drop either error and hand them an empty form.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			if r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			var err error
			switch ct {
			case "application/x-www-form-urlencoded":
				err = r.ParseForm()
			case "multipart/form-data":
				err = r.ParseMultipartForm(limit)
			}
			if err != nil {
				return bodyError(err)
			}
			return next(c)
		}
	}
}

// bodyError maps a failure to read a request body to its status.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return echo.NewHTTPError(http.StatusRequestTimeout)
	}
	return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
}
