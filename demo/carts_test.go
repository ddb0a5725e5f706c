package demo_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/store"
)

// shop is a real SQLite store with the demo's migrations, its carts and a
// clock the test moves by hand.
type shop struct {
	st    *store.SQLite
	carts *demo.Carts
	now   time.Time
}

func (s *shop) clock() time.Time { return s.now }

func openShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "atoll.db"), s.clock, demo.Migrations...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.st, s.carts = st, demo.NewCarts(st.DB(), s.clock)
	return s
}

func (s *shop) session(t *testing.T) string {
	t.Helper()
	sess, err := s.st.NewSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sess.ID
}

// lines renders a cart as "id×qty" in the order Lines gives.
func (s *shop) lines(t *testing.T, sessionID string) string {
	t.Helper()
	lines, err := s.carts.Lines(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.Product.ID+"×"+strconv.Itoa(l.Qty))
	}
	return strings.Join(out, " ")
}

func (s *shop) count(t *testing.T, sessionID string) int {
	t.Helper()
	n, err := s.carts.Count(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rows counts the cart_lines rows under a session id, live or not: what
// Count cannot see, a cascade must still have removed.
func rows(t *testing.T, db *sql.DB, sessionID string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM cart_lines WHERE session_id = $1`, sessionID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCartsAdd(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	id := s.session(t)
	for _, step := range []struct {
		product string
		qty     int
		count   int
	}{
		{"reef-mug", 2, 2},
		{"lagoon-tee", 1, 3},
		{"reef-mug", 3, 6},
	} {
		if n, err := s.carts.Add(ctx, id, step.product, step.qty); err != nil || n != step.count {
			t.Fatalf("Add(%s, %d) = %d, %v; want %d", step.product, step.qty, n, err, step.count)
		}
	}
	if got := s.lines(t, id); got != "reef-mug×5 lagoon-tee×1" {
		t.Fatalf("lines %q", got)
	}
}

func TestCartsAddStopsAtMaxQty(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	id := s.session(t)
	if n, err := s.carts.Add(ctx, id, "reef-mug", demo.MaxQty-1); err != nil || n != demo.MaxQty-1 {
		t.Fatalf("Add(MaxQty-1) = %d, %v", n, err)
	}
	if _, err := s.carts.Add(ctx, id, "reef-mug", 2); !errors.Is(err, demo.ErrTooMany) {
		t.Fatalf("an add past MaxQty: %v, want ErrTooMany", err)
	}
	if got := s.lines(t, id); got != "reef-mug×98" {
		t.Fatalf("a refused add changed the line: %q", got)
	}
	if n, err := s.carts.Add(ctx, id, "reef-mug", 1); err != nil || n != demo.MaxQty {
		t.Fatalf("the add that reaches MaxQty exactly: %d, %v", n, err)
	}
	if _, err := s.carts.Add(ctx, id, "reef-mug", 1); !errors.Is(err, demo.ErrTooMany) {
		t.Fatalf("one more than MaxQty: %v, want ErrTooMany", err)
	}
	// A new line of more than MaxQty at once is too many as well, not a
	// database error.
	if _, err := s.carts.Add(ctx, id, "lagoon-tee", demo.MaxQty+1); !errors.Is(err, demo.ErrTooMany) {
		t.Fatalf("a new line past MaxQty: %v, want ErrTooMany", err)
	}
	if got := s.lines(t, id); got != "reef-mug×99" {
		t.Fatalf("refused adds changed the cart: %q", got)
	}
}

func TestCartsAddRefusesANonPositiveQuantity(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	id := s.session(t)
	s.carts.Add(ctx, id, "reef-mug", 5)
	for _, qty := range []int{0, -1, -5} {
		if _, err := s.carts.Add(ctx, id, "reef-mug", qty); err == nil {
			t.Errorf("Add(%d) succeeded", qty)
		}
	}
	if got := s.lines(t, id); got != "reef-mug×5" {
		t.Fatalf("a refused add changed the cart: %q", got)
	}
}

func TestCartsRemove(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	id, other := s.session(t), s.session(t)
	s.carts.Add(ctx, id, "reef-mug", 4)
	s.carts.Add(ctx, id, "tide-stickers", 2)
	s.carts.Add(ctx, other, "reef-mug", 1)
	if n, err := s.carts.Remove(ctx, id, "reef-mug"); err != nil || n != 2 {
		t.Fatalf("Remove = %d, %v; want 2 left", n, err)
	}
	// Removing what is not there is fine and changes nothing.
	for _, product := range []string{"reef-mug", "lagoon-tee", "no-such-product"} {
		if n, err := s.carts.Remove(ctx, id, product); err != nil || n != 2 {
			t.Fatalf("Remove(%s) of an absent line = %d, %v; want 2", product, n, err)
		}
	}
	if got := s.lines(t, id); got != "tide-stickers×2" {
		t.Fatalf("lines %q", got)
	}
	if got := s.lines(t, other); got != "reef-mug×1" {
		t.Fatalf("removing from one cart changed another: %q", got)
	}
	if n, err := s.carts.Remove(ctx, id, "tide-stickers"); err != nil || n != 0 {
		t.Fatalf("emptying the cart: %d, %v", n, err)
	}
}

func TestCartsLinesInCatalogOrder(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	id := s.session(t)
	for _, p := range []string{"tide-stickers", "reef-mug", "gopher-float"} {
		s.carts.Add(ctx, id, p, 1)
	}
	if got := s.lines(t, id); got != "reef-mug×1 gopher-float×1 tide-stickers×1" {
		t.Fatalf("lines %q, want catalog order", got)
	}
	lines, _ := s.carts.Lines(ctx, id)
	if lines[0].Product != demo.Products[0] {
		t.Fatalf("a line carries %+v, want the catalog's product", lines[0].Product)
	}
	if got := s.lines(t, s.session(t)); got != "" {
		t.Fatalf("an empty cart has lines %q", got)
	}
}

func TestCartsOfAnExpiredSession(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	old := s.session(t)
	s.carts.Add(ctx, old, "reef-mug", 3)
	s.now = s.now.Add(time.Hour)
	live := s.session(t)
	s.carts.Add(ctx, live, "lagoon-tee", 2)
	if n, err := s.carts.Items(ctx); err != nil || n != 5 {
		t.Fatalf("Items = %d, %v; want 5", n, err)
	}

	s.now = s.now.Add(store.SessionTTL - time.Hour) // old expires, live has an hour left
	if n := s.count(t, old); n != 0 {
		t.Fatalf("an expired session's cart counts %d", n)
	}
	if got := s.lines(t, old); got != "" {
		t.Fatalf("an expired session's cart shows %q", got)
	}
	if n, err := s.carts.Items(ctx); err != nil || n != 2 {
		t.Fatalf("Items = %d, %v; want only the live cart's 2", n, err)
	}
	if n := s.count(t, live); n != 2 {
		t.Fatalf("the live cart counts %d", n)
	}
	if _, err := s.st.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, s.st.DB(), old); n != 0 {
		t.Fatalf("purging the session left %d cart rows", n)
	}
}

func TestCartFollowsSignIn(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	guest := s.session(t)
	s.carts.Add(ctx, guest, "reef-mug", 2)
	s.carts.Add(ctx, guest, "gopher-float", 1)
	user, err := s.st.SignIn(ctx, "Ada", guest)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.lines(t, user.ID); got != "reef-mug×2 gopher-float×1" {
		t.Fatalf("after sign-in the cart is %q", got)
	}
	if n := rows(t, s.st.DB(), guest); n != 0 {
		t.Fatalf("%d cart rows stayed under the replaced id", n)
	}
	if n, err := s.carts.Add(ctx, user.ID, "reef-mug", 1); err != nil || n != 4 {
		t.Fatalf("adding after sign-in: %d, %v", n, err)
	}
}

func TestDeleteSessionTakesTheCart(t *testing.T) {
	ctx := context.Background()
	s := openShop(t)
	gone, kept := s.session(t), s.session(t)
	s.carts.Add(ctx, gone, "reef-mug", 2)
	s.carts.Add(ctx, kept, "reef-mug", 1)
	if err := s.st.DeleteSession(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, s.st.DB(), gone); n != 0 {
		t.Fatalf("deleting the session left %d cart rows", n)
	}
	if n, err := s.carts.Items(ctx); err != nil || n != 1 {
		t.Fatalf("Items = %d, %v; want the other cart's 1", n, err)
	}
}

// legacySchema is the whole schema of the version before migrations had
// owners (internal/store/sqlite.go, migrations[0]), with its bookkeeping.
const legacySchema = `CREATE TABLE users (
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
	);
	CREATE TABLE schema_version (version INTEGER NOT NULL);
	INSERT INTO schema_version VALUES (1);`

// TestLegacyDatabaseKeepsItsSessionsAndCarts opens a database the
// previous version made, with the demo's migrations: the signed-in
// visitor keeps their session and their cart, now in cart_lines.
func TestLegacyDatabaseKeepsItsSessionsAndCarts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "legacy.db")
	live, expired := store.NewSessionID(), store.NewSessionID()

	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(legacySchema)
	mustExec(`INSERT INTO users (id, name, created_at) VALUES (7, 'Ada', ?)`, now.Unix())
	mustExec(`INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, 7, ?, ?)`, live, now.Unix(), now.Add(time.Hour).Unix())
	mustExec(`INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, NULL, ?, ?)`, expired, now.Add(-store.SessionTTL).Unix(), now.Add(-time.Minute).Unix())
	mustExec(`INSERT INTO cart_items (session_id, product_id, qty) VALUES (?, 'tide-stickers', 3), (?, 'reef-mug', 120), (?, 'lagoon-tee', 1)`, live, live, expired)
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	clock := func() time.Time { return now }
	st, err := store.OpenSQLite(path, clock, demo.Migrations...)
	if err != nil {
		t.Fatalf("the legacy database did not open: %v", err)
	}
	defer st.Close()
	sess, err := st.Session(ctx, live)
	if err != nil || sess.UserName != "Ada" || sess.UserID != 7 {
		t.Fatalf("the legacy session: %+v, %v", sess, err)
	}
	if stats, _ := st.Stats(ctx); stats != (store.Stats{Users: 1, Sessions: 1}) {
		t.Fatalf("stats %+v", stats)
	}
	carts := demo.NewCarts(st.DB(), clock)
	s := &shop{st: st, carts: carts, now: now}
	// A line over today's limit comes over at the limit.
	if got := s.lines(t, live); got != "reef-mug×99 tide-stickers×3" {
		t.Fatalf("the legacy cart came over as %q", got)
	}
	if n := rows(t, st.DB(), expired); n != 0 {
		t.Fatalf("the expired session's legacy cart came over: %d rows", n)
	}
	for _, gone := range []string{"cart_items", "schema_version"} {
		var n int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = ?`, gone).Scan(&n); err != nil || n != 0 {
			t.Errorf("the legacy table %s is still there (%d, %v)", gone, n, err)
		}
	}

	// The carried-over cart follows the next sign-in like any other.
	user, err := st.SignIn(ctx, "Ada", live)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.lines(t, user.ID); got != "reef-mug×99 tide-stickers×3" {
		t.Fatalf("after signing in again the cart is %q", got)
	}
	st.Close()

	// Opening again runs no migration twice.
	again, err := store.OpenSQLite(path, clock, demo.Migrations...)
	if err != nil {
		t.Fatalf("reopening the migrated database: %v", err)
	}
	defer again.Close()
	if n, _ := demo.NewCarts(again.DB(), clock).Count(ctx, user.ID); n != 102 {
		t.Fatalf("after reopening the cart counts %d, want 102", n)
	}
}
