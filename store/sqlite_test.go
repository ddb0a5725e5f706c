package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clock is a test clock: Now reads t, and a test moves t by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func open(t *testing.T, path string, now func() time.Time, site ...Migration) *SQLite {
	t.Helper()
	s, err := OpenSQLite(path, now, site...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "atoll.db") }

func wantStats(t *testing.T, s *SQLite, want Stats) {
	t.Helper()
	got, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
}

func TestSQLitePragmas(t *testing.T) {
	s := open(t, dbPath(t), time.Now)
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
	} {
		var got string
		if err := s.db.QueryRow(`PRAGMA ` + tc.pragma).Scan(&got); err != nil || got != tc.want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", tc.pragma, got, err, tc.want)
		}
	}
}

func TestSQLiteGuestSession(t *testing.T) {
	ctx := context.Background()
	s := open(t, dbPath(t), newClock().Now)
	guest, err := s.NewSession(ctx)
	if err != nil || !ValidSessionID(guest.ID) || !guest.Guest() {
		t.Fatalf("new session %+v: %v", guest, err)
	}
	got, err := s.Session(ctx, guest.ID)
	if err != nil || got.ID != guest.ID || !got.Guest() || got.UserName != "" || !got.Expires.Equal(guest.Expires) {
		t.Fatalf("Session = %+v, %v; want %+v", got, err, guest)
	}
	other, _ := s.NewSession(ctx)
	if other.ID == guest.ID {
		t.Fatal("two sessions got the same id")
	}
	for _, id := range []string{"", "short", NewSessionID(), "'; DROP TABLE sessions; --", guest.ID + "x"} {
		if _, err := s.Session(ctx, id); !errors.Is(err, ErrNoSession) {
			t.Errorf("Session(%q) = %v, want ErrNoSession", id, err)
		}
	}
	wantStats(t, s, Stats{Users: 0, Sessions: 2})
}

func TestSQLiteSignInWithoutASessionMakesOne(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, dbPath(t), clk.Now)
	for _, replaces := range []string{"", "not-a-session-id", NewSessionID()} {
		sess, err := s.SignIn(ctx, "Ada", replaces)
		if err != nil || !ValidSessionID(sess.ID) || sess.Guest() || sess.UserName != "Ada" || !sess.Expires.Equal(clk.t.Add(SessionTTL)) {
			t.Fatalf("SignIn(replaces %q) = %+v, %v", replaces, sess, err)
		}
		got, err := s.Session(ctx, sess.ID)
		if err != nil || got.UserID != sess.UserID || got.UserName != "Ada" {
			t.Fatalf("Session after sign-in = %+v, %v", got, err)
		}
	}
	// Every sign-in makes a user; nothing was replaced.
	wantStats(t, s, Stats{Users: 3, Sessions: 3})
}

func TestSQLiteSignInReplacesTheSession(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, dbPath(t), clk.Now)
	guest, _ := s.NewSession(ctx)
	bystander, _ := s.NewSession(ctx)
	clk.t = clk.t.Add(time.Hour)

	user, err := s.SignIn(ctx, "Grace", guest.ID)
	if err != nil || user.ID == guest.ID || user.UserName != "Grace" || user.Guest() {
		t.Fatalf("sign in: %+v, %v (the session id must change)", user, err)
	}
	if _, err := s.Session(ctx, guest.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("the replaced session id still names a session: %v", err)
	}
	got, err := s.Session(ctx, user.ID)
	if err != nil || got.UserName != "Grace" || !got.Expires.Equal(clk.t.Add(SessionTTL)) {
		t.Fatalf("the signed-in session %+v, %v; want it to live a full SessionTTL from sign-in", got, err)
	}
	if _, err := s.Session(ctx, bystander.ID); err != nil {
		t.Fatalf("another visitor's session went: %v", err)
	}
	wantStats(t, s, Stats{Users: 1, Sessions: 2})

	// Signing in again, as someone else, moves the session once more.
	again, err := s.SignIn(ctx, "Hopper", user.ID)
	if err != nil || again.ID == user.ID || again.UserID == user.UserID {
		t.Fatalf("second sign in: %+v, %v", again, err)
	}
	if _, err := s.Session(ctx, user.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("the first user's session id still lives: %v", err)
	}
	wantStats(t, s, Stats{Users: 2, Sessions: 2})
}

func TestSQLiteSignInDoesNotRevive(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, dbPath(t), clk.Now)
	old, _ := s.NewSession(ctx)
	gone, _ := s.NewSession(ctx)
	if err := s.DeleteSession(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(SessionTTL)
	for _, replaces := range []string{old.ID, gone.ID} {
		sess, err := s.SignIn(ctx, "Ada", replaces)
		if err != nil || sess.ID == replaces {
			t.Fatalf("SignIn(replaces a dead session) = %+v, %v", sess, err)
		}
		if _, err := s.Session(ctx, replaces); !errors.Is(err, ErrNoSession) {
			t.Fatalf("signing in revived a dead session: %v", err)
		}
	}
	wantStats(t, s, Stats{Users: 2, Sessions: 2})
}

