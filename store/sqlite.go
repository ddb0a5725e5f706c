package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// engineMigrations build the engine's tables. IF NOT EXISTS keeps a
// database made before migrations had owners working.
var engineMigrations = []Migration{
	{Owner: "atoll", SQL: `CREATE TABLE IF NOT EXISTS users (
		id         INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE IF NOT EXISTS sessions (
		id         TEXT PRIMARY KEY,
		user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires_at);
	DROP TABLE IF EXISTS schema_version;`},
	{Owner: "atoll", SQL: answersTable("INTEGER", "BLOB")},
}

// busyTimeout is how long a SQLite writer waits for the write lock.
const busyTimeout = 5 * time.Second

// SQLite is the embedded Store: one file, WAL mode, foreign keys on, a
// busy timeout so concurrent writers wait rather than fail.
type SQLite struct {
	sqlStore
}

// OpenSQLite opens (creating if needed) the database file at path and
// applies the engine's migrations, then the site's, each once. now is
// the clock for expiry.
func OpenSQLite(path string, now func() time.Time, site ...Migration) (*SQLite, error) {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("store: open %s: directory %s: %w", path, dir, err)
		}
	}
	if err := checkSite(site); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(" + strconv.Itoa(int(busyTimeout/time.Millisecond)) + ")&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	s := &SQLite{sqlStore{db: db, now: now, writer: make(chan struct{}, 1)}}
	if err := migrate(db, nil, append(append([]Migration{}, engineMigrations...), site...)); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if _, err := s.PurgeExpired(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

var _ Store = (*SQLite)(nil)
