package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/pgtest"
)

// backend opens a fresh store of one kind on a clock the test moves.
type backend struct {
	name string
	open func(t *testing.T, now func() time.Time, site ...Migration) Store
}

var backends = []backend{
	{"sqlite", func(t *testing.T, now func() time.Time, site ...Migration) Store {
		s, err := OpenSQLite(filepath.Join(t.TempDir(), "atoll.db"), now, site...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T, now func() time.Time, site ...Migration) Store {
		s, err := OpenPostgres(context.Background(), pgtest.Database(t), now, site...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// TestStoreContract runs the same checks against every backend: what
// the engine relies on a store to do.
func TestStoreContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			// A site table that belongs to a session, as a site would declare it.
			site := Migration{Owner: "site", SQL: `CREATE TABLE notes (
				session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE ON UPDATE CASCADE,
				body TEXT NOT NULL)`}
			s := b.open(t, clock, site)
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			notes := func(id string) int {
				var n int
				if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM notes WHERE session_id = $1`, id).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			guest, err := s.NewSession(ctx)
			if err != nil || !ValidSessionID(guest.ID) || !guest.Guest() {
				t.Fatalf("guest session %+v: %v", guest, err)
			}
			if got, err := s.Session(ctx, guest.ID); err != nil || got.ID != guest.ID || !got.Guest() {
				t.Fatalf("Session(guest) = %+v, %v", got, err)
			}
			if _, err := s.DB().ExecContext(ctx, `INSERT INTO notes (session_id, body) VALUES ($1, 'x'), ($1, 'y')`, guest.ID); err != nil {
				t.Fatal(err)
			}
			user, err := s.SignIn(ctx, "Ada", guest.ID)
			if err != nil || user.ID == guest.ID || user.UserName != "Ada" || user.Guest() {
				t.Fatalf("sign in: %+v, %v (the session id must change)", user, err)
			}
			if _, err := s.Session(ctx, guest.ID); !errors.Is(err, ErrNoSession) {
				t.Fatalf("the replaced session still lives: %v", err)
			}
			if n := notes(user.ID); n != 2 {
				t.Fatalf("the site's rows did not follow the session to its new id: %d", n)
			}
			if got, err := s.Session(ctx, user.ID); err != nil || got.UserName != "Ada" || got.UserID != user.UserID {
				t.Fatalf("Session(user) = %+v, %v", got, err)
			}
			// Signing in without a live session to replace makes a new one.
			other, err := s.SignIn(ctx, "Grace", NewSessionID())
			if err != nil || other.UserName != "Grace" {
				t.Fatalf("sign in without a session: %+v, %v", other, err)
			}
			if st, err := s.Stats(ctx); err != nil || st != (Stats{Users: 2, Sessions: 2}) {
				t.Fatalf("stats %+v, %v", st, err)
			}
			for _, bad := range []string{"", "forged", NewSessionID(), "'; DROP TABLE sessions; --"} {
				if _, err := s.Session(ctx, bad); !errors.Is(err, ErrNoSession) {
					t.Fatalf("Session(%q) = %v, want ErrNoSession", bad, err)
				}
			}
			if err := s.DeleteSession(ctx, user.ID); err != nil {
				t.Fatal(err)
			}
			if n := notes(user.ID); n != 0 {
				t.Fatalf("deleting a session left %d of its rows", n)
			}
			// Expiry, then the purge.
			mu.Lock()
			now = now.Add(SessionTTL + time.Second)
			mu.Unlock()
			if _, err := s.Session(ctx, other.ID); !errors.Is(err, ErrNoSession) {
				t.Fatalf("an expired session still lives: %v", err)
			}
			if st, _ := s.Stats(ctx); st.Sessions != 0 {
				t.Fatalf("an expired session still counts: %+v", st)
			}
			if n, err := s.PurgeExpired(ctx); err != nil || n != 1 {
				t.Fatalf("purge removed %d (%v), want 1", n, err)
			}
		})
	}
}

// TestPostgresMigrationsRunOnceUnderConcurrentStarts opens one database
// from four goroutines at once, as replicas starting together would: the
// advisory lock lets one migrate and the others find the work done. A
// program that knows fewer steps than the database has is refused.
func TestPostgresMigrationsRunOnceUnderConcurrentStarts(t *testing.T) {
	url := pgtest.Database(t)
	site := []Migration{{Owner: "site", SQL: `CREATE TABLE things (id TEXT PRIMARY KEY)`}}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenPostgres(context.Background(), url, time.Now, site...)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("replicas starting together: %v", err)
		}
	}
	_, err := OpenPostgres(context.Background(), url, time.Now)
	if err == nil || !strings.Contains(err.Error(), `"site"`) {
		t.Fatalf("opening without the site's migrations: %v, want a refusal naming the owner", err)
	}
}

// TestTxContract checks what actions rely on: one transaction that the
// store's methods and From join, committed or rolled back whole, and the
// keys of answers claimed and recorded in it.
func TestTxContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			site := Migration{Owner: "site", SQL: `CREATE TABLE notes (body TEXT NOT NULL)`}
			s := b.open(t, time.Now, site)
			notes := func() (n int) {
				if err := s.DB().QueryRow(`SELECT COUNT(*) FROM notes`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if _, ok := From(ctx, s.DB()).(*sql.DB); !ok {
				t.Fatal("From outside a transaction is not the database")
			}
			boom := errors.New("boom")
			var guest Session
			err := s.Tx(ctx, func(ctx context.Context) error {
				if _, ok := From(ctx, s.DB()).(*sql.Tx); !ok {
					t.Fatal("From inside Tx is not the transaction")
				}
				var err error
				if guest, err = s.NewSession(ctx); err != nil {
					return err
				}
				if _, err := From(ctx, s.DB()).ExecContext(ctx, `INSERT INTO notes (body) VALUES ('x')`); err != nil {
					return err
				}
				// A Tx inside joins this one; its error rolls back both.
				return s.Tx(ctx, func(ctx context.Context) error {
					if _, err := s.SignIn(ctx, "Ada", guest.ID); err != nil {
						return err
					}
					return boom
				})
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Tx = %v, want the function's error", err)
			}
			if st, _ := s.Stats(ctx); notes() != 0 || st != (Stats{}) {
				t.Fatalf("a rolled-back Tx left %d notes and %+v", notes(), st)
			}
			if err := s.Tx(ctx, func(ctx context.Context) error {
				_, err := From(ctx, s.DB()).ExecContext(ctx, `INSERT INTO notes (body) VALUES ('y')`)
				return err
			}); err != nil || notes() != 1 {
				t.Fatalf("a committed Tx: %v, %d notes", err, notes())
			}

			// Writers at once: each waits its turn, none fails as busy.
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- s.Tx(ctx, func(ctx context.Context) error {
						if _, err := s.NewSession(ctx); err != nil {
							return err
						}
						_, err := From(ctx, s.DB()).ExecContext(ctx, `INSERT INTO notes (body) VALUES ('z')`)
						return err
					})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent writers: %v", err)
				}
			}
			if notes() != 17 {
				t.Fatalf("%d notes after 16 concurrent writers, want 17", notes())
			}

			// Keys.
			claim := func(fp string) (Answer, bool, error) {
				var a Answer
				var found bool
				err := s.Tx(ctx, func(ctx context.Context) error {
					var err error
					if a, found, err = s.ClaimKey(ctx, "scope", "key-0123456789abcdef", fp); err != nil || found {
						return err
					}
					return s.RecordAnswer(ctx, "scope", "key-0123456789abcdef", Answer{Status: 200, Trigger: "t", Body: []byte("<b>ok</b>"), Cookies: []string{"a=1; Path=/", "b=2"}})
				})
				return a, found, err
			}
			if _, found, err := claim("fp"); err != nil || found {
				t.Fatalf("first claim: found %v, %v", found, err)
			}
			a, found, err := claim("fp")
			if err != nil || !found || a.Status != 200 || a.Trigger != "t" || string(a.Body) != "<b>ok</b>" || len(a.Cookies) != 2 || a.Cookies[1] != "b=2" {
				t.Fatalf("second claim: %+v, found %v, %v; want the recorded answer", a, found, err)
			}
			if _, _, err := claim("other"); !errors.Is(err, ErrKeyReused) {
				t.Fatalf("a claim with another fingerprint: %v, want ErrKeyReused", err)
			}
			if err := s.Tx(ctx, func(ctx context.Context) error {
				return s.RecordAnswer(ctx, "scope", "never-claimed-0123456789", Answer{Status: 200})
			}); err == nil {
				t.Fatal("an answer was recorded for a key never claimed")
			}
		})
	}
}
