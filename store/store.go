// Package store keeps the engine's state: users and the sessions their
// cookie names. Store is the interface the engine needs; SQLite is the
// embedded default. A site keeps its own tables in the same database:
// it hands its Migrations to Open and reaches the database with DB.
//
// A site table that belongs to a session references sessions(id) with
// ON DELETE CASCADE ON UPDATE CASCADE: signing in gives the session a new
// id (an id never gains rights) and the site's rows follow it; signing out
// or expiry deletes them.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
)

// SessionCookie is the name of the cookie that carries a visitor's
// session id. Only actions set it; islands that read it list it in
// island.Island.Cookies.
const SessionCookie = "atoll_session"

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

// Guest reports whether the session belongs to no user.
func (s Session) Guest() bool { return s.UserID == 0 }

// Stats are the engine's figures: users and live sessions.
type Stats struct {
	Users, Sessions int
}

// Store is the engine's state.
type Store interface {
	// Session returns the live session with this id, or ErrNoSession.
	Session(ctx context.Context, id string) (Session, error)
	// NewSession makes a guest session.
	NewSession(ctx context.Context) (Session, error)
	// SignIn makes a user called name and gives them a session. When
	// replaces names a live session, that session becomes the user's
	// under a new id (site rows that reference it follow); otherwise a new
	// session is made.
	SignIn(ctx context.Context, name, replaces string) (Session, error)
	// DeleteSession removes a session and, by cascade, the site's rows
	// that belong to it.
	DeleteSession(ctx context.Context, id string) error
	// PurgeExpired deletes expired sessions, and answers kept past
	// AnswerTTL, and reports how many sessions went.
	PurgeExpired(ctx context.Context) (int64, error)
	// Stats counts users and live sessions.
	Stats(ctx context.Context) (Stats, error)
	// Tx runs fn in one transaction and commits it when fn returns nil;
	// it rolls back when fn returns an error or ctx ends first. The ctx
	// fn gets carries the transaction: the store's methods and From use
	// it, so every statement fn makes, reads included, is part of it. A
	// Tx inside fn runs in the same transaction.
	Tx(ctx context.Context, fn func(ctx context.Context) error) error
	// ClaimKey, inside Tx, claims an Idempotency-Key for one request:
	// scope is the session it was sent in ("" for none), fingerprint
	// names the request. It returns found=false when the key is new (the
	// caller runs the action and calls RecordAnswer in the same Tx) and
	// the recorded answer when it is not; ErrKeyReused when that answer
	// was for another fingerprint, ErrKeyBusy when it is not written yet.
	// On PostgreSQL a claim that another transaction holds waits for it.
	ClaimKey(ctx context.Context, scope, key, fingerprint string) (a Answer, found bool, err error)
	// RecordAnswer, in the Tx that claimed the key, keeps the answer
	// for AnswerTTL.
	RecordAnswer(ctx context.Context, scope, key string, a Answer) error
	// DB is the database, for the site's own tables.
	DB() *sql.DB
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// Migration is one step of a schema: SQL run once, in order with the
// other steps of the same owner. The engine's own steps are owned by
// "atoll"; a site names its own owner, such as "shop".
type Migration struct {
	Owner string
	SQL   string
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
