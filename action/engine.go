package action

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/store"
)

// Options configures an Engine.
type Options struct {
	// Store holds the sessions the actions read and change.
	Store store.Store
	// Services are the site's, handed to every action.
	Services any
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Base is the site's base path; the session cookie is scoped to it.
	Base string
	// Actions are the actions to serve. Required: the server passes the
	// site's set, or Default for a site that carries none.
	Actions *Set
}

// Engine serves the actions of one set.
type Engine struct {
	actions map[string]*entry
	opts    Options
}

type entry struct {
	Action
	trigger string
}

// NewEngine takes every action in opts.Actions, as they are when it is
// called: an action registered later is not served.
func NewEngine(opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("action: no store")
	}
	if opts.Actions == nil {
		return nil, errors.New("action: no action set")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{actions: map[string]*entry{}, opts: opts}
	for _, name := range opts.Actions.Names() {
		a, err := opts.Actions.Lookup(name)
		if err != nil {
			return nil, err
		}
		e.actions[name] = &entry{Action: a, trigger: strings.Join(a.Announces, ", ")}
	}
	return e, nil
}

// Handle serves POST {base}/actions/{name}; the route's wildcard is the
// name. The caller has applied the cross-site check and the body limit.
func (e *Engine) Handle(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		c.Set(fiber.HeaderAllow, fiber.MethodPost)
		return Refuse(fiber.StatusMethodNotAllowed, "Actions are sent with POST.")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	a, ok := e.actions[c.Params("*")]
	if !ok {
		return Refuse(fiber.StatusNotFound, "There is no such action.")
	}
	r := &Request{c: c, e: e, values: make(map[string]string, len(a.Fields)), ints: map[string]int{}}
	for _, f := range a.Fields {
		if err := r.read(f); err != nil {
			return err
		}
	}
	out, err := a.Handle(r)
	if err != nil {
		return err
	}
	if a.trigger != "" {
		c.Set("HX-Trigger", a.trigger)
	}
	if out == "" {
		return c.SendStatus(fiber.StatusNoContent)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(string(out))
}

// Request is what an action's handler sees of one request: its declared
// fields, checked; the visitor's session, with ways to change it; the
// site's services. It is valid only while the handler runs.
type Request struct {
	c      *fiber.Ctx
	e      *Engine
	values map[string]string
	ints   map[string]int
}

// read checks one declared field and keeps its value.
func (r *Request) read(f Field) error {
	v := strings.TrimSpace(r.c.FormValue(f.Name))
	if v == "" {
		v = f.Default
	}
	refuse := Refuse(fiber.StatusBadRequest, f.Message)
	if v == "" {
		if f.Required {
			return refuse
		}
		r.values[f.Name] = ""
		return nil
	}
	max := f.MaxRunes
	if max == 0 {
		max = DefaultMaxRunes
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return refuse
	}
	if f.Int {
		n, err := strconv.Atoi(v)
		if err != nil || n < f.Min || n > f.Max {
			return refuse
		}
		r.ints[f.Name] = n
	}
	r.values[f.Name] = strings.Clone(v)
	return nil
}

// Context is the request's context.
func (r *Request) Context() context.Context { return r.c.UserContext() }

// Now is the server's clock.
func (r *Request) Now() time.Time { return r.e.opts.Now() }

// Base is the site's base path.
func (r *Request) Base() string { return r.e.opts.Base }

// Services are what the site's Open made. ServicesOf returns them typed.
func (r *Request) Services() any { return r.e.opts.Services }

// ServicesOf returns the site's services as a T, the type the site's Open
// returns, such as *demo.Services:
//
//	svc := action.ServicesOf[*demo.Services](r)
//
// It panics, naming both types, when the services are not a T: a site
// wired wrongly, which the server answers with a 500.
func ServicesOf[T any](r *Request) T {
	s, ok := r.e.opts.Services.(T)
	if !ok {
		panic(fmt.Sprintf("action %q: services are %T, not %s", r.c.Params("*"), r.e.opts.Services, reflect.TypeFor[T]()))
	}
	return s
}

// Value returns a declared text field, checked and trimmed. Asking for a
// field the action did not declare panics: the declaration is the list of
// what the handler reads.
func (r *Request) Value(name string) string {
	v, ok := r.values[name]
	if !ok {
		panic(fmt.Sprintf("action reads field %q without declaring it in Action.Fields", name))
	}
	return v
}

// Int returns a declared Int field; 0 when it was empty with no Default.
func (r *Request) Int(name string) int {
	r.Value(name)
	return r.ints[name]
}

var errNoCookie = errors.New("no session cookie")

// session returns the visitor's live session: errNoCookie without a
// cookie, store.ErrNoSession for a forged, signed-out or expired one.
func (r *Request) session() (store.Session, error) {
	id := r.c.Cookies(store.SessionCookie)
	if id == "" {
		return store.Session{}, errNoCookie
	}
	return r.e.opts.Store.Session(r.Context(), strings.Clone(id))
}

// Session returns the visitor's live session; ok is false when there is
// no cookie or it names no live session.
func (r *Request) Session() (sess store.Session, ok bool, err error) {
	sess, err = r.session()
	if errors.Is(err, errNoCookie) || errors.Is(err, store.ErrNoSession) {
		return store.Session{}, false, nil
	}
	return sess, err == nil, err
}

// RequireSession returns the visitor's live session, or a 401 Problem:
// "not signed in" without a cookie, "expired" (and the cookie cleared)
// for one that names no live session.
func (r *Request) RequireSession() (store.Session, error) {
	sess, err := r.session()
	switch {
	case errors.Is(err, errNoCookie):
		return sess, Refuse(fiber.StatusUnauthorized, "You are not signed in.")
	case errors.Is(err, store.ErrNoSession):
		r.clearCookie()
		return sess, Refuse(fiber.StatusUnauthorized, "Your session has expired. Reload the page and try again.")
	}
	return sess, err
}

// EnsureSession returns the visitor's live session, making a guest
// session (and setting its cookie) for a visitor without one. A cookie
// that names no live session is a 401 and is cleared: the visitor is
// told, rather than handed a new empty session silently.
func (r *Request) EnsureSession() (store.Session, error) {
	sess, err := r.session()
	if errors.Is(err, errNoCookie) {
		if sess, err = r.e.opts.Store.NewSession(r.Context()); err != nil {
			return sess, err
		}
		r.setCookie(sess)
		return sess, nil
	}
	if errors.Is(err, store.ErrNoSession) {
		return r.RequireSession()
	}
	return sess, err
}

// SignIn makes a user called name and signs the visitor in: their live
// session, if any, becomes the user's under a new id (what belongs to it
// comes along), and the cookie is set.
func (r *Request) SignIn(name string) (store.Session, error) {
	replaces := ""
	if old, ok, err := r.Session(); err != nil {
		return store.Session{}, err
	} else if ok {
		replaces = old.ID
	}
	sess, err := r.e.opts.Store.SignIn(r.Context(), name, replaces)
	if err != nil {
		return sess, err
	}
	r.setCookie(sess)
	return sess, nil
}

// SignOut deletes the visitor's session and its cookie; a 401 Problem
// when there is none.
func (r *Request) SignOut() error {
	sess, err := r.RequireSession()
	if err != nil {
		return err
	}
	if err := r.e.opts.Store.DeleteSession(r.Context(), sess.ID); err != nil {
		return err
	}
	r.clearCookie()
	return nil
}

// setCookie sets the session cookie: HttpOnly, SameSite=Lax, Path=/ (or
// the base path), and Secure when the request came over TLS (directly,
// or through a trusted proxy's X-Forwarded-Proto).
func (r *Request) setCookie(sess store.Session) {
	r.c.Cookie(&fiber.Cookie{
		Name:     store.SessionCookie,
		Value:    sess.ID,
		Path:     r.e.opts.Base + "/",
		Expires:  sess.Expires,
		MaxAge:   int(sess.Expires.Sub(r.Now()) / time.Second),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   r.c.Protocol() == "https",
	})
}

func (r *Request) clearCookie() {
	r.c.Cookie(&fiber.Cookie{
		Name:     store.SessionCookie,
		Value:    "",
		Path:     r.e.opts.Base + "/",
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   r.c.Protocol() == "https",
	})
}
