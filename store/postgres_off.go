//go:build atollnopostgres

package store

import (
	"context"
	"errors"
	"time"
)

// Built with the atollnopostgres tag (atoll dev's builds, when ATOLL_DB
// is not a postgres:// URL), the server carries no PostgreSQL driver:
// a smaller binary that links sooner after each Go edit.

// Postgres is the PostgreSQL Store; in this build it cannot be opened.
type Postgres struct {
	sqlStore
}

// OpenPostgres refuses: this build has no PostgreSQL driver.
func OpenPostgres(ctx context.Context, url string, now func() time.Time, site ...Migration) (*Postgres, error) {
	return nil, errNoPostgres
}

var errNoPostgres = errors.New("store: this server was built without PostgreSQL (atoll dev leaves it out unless ATOLL_DB is a postgres:// URL when it starts)")

func postgresUnavailable(error) (unavailable, known bool) { return false, false }
