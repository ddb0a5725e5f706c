package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func open(t *testing.T, path string, now func() time.Time) *SQLite {
	t.Helper()
	s, err := OpenSQLite(path, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteSessionsAndCarts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "atoll.db")
	s := open(t, path, clock)

	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	var busy int
	if err := s.db.QueryRow(`PRAGMA busy_timeout`).Scan(&busy); err != nil || busy != 5000 {
		t.Fatalf("busy timeout %d (%v), want 5000", busy, err)
	}
	guest, err := s.NewSession(ctx)
	if err != nil || !ValidSessionID(guest.ID) {
		t.Fatalf("guest session %q: %v", guest.ID, err)
	}
	if n, err := s.AddToCart(ctx, guest.ID, "p1", 2); err != nil || n != 2 {
		t.Fatalf("add: %d, %v", n, err)
	}
	if _, err := s.AddToCart(ctx, guest.ID, "p1", MaxQty); !errors.Is(err, ErrTooMany) {
		t.Fatalf("past MaxQty: %v", err)
	}
	user, err := s.SignIn(ctx, "Ada", guest.ID)
	if err != nil || user.ID == guest.ID {
		t.Fatalf("sign in: %+v, %v (the session id must change)", user, err)
	}
	if _, err := s.Session(ctx, guest.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("the replaced guest session still lives: %v", err)
	}
	if n, _ := s.CartCount(ctx, user.ID); n != 2 {
		t.Fatalf("the cart did not move with sign-in: %d", n)
	}
	if name, ok, err := s.UserName(ctx, user.ID); name != "Ada" || !ok || err != nil {
		t.Fatalf("UserName = %q, %v, %v", name, ok, err)
	}
	if st, _ := s.Stats(ctx); st != (Stats{Users: 1, Sessions: 1, CartItems: 2}) {
		t.Fatalf("stats %+v", st)
	}

	// A restart on the same file keeps everything.
	s.Close()
	s2 := open(t, path, clock)
	if name, ok, _ := s2.UserName(ctx, user.ID); name != "Ada" || !ok {
		t.Fatalf("after reopening: %q, %v", name, ok)
	}
	// Expiry.
	now = now.Add(SessionTTL + time.Second)
	if _, err := s2.Session(ctx, user.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("an expired session still lives: %v", err)
	}
	if st, _ := s2.Stats(ctx); st.CartItems != 0 || st.Sessions != 0 {
		t.Fatalf("an expired session's cart still counts: %+v", st)
	}
	if n, err := s2.PurgeExpired(ctx); err != nil || n != 1 {
		t.Fatalf("purge removed %d sessions (%v), want 1", n, err)
	}
	if err := s2.DeleteSession(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := s2.Stats(ctx); st.CartItems != 0 {
		t.Fatalf("deleting a session left its cart: %+v", st)
	}
	if _, ok, _ := s2.UserName(ctx, "forged"); ok {
		t.Fatal("a forged id named a user")
	}
}

func TestOpenSQLiteFailsNamingThePath(t *testing.T) {
	_, err := OpenSQLite("/no/such/dir/atoll.db", time.Now)
	if err == nil || !strings.Contains(err.Error(), "/no/such/dir/atoll.db") {
		t.Fatalf("err = %v", err)
	}
}
