package facade

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/internal/logcap"
)

// headerLimit refuses a request whose header fields total more than
// Config.MaxHeader bytes with a 431 OperationOutcome. net/http's own limit
// (MaxHeaderBytes, far higher) would answer in plain text before any
// handler ran; this one answers like every other refusal, and is audited.
// The request line is not counted: a long query is a search, judged (and
// bounded) by the search parser.
func (s *Server) headerLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		n := 0
		for k, vs := range c.Request().Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4 // "k: v\r\n"
			}
		}
		if n > s.cfg.MaxHeader {
			return httpErr(http.StatusRequestHeaderFieldsTooLarge, "too-costly",
				fmt.Sprintf("the request header fields total %d bytes; at most %d are accepted", n, s.cfg.MaxHeader))
		}
		return next(c)
	}
}

// bodyLimit bounds a request body to Config.MaxBody: a declared length
// over it is refused at once, and a chunked body is cut off at the limit
// (http.MaxBytesReader), which the readers answer with 413 (bodyError).
func (s *Server) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.cfg.MaxBody {
			return tooLarge(s.cfg.MaxBody)
		}
		if ce := req.Header.Get("Content-Encoding"); req.ContentLength != 0 && ce != "" && !strings.EqualFold(ce, "identity") {
			// nothing here decodes a compressed body: read as it is, a
			// gzip body is not JSON, and a plain one labelled gzip is a
			// client that is wrong about what it sent
			return httpErr(http.StatusUnsupportedMediaType, "not-supported", "Content-Encoding "+logcap.Cut(ce, 64)+" is not supported: send the body uncompressed")
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBody)
		return next(c)
	}
}

func tooLarge(limit int64) *HTTPError {
	return httpErr(http.StatusRequestEntityTooLarge, "too-costly", fmt.Sprintf("request body over %d bytes", limit))
}

// bodyError is the answer to a failed read of the request body: 413 when
// it ran past the limit (a chunked body has no length to refuse up front),
// 408 when it did not arrive within the server's read timeout, else 400
// with what.
func bodyError(err error, what string) *HTTPError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return httpErr(http.StatusRequestTimeout, "timeout", "the request body did not arrive in time")
	}
	return httpErr(http.StatusBadRequest, "invalid", what)
}
