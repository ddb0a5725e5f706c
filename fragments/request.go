package fragments

import (
	"context"
	"time"
)

// Sessions finds the user a session cookie belongs to. It is the island's
// view of the store; ok is false for an unknown or expired session.
type Sessions interface {
	UserName(ctx context.Context, sessionID string) (name string, ok bool, err error)
}

// Deps are the services an island may use, handed in by the server.
type Deps struct {
	Sessions Sessions
}

// Request is what an island's Render sees of one request: its context
// (cancelled at the island's deadline), the time, the request's cookies
// and the server's services. Nothing in it points into Fiber's buffers,
// so it is safe to use from any goroutine.
type Request struct {
	ctx     context.Context
	now     time.Time
	cookies map[string]string
	Deps
}

// NewRequest builds a Request. cookies must already be copies.
func NewRequest(ctx context.Context, now time.Time, cookies map[string]string, deps Deps) *Request {
	return &Request{ctx: ctx, now: now, cookies: cookies, Deps: deps}
}

// Context is cancelled when the island's deadline passes.
func (r *Request) Context() context.Context { return r.ctx }

// Now is the time the request arrived, from the server's clock.
func (r *Request) Now() time.Time { return r.now }

// Cookie returns the named cookie's value, or "" when there is none.
func (r *Request) Cookie(name string) string { return r.cookies[name] }
