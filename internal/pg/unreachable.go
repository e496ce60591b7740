package pg

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// IsUnreachable reports whether err says the database could not be reached or went away: a
// connection that could not be made (refused, timed out, the server starting up or shutting down),
// one lost mid-way (reset, closed, cut off), the pool closed, or the server ending the session
// (SQLSTATE class 08, and 57P01–57P03: admin shutdown, crash shutdown, cannot connect now). Nothing
// in the request was wrong; the same request may succeed once the database is back.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, puddle.ErrClosedPool) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	// A socket that broke under the driver. Only an error that came through the driver counts (it
	// marks its errors with SafeToRetry), so that, say, a truncated upload's unexpected EOF does not
	// pass for an outage.
	var driver interface{ SafeToRetry() bool }
	if !errors.As(err, &driver) {
		return false
	}
	for _, lost := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.EPIPE} {
		if errors.Is(err, lost) {
			return true
		}
	}
	return false
}
