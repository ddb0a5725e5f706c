package fragments

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Sessions finds the user a session cookie belongs to. It is the island's
// view of the store; ok is false for an unknown or expired session.
type Sessions interface {
	UserName(ctx context.Context, sessionID string) (name string, ok bool, err error)
}

// Quote is one simulated share price.
type Quote struct {
	Symbol string
	Price  float64
	Change float64 // since the previous quote
	At     time.Time
}

// Quotes gives the ticker its prices.
type Quotes interface {
	Quote(symbol string) (Quote, bool)
}

// Carts counts what a session's cart holds.
type Carts interface {
	CartCount(ctx context.Context, sessionID string) (int, error)
}

// Deps are the services an island may use, handed in by the server.
type Deps struct {
	Sessions Sessions
	Quotes   Quotes
	Carts    Carts
	// BasePath is the site's base path, for links and form actions.
	BasePath string
}

// Request is what an island's Render sees of one request: its context
// (cancelled at the island's deadline), the time, the page the island sits
// on, its opened props, the cookies it declared and the server's services.
// Nothing in it points into Fiber's buffers, so it is safe to use from any
// goroutine.
type Request struct {
	ctx     context.Context
	now     time.Time
	island  string
	page    string
	props   map[string]string
	cookies map[string]string
	allowed []string
	Deps
}

// RequestInit holds what NewRequest needs; every string must already be a
// copy that outlives the HTTP request's buffers.
type RequestInit struct {
	Island  Island
	Now     time.Time
	Page    string
	Props   map[string]string
	Cookies map[string]string
	Deps    Deps
}

// NewRequest builds a Request.
func NewRequest(ctx context.Context, in RequestInit) *Request {
	return &Request{ctx: ctx, now: in.Now, island: in.Island.Name, page: in.Page, props: in.Props,
		cookies: in.Cookies, allowed: in.Island.Cookies, Deps: in.Deps}
}

// Context is cancelled when the island's deadline passes.
func (r *Request) Context() context.Context { return r.ctx }

// Now is the time the request arrived, from the server's clock.
func (r *Request) Now() time.Time { return r.now }

// Page is the path of the page the island was placed on, as written when
// the page was rendered and reduced to a same-origin path ("/" when it was
// missing or unusable). It is a hint from the browser, not proof.
func (r *Request) Page() string { return r.page }

// Prop returns the value of one prop the page passed, "" when absent.
// Props arrive sealed, so they are exactly what the page rendered.
func (r *Request) Prop(name string) string { return r.props[name] }

// Props returns all props the page passed; nil when it passed none.
func (r *Request) Props() map[string]string { return r.props }

// Cookie returns the named cookie's value, or "" when there is none. An
// island may read only the cookies it lists in Island.Cookies; reading
// another panics, which the server turns into the island's error state,
// so a cache policy can never be declared for an island that secretly
// reads cookies.
func (r *Request) Cookie(name string) string {
	if !slices.Contains(r.allowed, name) {
		panic(fmt.Sprintf("island %q reads cookie %q without listing it in Island.Cookies", r.island, name))
	}
	return r.cookies[name]
}
