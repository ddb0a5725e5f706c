package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atollhq/atoll/config"
)

// Open opens the store that dsn names, applying the engine's migrations
// and then the site's: PostgreSQL for a postgres:// or postgresql://
// URL, otherwise a SQLite file path, whose directory is made when it is
// missing.
func Open(ctx context.Context, dsn string, now func() time.Time, site ...Migration) (Store, error) {
	if IsPostgres(dsn) {
		return OpenPostgres(ctx, dsn, now, site...)
	}
	if dsn != ":memory:" && !strings.HasPrefix(dsn, "file:") {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
			return nil, fmt.Errorf("store: make the directory of %s: %w", dsn, err)
		}
	}
	return OpenSQLite(dsn, now, site...)
}

// IsPostgres reports whether dsn is a PostgreSQL URL.
func IsPostgres(dsn string) bool { return config.IsPostgres(dsn) }
