package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Querier is what *sql.DB and *sql.Tx have in common: the statements a
// site's own code runs. From picks the one a context calls for.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Tx)(nil)
)

type txKey struct{}

// WithTx returns a copy of ctx that carries tx, for From.
func WithTx(ctx context.Context, tx *sql.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// txFrom returns the transaction ctx carries, if any.
func txFrom(ctx context.Context) (*sql.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*sql.Tx)
	return tx, ok && tx != nil
}

// From returns the transaction ctx carries (an action's: see Store.Tx),
// or db when it carries none. Code that may run inside an action reaches
// the database through it, so that its statements commit or roll back
// with the action's:
//
//	store.From(ctx, db).ExecContext(ctx, `INSERT …`)
//
// On SQLite a write made on db itself while the action's transaction
// holds the write lock would wait for that lock until its deadline.
func From(ctx context.Context, db *sql.DB) Querier {
	if tx, ok := txFrom(ctx); ok {
		return tx
	}
	return db
}

// Tx implements Store. On SQLite, transactions of this process queue in
// Go for the one write lock (each begins IMMEDIATE), so that waiting for
// it ends with ctx rather than after the busy timeout.
func (s *sqlStore) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := txFrom(ctx); ok {
		return fn(ctx)
	}
	if s.writer != nil {
		// At most as long as SQLite's own busy timeout: a Tx begun with a
		// context that never ends, while this goroutine's caller holds
		// the lock, fails as it would have in SQLite rather than hang.
		wait := time.NewTimer(busyTimeout)
		defer wait.Stop()
		select {
		case s.writer <- struct{}{}:
			defer func() { <-s.writer }()
		case <-ctx.Done():
			return fmt.Errorf("store: begin: %w", context.Cause(ctx))
		case <-wait.C:
			return fmt.Errorf("store: begin: no write lock within %s", busyTimeout)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	// Rollback uses ctx too: once ctx has ended it does not wait on a
	// database that stopped answering.
	defer tx.Rollback()
	if err := fn(WithTx(ctx, tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
