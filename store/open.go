package store

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Open opens the store that dsn names, applying the engine's migrations
// and then site's: today a SQLite file path. When mkdir is true the
// file's directory is made first (for the default data/ directory).
func Open(dsn string, now func() time.Time, mkdir bool, site ...Migration) (Store, error) {
	if mkdir {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return OpenSQLite(dsn, now, site...)
}
