//go:build !race

package tests

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/store"
)

// TestBrowserActionsCarryAnIdempotencyKey adds to the cart in a real
// browser, watching the headers the page's fetches carry: each submission
// gets a fresh key; one that got a 504 (the store's write lock is held
// elsewhere, past the action's deadline) is sent again with the same
// key, until it is applied, once.
func TestBrowserActionsCarryAnIdempotencyKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "atoll.db")
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithDB(db),
		atolltest.WithConfig(func(c *config.Config) { c.ActionTimeout = 300 * time.Millisecond }))
	ctx, msgs := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/products")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the cart count", cartText+` === '0'`)
	// Every action fetch's key, in order, and the status it got.
	eval[bool](t, ctx, `(() => { window.__keys = []; const f = window.fetch;
		window.fetch = function (u, o) {
			if (!String(u).includes('/actions/')) return f.apply(this, arguments);
			const entry = {key: (o && o.headers && o.headers['Idempotency-Key']) || ''};
			window.__keys.push(entry);
			return f.apply(this, arguments).then(r => { entry.status = r.status; return r; });
		}; return true })()`)
	click := func(n int) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#product-reef-mug button[type="submit"]`))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "an answer to action request "+strconv.Itoa(n), `window.__keys.length === `+strconv.Itoa(n)+` && window.__keys[`+strconv.Itoa(n-1)+`].status !== undefined`)
	}
	key := func(i int) string { return eval[string](t, ctx, `window.__keys[`+strconv.Itoa(i)+`].key`) }
	status := func(i int) int { return eval[int](t, ctx, `window.__keys[`+strconv.Itoa(i)+`].status`) }

	click(1)
	waitFor(t, ctx, "the cart count 1", cartText+` === '1'`)
	click(2)
	waitFor(t, ctx, "the cart count 2", cartText+` === '2'`)
	if k0, k1 := key(0), key(1); len(k0) < 16 || k1 == k0 || len(k1) < 16 {
		t.Fatalf("two submissions sent keys %q and %q: want two fresh ones", k0, k1)
	}

	other, err := store.OpenSQLite(db, time.Now, demo.Migrations...)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.DB().BeginTx(context.Background(), nil) // the file's write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM sessions WHERE 1 = 0`); err != nil {
		t.Fatal(err)
	}
	click(3)
	click(4)
	if s2, s3 := status(2), status(3); s2 != 504 || s3 != 504 || key(3) != key(2) || key(2) == key(1) {
		t.Fatalf("with the store hung: statuses %d, %d and keys %q, %q after %q: want two 504s with one fresh key", s2, s3, key(2), key(3), key(1))
	}
	tx.Rollback()
	click(5)
	waitFor(t, ctx, "the cart count 3", cartText+` === '3'`)
	if status(4) != 200 || key(4) != key(2) {
		t.Fatalf("the retry once the store answers: %d with key %q, want 200 with the failed submission's key %q", status(4), key(4), key(2))
	}
	click(6)
	if key(5) == key(4) {
		t.Fatal("the submission after a success reused its key")
	}
	waitFor(t, ctx, "the cart count 4", cartText+` === '4'`)
	if st := stats(t, site); st.CartItems != 4 {
		t.Fatalf("the store holds %d items after four applied adds", st.CartItems)
	}
	_ = msgs // the 504s are logged to the console as failed fetches, as they should be
}