func TestSQLiteDeleteSession(t *testing.T) {
	ctx := context.Background()
	s := open(t, dbPath(t), newClock().Now)
	user, _ := s.SignIn(ctx, "Ada", "")
	keep, _ := s.NewSession(ctx)
	if err := s.DeleteSession(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, user.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("a deleted session still lives: %v", err)
	}
	if _, err := s.Session(ctx, keep.ID); err != nil {
		t.Fatalf("deleting one session took another: %v", err)
	}
	// Deleting what is not there is not an error; the user stays.
	if err := s.DeleteSession(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	wantStats(t, s, Stats{Users: 1, Sessions: 1})
}

func TestSQLiteExpiryAndPurge(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, dbPath(t), clk.Now)
	early, _ := s.SignIn(ctx, "Ada", "")
	clk.t = clk.t.Add(time.Hour)
	late, _ := s.NewSession(ctx)

	clk.t = early.Expires.Add(-time.Second)
	if _, err := s.Session(ctx, early.ID); err != nil {
		t.Fatalf("a session a second from its end is gone: %v", err)
	}
	clk.t = early.Expires
	if _, err := s.Session(ctx, early.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("a session at its expiry still lives: %v", err)
	}
	if _, err := s.Session(ctx, late.ID); err != nil {
		t.Fatalf("the later session is gone too early: %v", err)
	}
	// An expired session no longer counts, even before it is purged.
	wantStats(t, s, Stats{Users: 1, Sessions: 1})
	if n, err := s.PurgeExpired(ctx); err != nil || n != 1 {
		t.Fatalf("purge removed %d sessions (%v), want 1", n, err)
	}
	if n, err := s.PurgeExpired(ctx); err != nil || n != 0 {
		t.Fatalf("a second purge removed %d sessions (%v), want 0", n, err)
	}
	var rows int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d session rows after purge (%v), want 1", rows, err)
	}
	wantStats(t, s, Stats{Users: 1, Sessions: 1})
}

func TestSQLiteReopenKeepsStateAndPurges(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := dbPath(t)
	s := open(t, path, clk.Now)
	user, _ := s.SignIn(ctx, "Ada", "")
	clk.t = clk.t.Add(time.Hour)
	guest, _ := s.NewSession(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, clk.Now)
	if got, err := s.Session(ctx, user.ID); err != nil || got.UserName != "Ada" {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	wantStats(t, s, Stats{Users: 1, Sessions: 2})
	s.Close()

	// Opening purges what expired while the server was down.
	clk.t = user.Expires
	s = open(t, path, clk.Now)
	var rows int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d session rows after opening (%v), want the expired one purged", rows, err)
	}
	if _, err := s.Session(ctx, guest.ID); err != nil {
		t.Fatalf("the live session did not survive: %v", err)
	}
}

func TestOpenSQLiteFailsNamingThePath(t *testing.T) {
	_, err := OpenSQLite("/no/such/dir/atoll.db", time.Now)
	if err == nil || !strings.Contains(err.Error(), "/no/such/dir/atoll.db") {
		t.Fatalf("err = %v", err)
	}
}

