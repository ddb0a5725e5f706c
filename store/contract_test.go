package store

import (
	"context"
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
