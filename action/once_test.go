package action_test

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/internal/pgtest"
	"github.com/atollhq/atoll/store"
)

// notes is a site table the test actions write to.
var notes = store.Migration{Owner: "test", SQL: `CREATE TABLE notes (body TEXT NOT NULL)`}

type backend struct {
	name string
	open func(t *testing.T) store.Store
}

var backends = []backend{
	{"sqlite", func(t *testing.T) store.Store {
		s, err := store.OpenSQLite(filepath.Join(t.TempDir(), "atoll.db"), time.Now, notes)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) store.Store {
		s, err := store.OpenPostgres(context.Background(), pgtest.Database(t), time.Now, notes)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// site is an engine on a real store behind a fiber app whose error
// handler answers as the server's does: a Problem with its status and
// message, a deadline with 504, anything else with 500.
type site struct {
	app   *fiber.App
	store store.Store
	runs  atomic.Int64 // handler runs of "note"
}

func newSite(t *testing.T, st store.Store, timeout time.Duration, extra ...action.Action) *site {
	t.Helper()
	s := &site{store: st}
	set := action.NewSet()
	// note writes a row and a guest session, and answers with the number
	// of rows it then sees, all in its transaction.
	set.Register(action.Action{
		Name:      "note",
		Fields:    []action.Field{{Name: "body", Required: true, Message: "Write something."}},
		Announces: []string{"notes-changed"},
		Handle: func(r *action.Request) (template.HTML, error) {
			s.runs.Add(1)
			if _, err := r.EnsureSession(); err != nil {
				return "", err
			}
			q := store.From(r.Context(), st.DB())
			if _, err := q.ExecContext(r.Context(), `INSERT INTO notes (body) VALUES ($1)`, r.Value("body")); err != nil {
				return "", err
			}
			var n int
			if err := q.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM notes`).Scan(&n); err != nil {
				return "", err
			}
			switch r.Value("body") {
			case "fail":
				return "", errors.New("the handler failed after writing")
			case "refuse":
				return "", action.Refuse(http.StatusUnprocessableEntity, "Not that.")
			case "slow": // outlives its deadline after writing
				<-r.Context().Done()
				return "", r.Context().Err()
			}
			return action.OK(fmt.Sprintf("%d notes", n)), nil
		},
	})
	for _, a := range extra {
		set.Register(a)
	}
	e, err := action.NewEngine(action.Options{Store: st, Actions: set, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	s.app = fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		var p *action.Problem
		switch {
		case errors.As(err, &p):
			return c.Status(p.Status).SendString(p.Message)
		case errors.Is(err, context.DeadlineExceeded):
			return c.Status(http.StatusGatewayTimeout).SendString("too late")
		}
		return c.Status(http.StatusInternalServerError).SendString("internal")
	}})
	s.app.Post("/actions/*", e.Handle)
	return s
}

type reply struct {
	status  int
	header  http.Header
	body    string
	elapsed time.Duration
}

func (s *site) post(t *testing.T, name, key, cookie string, form url.Values) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/actions/"+name, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if cookie != "" {
		req.Header.Set("Cookie", store.SessionCookie+"="+cookie)
	}
	start := time.Now()
	res, err := s.app.Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: string(b), elapsed: time.Since(start)}
}

func (s *site) count(t *testing.T, body string) int {
	t.Helper()
	var n int
	if err := s.store.DB().QueryRow(`SELECT COUNT(*) FROM notes WHERE body = $1`, body).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (s *site) sessions(t *testing.T) int {
	t.Helper()
	st, err := s.store.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Sessions
}

func forEach(t *testing.T, f func(t *testing.T, st store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.open(t)) })
	}
}

func form(body string) url.Values { return url.Values{"body": {body}} }

func TestActionWritesRollBackWhenItFails(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		s := newSite(t, st, 2*time.Second)
		for _, tc := range []struct {
			body   string
			status int
		}{{"fail", 500}, {"refuse", 422}} {
			r := s.post(t, "note", "", "", form(tc.body))
			if r.status != tc.status {
				t.Fatalf("%s: %d %q, want %d", tc.body, r.status, r.body, tc.status)
			}
			if n := s.count(t, tc.body); n != 0 {
				t.Errorf("%s: %d rows stayed, want the insert rolled back", tc.body, n)
			}
			if c := r.header.Get("Set-Cookie"); c != "" {
				t.Errorf("%s: Set-Cookie %q for a session that was rolled back", tc.body, c)
			}
		}
		if n := s.sessions(t); n != 0 {
			t.Errorf("%d sessions stayed, want the guest sessions rolled back", n)
		}
		if r := s.post(t, "note", "", "", form("kept")); r.status != 200 || r.body != `<span class="ok">1 notes</span>` || s.count(t, "kept") != 1 {
			t.Fatalf("a keyless note: %d %q; the count it answers with is read in its own transaction", r.status, r.body)
		}
	})
}

func TestActionAnswersWithinItsDeadlineAndRollsBack(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		const deadline = 300 * time.Millisecond
		s := newSite(t, st, deadline)
		r := s.post(t, "note", "", "", form("slow"))
		if r.status != http.StatusGatewayTimeout || r.header.Get("Retry-After") == "" {
			t.Fatalf("a handler past its deadline: %d %q Retry-After %q, want 504 with Retry-After", r.status, r.body, r.header.Get("Retry-After"))
		}
		if r.elapsed > deadline+time.Second {
			t.Errorf("answered after %s, deadline %s", r.elapsed, deadline)
		}
		if n := s.count(t, "slow"); n != 0 || s.sessions(t) != 0 || r.header.Get("Set-Cookie") != "" {
			t.Errorf("%d rows, %d sessions, Set-Cookie %q after the deadline, want none", n, s.sessions(t), r.header.Get("Set-Cookie"))
		}
	})
}

// TestActionAnswersWithinItsDeadlineWhenTheStoreHangs holds a lock the
// action's statements need from another connection, as a store that
// stops answering would: the action answers 504 at its deadline, and
// once the lock goes its writes are not there.
func TestActionAnswersWithinItsDeadlineWhenTheStoreHangs(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		const deadline = 500 * time.Millisecond
		s := newSite(t, st, deadline)
		ctx := context.Background()
		// On SQLite another writer holds the file's write lock (a second
		// handle, as another process would); on PostgreSQL a transaction
		// holds the table.
		var release func()
		if _, ok := st.(*store.SQLite); ok {
			other, err := store.OpenSQLite(sqlitePath(t, st), time.Now, notes)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			tx, err := other.DB().BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`INSERT INTO notes (body) VALUES ('holder')`); err != nil {
				t.Fatal(err)
			}
			release = func() { tx.Rollback() }
		} else {
			tx, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`LOCK TABLE notes IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			release = func() { tx.Rollback() }
		}
		r := s.post(t, "note", "0123456789abcdef-hung", "", form("hung"))
		release()
		if r.status != http.StatusGatewayTimeout && r.status != http.StatusServiceUnavailable {
			t.Fatalf("a hung store: %d %q, want 504 or 503", r.status, r.body)
		}
		if r.elapsed > deadline+time.Second {
			t.Errorf("answered after %s, deadline %s", r.elapsed, deadline)
		}
		if n := s.count(t, "hung"); n != 0 || s.sessions(t) != 0 {
			t.Errorf("%d rows and %d sessions after the deadline, want none", n, s.sessions(t))
		}
		// The same key again, with the store back: the action runs now.
		if r := s.post(t, "note", "0123456789abcdef-hung", "", form("hung")); r.status != 200 || s.count(t, "hung") != 1 || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("the retry once the store answers: %d %q, %d rows", r.status, r.body, s.count(t, "hung"))
		}
	})
}

func sqlitePath(t *testing.T, st store.Store) string {
	t.Helper()
	var file string
	if err := st.DB().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestARepeatedKeyGetsTheFirstAnswer(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		s := newSite(t, st, 2*time.Second)
		key := "3f9a1c0e5b7d4e2a8c6b0d1f2e3a4b5c"
		first := s.post(t, "note", key, "", form("once"))
		cookie := first.header.Get("Set-Cookie")
		if first.status != 200 || !strings.HasPrefix(cookie, store.SessionCookie+"=") || first.header.Get("HX-Trigger") != "notes-changed" {
			t.Fatalf("first: %d %q cookie %q trigger %q", first.status, first.body, cookie, first.header.Get("HX-Trigger"))
		}
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("the first answer says it is replayed")
		}
		for i := range 3 {
			again := s.post(t, "note", key, "", form("once"))
			if again.status != first.status || again.body != first.body || again.header.Get("HX-Trigger") != "notes-changed" ||
				again.header.Get("Set-Cookie") != cookie || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("repeat %d: %d %q cookie %q trigger %q replayed %q; want the first answer again", i, again.status, again.body,
					again.header.Get("Set-Cookie"), again.header.Get("HX-Trigger"), again.header.Get("Idempotent-Replayed"))
			}
		}
		if n, runs := s.count(t, "once"), s.runs.Load(); n != 1 || runs != 1 || s.sessions(t) != 1 {
			t.Fatalf("%d rows, %d runs, %d sessions after four sends of one key, want 1 each", n, runs, s.sessions(t))
		}
		// The key is the session's: the same key from a visitor with a
		// session is another submission.
		sess := strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], store.SessionCookie+"=")
		if r := s.post(t, "note", key, sess, form("once")); r.status != 200 || r.header.Get("Idempotent-Replayed") != "" || s.count(t, "once") != 2 {
			t.Fatalf("the key in another session: %d %q replayed %q", r.status, r.body, r.header.Get("Idempotent-Replayed"))
		}
		// The same key with other values is refused, not replayed.
		if r := s.post(t, "note", key, "", form("other")); r.status != http.StatusUnprocessableEntity || s.count(t, "other") != 0 {
			t.Fatalf("the key with another body: %d %q, want 422", r.status, r.body)
		}
		// A refused or failed request records nothing: its key runs again.
		for _, body := range []string{"refuse", "fail"} {
			k := "retry-after-" + body + "-0123456789"
			s.post(t, "note", k, "", form(body))
			before := s.runs.Load()
			s.post(t, "note", k, "", form(body))
			if s.runs.Load() != before+1 {
				t.Errorf("a %s key was replayed; nothing was applied, so it runs again", body)
			}
		}
	})
}

