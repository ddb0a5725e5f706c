package tests

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/store"
)

// The exactly-once contract on one server with its SQLite file, the
// demo's cart/add as the action: a repeated Idempotency-Key gets the
// first answer, cookie included, and adds nothing; a malformed key is a
// 400 that runs nothing; a store that does not answer (another process
// holds the file's write lock) gets a 504 within the action's deadline,
// nothing of the action stays, and the same key sent again once the
// store answers applies it once.
func TestActionsApplyOnceOnSQLite(t *testing.T) {
	const deadline = 700 * time.Millisecond
	db := filepath.Join(t.TempDir(), "atoll.db")
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithDB(db),
		atolltest.WithConfig(func(c *config.Config) { c.ActionTimeout = deadline }))
	carts := site.Services.(*demo.Services).Carts
	count := func(cookie string) int {
		t.Helper()
		n, err := carts.Count(context.Background(), cookie)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	add := func(key, cookie string, qty string) *atolltest.Response {
		t.Helper()
		h := []string{}
		if key != "" {
			h = append(h, "Idempotency-Key", key)
		}
		if cookie != "" {
			h = append(h, "Cookie", store.SessionCookie+"="+cookie)
		}
		return site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {qty}}, h...)
	}

	t.Run("a repeated key gets the first answer and adds nothing", func(t *testing.T) {
		const key = "sqlite-once-0123456789abcdef"
		first := add(key, "", "3")
		c := sessionCookie(first)
		if first.Status != 200 || c == nil || first.Header.Get("HX-Trigger") == "" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first add: %d %q, cookie %v", first.Status, first.Body, c)
		}
		for range 2 {
			again := add(key, "", "3")
			if again.Status != 200 || again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" ||
				again.Header.Get("HX-Trigger") != first.Header.Get("HX-Trigger") || sessionCookie(again) == nil || sessionCookie(again).Value != c.Value {
				t.Fatalf("repeat: %d %q replayed %q cookie %v; want the first answer", again.Status, again.Body, again.Header.Get("Idempotent-Replayed"), sessionCookie(again))
			}
		}
		if n := count(c.Value); n != 3 {
			t.Fatalf("the cart holds %d after one add of 3 sent three times", n)
		}
		if st := stats(t, site); st.Sessions != 1 {
			t.Fatalf("%d sessions, want the one the first add made", st.Sessions)
		}
		if !strings.Contains(site.Logs.String(), `"outcome":"replayed"`) {
			t.Errorf("no request logged with outcome replayed:\n%s", site.Logs.String())
		}
		// Without a key, plain forms and curl still work, and each is an add.
		for range 2 {
			if r := add("", c.Value, "1"); r.Status != 200 {
				t.Fatalf("a keyless add: %d %q", r.Status, r.Body)
			}
		}
		if n := count(c.Value); n != 5 {
			t.Fatalf("the cart holds %d after two keyless adds of 1, want 5", n)
		}
	})

	t.Run("a malformed key is refused and runs nothing", func(t *testing.T) {
		before := stats(t, site)
		for _, key := range []string{"short", "has space 0123456789", strings.Repeat("k", 200)} {
			if r := add(key, "", "1"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `role="alert"`) || sessionCookie(r) != nil {
				t.Errorf("key %q: %d %q, want a 400 alert and no cookie", key, r.Status, r.Body)
			}
		}
		if after := stats(t, site); after != before {
			t.Errorf("malformed keys changed the figures: %+v, then %+v", before, after)
		}
	})

	t.Run("a hung store gives 504 within the deadline, rolls back, and the key applies once later", func(t *testing.T) {
		other, err := store.OpenSQLite(db, time.Now, demo.Migrations...)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		tx, err := other.DB().BeginTx(context.Background(), nil) // BEGIN IMMEDIATE: the file's write lock
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`DELETE FROM sessions WHERE 1 = 0`); err != nil {
			t.Fatal(err)
		}
		before := stats(t, site)
		const key = "sqlite-hung-0123456789abcdef"
		began := time.Now()
		r := add(key, "", "2")
		took := time.Since(began)
		if r.Status != http.StatusGatewayTimeout || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, `role="alert"`) {
			t.Fatalf("with the write lock held elsewhere: %d %q Retry-After %q, want a 504 alert with Retry-After", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		if took > deadline+time.Second {
			t.Errorf("answered after %s, deadline %s", took, deadline)
		}
		if sessionCookie(r) != nil {
			t.Errorf("a 504 set a cookie for a session that was rolled back: %v", sessionCookie(r))
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if after := stats(t, site); after != before {
			t.Fatalf("the timed-out add left something: %+v, then %+v", before, after)
		}
		again := add(key, "", "2")
		c := sessionCookie(again)
		if again.Status != 200 || c == nil || again.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("the same key once the store answers: %d %q", again.Status, again.Body)
		}
		if n := count(c.Value); n != 2 {
			t.Fatalf("the cart holds %d after the retried add of 2", n)
		}
		if r := add(key, "", "2"); r.Header.Get("Idempotent-Replayed") != "true" || count(c.Value) != 2 {
			t.Fatalf("a third send: replayed %q, cart %d", r.Header.Get("Idempotent-Replayed"), count(c.Value))
		}
	})
}
