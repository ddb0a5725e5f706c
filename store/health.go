package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"modernc.org/sqlite"
)

// Unavailable reports whether err means that the store could not be
// reached or could not do the work at all, rather than that the work was
// wrong: a connection refused, lost or reset, a server shutting down or
// refusing connections, a SQLite database that is locked past its busy
// timeout, unreadable or full. The engine answers such a failure with
// 503 and Retry-After, counts it and logs the outage once, instead of an
// error line for every request. A deadline that passes while the store
// hangs is not one of them: that is the caller's timeout (504).
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if unavailable, known := postgresUnavailable(err); known {
		return unavailable
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff { // the primary result code
		case 5, 6, 10, 13, 14: // BUSY, LOCKED, IOERR, FULL, CANTOPEN
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && !ne.Timeout() {
		return true
	}
	// pgx reports a connection that broke under a query in plain errors.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset by peer") ||
		strings.Contains(msg, "broken pipe")
}
