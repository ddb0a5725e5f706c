// Package store keeps the site's state: users, sessions and carts. Store
// is the narrow interface the server needs; SQLite is the embedded
// default, and a Redis or PostgreSQL backend for several replicas would
// implement the same methods.
package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"atoll/fragments"
)

// SessionTTL is how long a session lives after it is made.
const SessionTTL = 30 * 24 * time.Hour

// ErrNoSession means a session id names no live session: it never
// existed, was signed out, or expired.
var ErrNoSession = errors.New("store: no such session")

// Session is one browser's session; UserID is 0 for a guest.
type Session struct {
	ID       string
	UserID   int64
	UserName string
	Expires  time.Time
}

// Stats are the figures the dashboard shows.
type Stats struct {
	Users, Sessions, CartItems int
}

// Store is the state behind the demo.
type Store interface {
	fragments.Sessions
	// Session returns the live session with this id, or ErrNoSession.
	Session(ctx context.Context, id string) (Session, error)
	// NewSession makes a guest session.
	NewSession(ctx context.Context) (Session, error)
	// SignIn makes a user called name and a new session for them. The
	// cart of the session it replaces (if any) moves to the new session,
	// and the old session is deleted, so a session id never gains rights.
	SignIn(ctx context.Context, name, replaces string) (Session, error)
	// DeleteSession removes a session and its cart.
	DeleteSession(ctx context.Context, id string) error
	// AddToCart adds qty of a product to the session's cart and returns
	// how many items the cart holds.
	AddToCart(ctx context.Context, sessionID, productID string, qty int) (int, error)
	// CartCount returns how many items the session's cart holds.
	CartCount(ctx context.Context, sessionID string) (int, error)
	// Stats counts users, live sessions and cart items.
	Stats(ctx context.Context) (Stats, error)
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// NewSessionID returns a random 256-bit session id, URL-safe.
func NewSessionID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidSessionID reports whether id has the shape NewSessionID makes, so
// a forged cookie is refused without a query.
func ValidSessionID(id string) bool {
	if len(id) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == 32
}
