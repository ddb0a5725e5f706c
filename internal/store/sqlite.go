package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// migrations build the schema step by step; the database records how
// many it has applied, and startup applies the rest in order.
var migrations = []string{
	`CREATE TABLE users (
		id         INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE sessions (
		id         TEXT PRIMARY KEY,
		user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX sessions_expires ON sessions(expires_at);
	CREATE TABLE cart_items (
		session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
		product_id TEXT NOT NULL,
		qty        INTEGER NOT NULL CHECK (qty > 0),
		PRIMARY KEY (session_id, product_id)
	);`,
}

// SQLite is the embedded Store: one file, WAL mode, a busy timeout so
// concurrent writers wait rather than fail.
type SQLite struct {
	db  *sql.DB
	now func() time.Time
}

// OpenSQLite opens (creating if needed) the database file at path and
// migrates it. now is the clock for expiry.
func OpenSQLite(path string, now func() time.Time) (*SQLite, error) {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("store: open %s: directory %s: %w", path, dir, err)
		}
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	s := &SQLite{db: db, now: now}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if _, err := s.PurgeExpired(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLite) migrate() error {
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this server knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM schema_version; INSERT INTO schema_version VALUES (?)`, len(migrations)); err != nil {
		return err
	}
	return tx.Commit()
}

// PurgeExpired deletes expired sessions (and, by cascade, their carts) and
// reports how many went.
func (s *SQLite) PurgeExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, s.now().Unix())
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return res.RowsAffected()
}

// Ping implements Store.
func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// Session implements Store.
func (s *SQLite) Session(ctx context.Context, id string) (Session, error) {
	if !ValidSessionID(id) {
		return Session{}, ErrNoSession
	}
	var sess Session
	var userID sql.NullInt64
	var name sql.NullString
	var expires int64
	err := s.db.QueryRowContext(ctx, `SELECT s.id, s.user_id, u.name, s.expires_at FROM sessions s
		LEFT JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.expires_at > ?`, id, s.now().Unix()).
		Scan(&sess.ID, &userID, &name, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	sess.UserID, sess.UserName, sess.Expires = userID.Int64, name.String, time.Unix(expires, 0)
	return sess, nil
}

// UserName implements fragments.Sessions.
func (s *SQLite) UserName(ctx context.Context, id string) (string, bool, error) {
	sess, err := s.Session(ctx, id)
	if errors.Is(err, ErrNoSession) || (err == nil && sess.UserID == 0) {
		return "", false, nil
	}
	return sess.UserName, err == nil, err
}

// NewSession implements Store.
func (s *SQLite) NewSession(ctx context.Context) (Session, error) {
	now := s.now()
	sess := Session{ID: NewSessionID(), Expires: now.Add(SessionTTL)}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, NULL, ?, ?)`,
		sess.ID, now.Unix(), sess.Expires.Unix())
	if err != nil {
		return Session{}, fmt.Errorf("store: new session: %w", err)
	}
	return sess, nil
}

// SignIn implements Store.
func (s *SQLite) SignIn(ctx context.Context, name, replaces string) (Session, error) {
	now := s.now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Session{}, fmt.Errorf("store: sign in: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (name, created_at) VALUES (?, ?)`, name, now.Unix())
	if err != nil {
		return Session{}, fmt.Errorf("store: sign in: %w", err)
	}
	userID, _ := res.LastInsertId()
	sess := Session{ID: NewSessionID(), UserID: userID, UserName: name, Expires: now.Add(SessionTTL)}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		sess.ID, userID, now.Unix(), sess.Expires.Unix()); err != nil {
		return Session{}, fmt.Errorf("store: sign in: %w", err)
	}
	if replaces != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE cart_items SET session_id = ? WHERE session_id = ?`, sess.ID, replaces); err != nil {
			return Session{}, fmt.Errorf("store: sign in: move cart: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, replaces); err != nil {
			return Session{}, fmt.Errorf("store: sign in: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Session{}, fmt.Errorf("store: sign in: %w", err)
	}
	return sess, nil
}

// DeleteSession implements Store.
func (s *SQLite) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// MaxQty is the most of one product a cart may hold.
const MaxQty = 99

// ErrTooMany means an add would take a cart line past MaxQty.
var ErrTooMany = errors.New("store: too many of one product")

// AddToCart implements Store.
func (s *SQLite) AddToCart(ctx context.Context, sessionID, productID string, qty int) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: add to cart: %w", err)
	}
	defer tx.Rollback()
	var have int
	err = tx.QueryRowContext(ctx, `SELECT qty FROM cart_items WHERE session_id = ? AND product_id = ?`, sessionID, productID).Scan(&have)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: add to cart: %w", err)
	}
	if have+qty > MaxQty {
		return 0, ErrTooMany
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cart_items (session_id, product_id, qty) VALUES (?, ?, ?)
		ON CONFLICT (session_id, product_id) DO UPDATE SET qty = qty + excluded.qty`, sessionID, productID, qty); err != nil {
		return 0, fmt.Errorf("store: add to cart: %w", err)
	}
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(qty), 0) FROM cart_items WHERE session_id = ?`, sessionID).Scan(&count); err != nil {
		return 0, fmt.Errorf("store: add to cart: %w", err)
	}
	return count, tx.Commit()
}

// CartCount implements Store.
func (s *SQLite) CartCount(ctx context.Context, sessionID string) (int, error) {
	var count int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(c.qty), 0) FROM cart_items c JOIN sessions s ON s.id = c.session_id
		WHERE c.session_id = ? AND s.expires_at > ?`, sessionID, s.now().Unix()).Scan(&count)
	if err != nil {
		return 0, fmt.Errorf("store: cart count: %w", err)
	}
	return count, nil
}

// Stats implements Store.
func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM users),
		(SELECT COUNT(*) FROM sessions WHERE expires_at > ?),
		(SELECT COALESCE(SUM(c.qty), 0) FROM cart_items c JOIN sessions s ON s.id = c.session_id WHERE s.expires_at > ?)`,
		s.now().Unix(), s.now().Unix()).Scan(&st.Users, &st.Sessions, &st.CartItems)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	return st, nil
}

var _ Store = (*SQLite)(nil)
