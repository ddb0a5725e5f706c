package island

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/atollhq/atoll/store"
)

// Sessions finds the session a cookie names; store.Store has this method.
type Sessions interface {
	Session(ctx context.Context, id string) (store.Session, error)
}

// Request is what an island's Render sees of one request: its context
// (cancelled at the island's deadline), the time, the page the island sits
// on, its opened props, the cookies it declared, the visitor's session and
// the site's services.
// Nothing in it points into Fiber's buffers, so it is safe to use from any
// goroutine.
type Request struct {
	ctx      context.Context
	now      time.Time
	island   string
	page     string
	props    map[string]string
	cookies  map[string]string
	allowed  []string
	base     string
	sessions Sessions
	services any
}

// RequestInit holds what NewRequest needs; every string must already be a
// copy that outlives the HTTP request's buffers.
type RequestInit struct {
	Island  Island
	Now     time.Time
	Page    string
	Props   map[string]string
	Cookies map[string]string
	// Base is the site's base path.
	Base string
	// Sessions looks up the session cookie.
	Sessions Sessions
	// Services are the site's, as its Open made them.
	Services any
}

// NewRequest builds a Request.
func NewRequest(ctx context.Context, in RequestInit) *Request {
	return &Request{ctx: ctx, now: in.Now, island: in.Island.Name, page: in.Page, props: in.Props,
		cookies: in.Cookies, allowed: in.Island.Cookies, base: in.Base, sessions: in.Sessions, services: in.Services}
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

// Base is the site's base path ("" at the root, or such as "/shop"), for
// links and form actions.
func (r *Request) Base() string { return r.base }

// Services are what the site's Open made once the store was open, such
// as its catalog and its own tables. ServicesOf returns them typed.
func (r *Request) Services() any { return r.services }

// ServicesOf returns the site's services as a T, the type the site's Open
// returns, such as *demo.Services:
//
//	svc := island.ServicesOf[*demo.Services](r)
//
// It panics, naming both types, when the services are not a T: a site
// wired wrongly, which the server shows as the island's error state.
func ServicesOf[T any](r *Request) T {
	s, ok := r.services.(T)
	if !ok {
		panic(fmt.Sprintf("island %q: services are %T, not %s", r.island, r.services, typeName[T]()))
	}
	return s
}

// typeName names T as %T would name a value of it, even an interface
// type, which has no value of its own to print.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// Session returns the visitor's live session. Without a session cookie,
// or with one that names no live session, it returns a zero Session
// (Guest, no ID) and no error. The island must list
// store.SessionCookie in Island.Cookies.
func (r *Request) Session() (store.Session, error) {
	id := r.Cookie(store.SessionCookie)
	if id == "" || r.sessions == nil {
		return store.Session{}, nil
	}
	sess, err := r.sessions.Session(r.ctx, id)
	if errors.Is(err, store.ErrNoSession) {
		return store.Session{}, nil
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("look up session: %w", err)
	}
	return sess, nil
}
