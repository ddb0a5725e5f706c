package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// sqlStore is the Store over database/sql that SQLite and Postgres
// share: the same tables and the same statements ($n placeholders,
// RETURNING and ON CONFLICT mean the same to both).
type sqlStore struct {
	db  *sql.DB
	now func() time.Time
	// tryLock takes a lock for the rest of tx, or reports that another
	// holder has it; nil where one process owns the database (SQLite).
	tryLock func(ctx context.Context, tx *sql.Tx, key int64) (bool, error)
	// closed runs after the database is closed.
	closed func()
	// writer, where one process owns the database (SQLite), queues this
	// process's transactions for its one write lock; nil otherwise.
	writer chan struct{}
}

// Advisory lock keys (PostgreSQL), one per job that runs once per
// cluster.
const (
	migrateLock int64 = 0x61746f6c6c01 // "atoll" 1
	purgeLock   int64 = 0x61746f6c6c02
)

// checkSite refuses site migrations owned by the engine: the engine
// counts every "atoll" step as its own, so a site's would stand in for
// the engine's next one, which would then never run.
func checkSite(site []Migration) error {
	for _, m := range site {
		if m.Owner == "atoll" {
			return fmt.Errorf("a site migration is owned by %q, the engine's owner", m.Owner)
		}
	}
	return nil
}

// migrate applies, in one transaction, every step not yet applied. The
// database records how many steps of each owner it has; a database that
// has more than this program knows is refused rather than guessed at.
func migrate(db *sql.DB, lock func(ctx context.Context, tx *sql.Tx) error, steps []Migration) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if lock != nil {
		if err := lock(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS atoll_migrations (owner TEXT PRIMARY KEY, version INTEGER NOT NULL)`); err != nil {
		return err
	}
	known := map[string]int{}
	for _, m := range steps {
		if m.Owner == "" {
			return errors.New("a migration has no owner")
		}
		known[m.Owner]++
	}
	applied := map[string]int{}
	rows, err := tx.QueryContext(ctx, `SELECT owner, version FROM atoll_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var owner string
		var v int
		if err := rows.Scan(&owner, &v); err != nil {
			rows.Close()
			return err
		}
		applied[owner] = v
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for owner, v := range applied {
		if v > known[owner] {
			return fmt.Errorf("the database has %d %q migrations, newer than this program knows (%d)", v, owner, known[owner])
		}
	}
	seen := map[string]int{}
	for _, m := range steps {
		seen[m.Owner]++
		n := seen[m.Owner]
		if n <= applied[m.Owner] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s %d: %w", m.Owner, n, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO atoll_migrations (owner, version) VALUES ($1, $2)
			ON CONFLICT (owner) DO UPDATE SET version = excluded.version`, m.Owner, n); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DB implements Store.
func (s *sqlStore) DB() *sql.DB { return s.db }

// PurgeExpired implements Store. With several replicas on one database
// only one purges at a time: the others find the lock taken and skip.
func (s *sqlStore) PurgeExpired(ctx context.Context) (int64, error) {
	var n int64
	err := s.Tx(ctx, func(ctx context.Context) error {
		tx, _ := txFrom(ctx)
		if s.tryLock != nil {
			if ok, err := s.tryLock(ctx, tx, purgeLock); err != nil || !ok {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, s.now().Unix())
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM action_answers WHERE expires_at <= $1`, s.now().Unix())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return n, nil
}

// Ping implements Store.
func (s *sqlStore) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *sqlStore) Close() error {
	err := s.db.Close()
	if s.closed != nil {
		s.closed()
	}
	return err
}

// Session implements Store.
func (s *sqlStore) Session(ctx context.Context, id string) (Session, error) {
	if !ValidSessionID(id) {
		return Session{}, ErrNoSession
	}
	var sess Session
	var userID sql.NullInt64
	var name sql.NullString
	var expires int64
	err := From(ctx, s.db).QueryRowContext(ctx, `SELECT s.id, s.user_id, u.name, s.expires_at FROM sessions s
		LEFT JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expires_at > $2`, id, s.now().Unix()).
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

// NewSession implements Store.
func (s *sqlStore) NewSession(ctx context.Context) (Session, error) {
	now := s.now()
	sess := Session{ID: NewSessionID(), Expires: now.Add(SessionTTL)}
	_, err := From(ctx, s.db).ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, NULL, $2, $3)`,
		sess.ID, now.Unix(), sess.Expires.Unix())
	if err != nil {
		return Session{}, fmt.Errorf("store: new session: %w", err)
	}
	return sess, nil
}

// SignIn implements Store. Its statements are one transaction: the
// caller's, when ctx carries one (see Tx), or its own.
func (s *sqlStore) SignIn(ctx context.Context, name, replaces string) (Session, error) {
	var sess Session
	err := s.Tx(ctx, func(ctx context.Context) error {
		var err error
		sess, err = s.signIn(ctx, From(ctx, s.db), name, replaces)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("store: sign in: %w", err)
	}
	return sess, nil
}

func (s *sqlStore) signIn(ctx context.Context, tx Querier, name, replaces string) (Session, error) {
	now := s.now()
	var userID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO users (name, created_at) VALUES ($1, $2) RETURNING id`, name, now.Unix()).Scan(&userID); err != nil {
		return Session{}, err
	}
	sess := Session{ID: NewSessionID(), UserID: userID, UserName: name, Expires: now.Add(SessionTTL)}
	moved := int64(0)
	if ValidSessionID(replaces) {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET id = $1, user_id = $2, created_at = $3, expires_at = $4
			WHERE id = $5 AND expires_at > $3`, sess.ID, userID, now.Unix(), sess.Expires.Unix(), replaces)
		if err != nil {
			return Session{}, err
		}
		moved, _ = res.RowsAffected()
	}
	if moved == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			sess.ID, userID, now.Unix(), sess.Expires.Unix()); err != nil {
			return Session{}, err
		}
	}
	return sess, nil
}

// DeleteSession implements Store.
func (s *sqlStore) DeleteSession(ctx context.Context, id string) error {
	if _, err := From(ctx, s.db).ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Stats implements Store.
func (s *sqlStore) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM sessions WHERE expires_at > $1)`,
		s.now().Unix()).Scan(&st.Users, &st.Sessions)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	return st, nil
}