func TestAConcurrentRepeatWaitsForTheFirst(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		entered := make(chan struct{}, 8)
		release := make(chan struct{})
		var runs atomic.Int64
		gate := action.Action{Name: "gate", Handle: func(r *action.Request) (template.HTML, error) {
			runs.Add(1)
			entered <- struct{}{}
			<-release
			if _, err := store.From(r.Context(), st.DB()).ExecContext(r.Context(), `INSERT INTO notes (body) VALUES ('gate')`); err != nil {
				return "", err
			}
			return action.OK("gated"), nil
		}}
		s := newSite(t, st, 5*time.Second, gate)
		const key = "concurrent-0123456789abcdef"
		replies := make(chan reply, 4)
		var wg sync.WaitGroup
		send := func() {
			defer wg.Done()
			replies <- s.post(t, "gate", key, "", url.Values{})
		}
		wg.Add(1)
		go send()
		<-entered // the first holds the key, inside its transaction
		for range 3 {
			wg.Add(1)
			go send()
		}
		// The repeats are waiting for the first: on PostgreSQL each on
		// the key's row, which the database shows as a lock not granted;
		// on SQLite for the write lock. None may enter the handler.
		if _, ok := st.(*store.Postgres); ok {
			waiting := 0
			for i := 0; i < 500 && waiting < 3; i++ {
				if err := st.DB().QueryRow(`SELECT COUNT(*) FROM pg_locks WHERE NOT granted`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if waiting < 3 {
				t.Fatalf("%d repeats wait on a lock, want 3", waiting)
			}
		}
		select {
		case <-entered:
			t.Fatal("a repeat ran the action while the first was running")
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		wg.Wait()
		close(replies)
		replayed := 0
		for r := range replies {
			if r.status != 200 || r.body != `<span class="ok">gated</span>` {
				t.Errorf("a reply %d %q, want the first answer", r.status, r.body)
			}
			if r.header.Get("Idempotent-Replayed") == "true" {
				replayed++
			}
		}
		if runs.Load() != 1 || replayed != 3 || s.count(t, "gate") != 1 {
			t.Fatalf("%d runs, %d replayed, %d rows; want 1, 3, 1", runs.Load(), replayed, s.count(t, "gate"))
		}
	})
}

func TestMalformedKeysAreRefused(t *testing.T) {
	st := backends[0].open(t)
	s := newSite(t, st, time.Second)
	for _, key := range []string{"short", strings.Repeat("a", 129), "0123456789abcdef ghij", "0123456789abcdef/ghij", "0123456789abcdefé", `"0123456789abcdef`} {
		if r := s.post(t, "note", key, "", form("bad")); r.status != http.StatusBadRequest {
			t.Errorf("key %q: %d %q, want 400", key, r.status, r.body)
		}
	}
	if s.runs.Load() != 0 || s.count(t, "bad") != 0 {
		t.Fatal("a malformed key ran the action")
	}
	for _, key := range []string{"0123456789abcdef", `"0123456789abcdef-quoted"`, "AZaz09-_.:" + strings.Repeat("x", 118)} {
		if r := s.post(t, "note", key, "", form("good")); r.status != 200 {
			t.Errorf("key %q: %d %q, want 200", key, r.status, r.body)
		}
	}
}

func TestExpiredAnswersArePurged(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		err := st.Tx(ctx, func(ctx context.Context) error {
			if _, found, err := st.ClaimKey(ctx, "", "purge-0123456789abcdef", "fp"); err != nil || found {
				return fmt.Errorf("claim: found %v, %w", found, err)
			}
			return st.RecordAnswer(ctx, "", "purge-0123456789abcdef", store.Answer{Status: 204})
		})
		if err != nil {
			t.Fatal(err)
		}
		count := func() (n int) {
			st.DB().QueryRow(`SELECT COUNT(*) FROM action_answers`).Scan(&n)
			return n
		}
		if _, err := st.PurgeExpired(ctx); err != nil || count() != 1 {
			t.Fatalf("a fresh answer was purged (%v)", err)
		}
		if _, err := st.DB().Exec(`UPDATE action_answers SET expires_at = $1`, time.Now().Add(-time.Second).Unix()); err != nil {
			t.Fatal(err)
		}
		if _, err := st.PurgeExpired(ctx); err != nil || count() != 0 {
			t.Fatalf("an expired answer stayed (%v)", err)
		}
	})
}