// versions reads the migration bookkeeping.
func versions(t *testing.T, s *SQLite) map[string]int {
	t.Helper()
	rows, err := s.db.Query(`SELECT owner, version FROM atoll_migrations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	v := map[string]int{}
	for rows.Next() {
		var owner string
		var n int
		if err := rows.Scan(&owner, &n); err != nil {
			t.Fatal(err)
		}
		v[owner] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

// steps reads the log table the test migrations write to.
func steps(t *testing.T, s *SQLite) string {
	t.Helper()
	var got string
	if err := s.db.QueryRow(`SELECT COALESCE(group_concat(step, ' '), '') FROM (SELECT step FROM log ORDER BY rowid)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSiteMigrationsRunOnceEachInOrder(t *testing.T) {
	path := dbPath(t)
	blog := []Migration{
		{Owner: "blog", SQL: `CREATE TABLE log (step TEXT NOT NULL); INSERT INTO log VALUES ('blog1')`},
		{Owner: "blog", SQL: `INSERT INTO log VALUES ('blog2')`},
	}
	shop := []Migration{{Owner: "shop", SQL: `INSERT INTO log VALUES ('shop1')`}}
	s := open(t, path, time.Now, append(append([]Migration{}, blog...), shop...)...)
	if got := steps(t, s); got != "blog1 blog2 shop1" {
		t.Fatalf("steps run: %q", got)
	}
	if v := versions(t, s); len(v) != 3 || v["atoll"] != len(engineMigrations) || v["blog"] != 2 || v["shop"] != 1 {
		t.Fatalf("bookkeeping %v", v)
	}
	s.Close()

	// Reopening runs nothing again; a new step of one owner runs alone,
	// whatever place the owners' steps take in the list.
	more := append([]Migration{{Owner: "shop", SQL: `INSERT INTO log VALUES ('shop1')`}, {Owner: "shop", SQL: `INSERT INTO log VALUES ('shop2')`}}, blog...)
	s = open(t, path, time.Now, more...)
	if got := steps(t, s); got != "blog1 blog2 shop1 shop2" {
		t.Fatalf("steps run after reopening: %q", got)
	}
	if v := versions(t, s); v["blog"] != 2 || v["shop"] != 2 {
		t.Fatalf("bookkeeping %v", v)
	}
	s.Close()

	s = open(t, path, time.Now, more...)
	if got := steps(t, s); got != "blog1 blog2 shop1 shop2" {
		t.Fatalf("steps run after a second reopening: %q", got)
	}
}

func TestMigrationsAreAllOrNothing(t *testing.T) {
	path := dbPath(t)
	_, err := OpenSQLite(path, time.Now,
		Migration{Owner: "blog", SQL: `CREATE TABLE posts (id INTEGER PRIMARY KEY)`},
		Migration{Owner: "blog", SQL: `CREATE TABLE broken (`})
	if err == nil || !strings.Contains(err.Error(), `migration blog 2`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("a broken step: err = %v, want it named (blog 2) with the path", err)
	}
	s := open(t, path, time.Now)
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'posts'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the step before the broken one stayed applied (%d, %v)", n, err)
	}
	if v := versions(t, s); v["blog"] != 0 {
		t.Fatalf("bookkeeping %v after a failed migration", v)
	}
}

func TestMigrationsNewerThanTheProgramAreRefused(t *testing.T) {
	cases := []struct {
		name  string
		known []Migration
	}{
		{"one step fewer than the database has", []Migration{{Owner: "blog", SQL: `CREATE TABLE posts (id INTEGER)`}}},
		{"no step of that owner at all", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := dbPath(t)
			s := open(t, path, time.Now,
				Migration{Owner: "blog", SQL: `CREATE TABLE posts (id INTEGER)`},
				Migration{Owner: "blog", SQL: `ALTER TABLE posts ADD COLUMN title TEXT`})
			s.Close()
			_, err := OpenSQLite(path, time.Now, tc.known...)
			if err == nil || !strings.Contains(err.Error(), `"blog"`) || !strings.Contains(err.Error(), "newer than this program knows") {
				t.Fatalf("err = %v, want a refusal naming the owner", err)
			}
			// The refusal changed nothing: the newer program still opens it.
			s = open(t, path, time.Now,
				Migration{Owner: "blog", SQL: `CREATE TABLE posts (id INTEGER)`},
				Migration{Owner: "blog", SQL: `ALTER TABLE posts ADD COLUMN title TEXT`})
			if v := versions(t, s); v["blog"] != 2 {
				t.Fatalf("bookkeeping %v", v)
			}
		})
	}
}

func TestMigrationWithoutOwnerIsRefused(t *testing.T) {
	path := dbPath(t)
	_, err := OpenSQLite(path, time.Now, Migration{SQL: `CREATE TABLE posts (id INTEGER)`})
	if err == nil || !strings.Contains(err.Error(), "no owner") {
		t.Fatalf("err = %v", err)
	}
	s := open(t, path, time.Now)
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'posts'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the ownerless step ran (%d, %v)", n, err)
	}
}

func TestSiteMigrationCannotClaimTheEngineOwner(t *testing.T) {
	_, err := OpenSQLite(dbPath(t), time.Now, Migration{Owner: "atoll", SQL: `CREATE TABLE posts (id INTEGER)`})
	if err == nil || !strings.Contains(err.Error(), `"atoll"`) {
		t.Fatalf("err = %v: a site step owned by the engine would take the place of the engine's next step", err)
	}
}

// TestSiteRowsFollowTheirSession checks the contract the package doc
// gives sites: a row referencing sessions(id) with ON UPDATE CASCADE and
// ON DELETE CASCADE follows a sign-in and goes with sign-out and purge.
func TestSiteRowsFollowTheirSession(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, dbPath(t), clk.Now, Migration{Owner: "notes", SQL: `CREATE TABLE notes (
		session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE ON UPDATE CASCADE,
		body       TEXT NOT NULL)`})
	notes := func(id string) int {
		t.Helper()
		var n int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM notes WHERE session_id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	guest, _ := s.NewSession(ctx)
	if _, err := s.db.Exec(`INSERT INTO notes VALUES ($1, 'a'), ($1, 'b')`, guest.ID); err != nil {
		t.Fatal(err)
	}
	user, err := s.SignIn(ctx, "Ada", guest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if notes(user.ID) != 2 || notes(guest.ID) != 0 {
		t.Fatalf("after sign-in: %d notes under the new id, %d under the old", notes(user.ID), notes(guest.ID))
	}
	if err := s.DeleteSession(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	if notes(user.ID) != 0 {
		t.Fatal("deleting the session left its rows")
	}

	other, _ := s.NewSession(ctx)
	s.db.Exec(`INSERT INTO notes VALUES ($1, 'c')`, other.ID)
	clk.t = other.Expires
	if _, err := s.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if notes(other.ID) != 0 {
		t.Fatal("purging the session left its rows")
	}
}
