package action

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/internal/islands"
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
	// Timeout is the deadline of an action that declares none;
	// DefaultTimeout when 0.
	Timeout time.Duration
}

// DefaultTimeout is an action's deadline when neither the action nor the
// engine sets one.
const DefaultTimeout = 5 * time.Second

// Engine serves the actions of one set.
type Engine struct {
	actions map[string]*entry
	opts    Options
}

type entry struct {
	Action
	trigger string
	timeout time.Duration
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
	if opts.Timeout < 0 {
		return nil, errors.New("action: negative timeout")
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	e := &Engine{actions: map[string]*entry{}, opts: opts}
	for _, name := range opts.Actions.Names() {
		a, err := opts.Actions.Lookup(name)
		if err != nil {
			return nil, err
		}
		en := &entry{Action: a, trigger: strings.Join(a.Announces, ", "), timeout: a.Timeout}
		if en.timeout == 0 {
			en.timeout = opts.Timeout
		}
		e.actions[name] = en
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
	key, ok := idempotencyKey(c.Get(HeaderIdempotencyKey))
	if !ok {
		return Refuse(fiber.StatusBadRequest, "The request's Idempotency-Key is malformed.")
	}
	parent := c.UserContext()
	ctx, cancel := context.WithTimeout(parent, a.timeout)
	defer cancel()
	r := &Request{c: c, e: e, ctx: ctx, values: make(map[string]string, len(a.Fields)), ints: map[string]int{}}
	for _, f := range a.Fields {
		if err := r.read(f); err != nil {
			return err
		}
	}
	scope := scopeOf(c.Cookies(store.SessionCookie))
	var answer store.Answer
	replayed := false
	err := e.opts.Store.Tx(ctx, func(ctx context.Context) error {
		r.ctx = ctx
		if key != "" {
			var err error
			if answer, replayed, err = e.opts.Store.ClaimKey(ctx, scope, key, r.fingerprint(a)); err != nil || replayed {
				return err
			}
		}
		out, err := a.Handle(r)
		if err != nil {
			return err
		}
		answer = store.Answer{Status: fiber.StatusNoContent, Trigger: a.trigger}
		if out != "" {
			answer.Status, answer.Body = fiber.StatusOK, []byte(out)
		}
		if key == "" {
			return nil
		}
		c.Response().Header.VisitAllCookie(func(_, v []byte) { answer.Cookies = append(answer.Cookies, string(v)) })
		return e.opts.Store.RecordAnswer(ctx, scope, key, answer)
	})
	if err != nil {
		// Nothing the action wrote stays: neither may a session cookie
		// it set, which would name a session that does not exist.
		if r.cookieSet {
			c.Response().Header.DelCookie(store.SessionCookie)
		}
		return e.failure(c, a, err, ctx, parent)
	}
	if replayed {
		for _, v := range answer.Cookies {
			c.Response().Header.Add(fiber.HeaderSetCookie, v)
		}
		c.Set(HeaderReplayed, "true")
		c.Locals(islands.LocalOutcome, OutcomeReplayed)
	}
	if answer.Trigger != "" {
		c.Set("HX-Trigger", answer.Trigger)
	}
	if len(answer.Body) == 0 {
		return c.SendStatus(answer.Status)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(answer.Status).Send(answer.Body)
}

// Headers of keyed actions.
const (
	// HeaderIdempotencyKey names one submission of an action: a repeat
	// gets the first answer.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderReplayed marks an answer recorded for an earlier request
	// with the same key.
	HeaderReplayed = "Idempotent-Replayed"
)

// OutcomeReplayed is the request log's outcome of a replayed answer.
const OutcomeReplayed islands.Outcome = "replayed"

// failure turns an action that did not commit into its answer. The keys'
// refusals are 422 and 409. Its deadline passing is an error that wraps
// context.DeadlineExceeded, which the server's error handler answers
// with 504 (or 503 when the store could not be reached), with
// Retry-After: the visitor may send it again. Anything else goes to the
// error handler as it is.
func (e *Engine) failure(c *fiber.Ctx, a *entry, err error, ctx, parent context.Context) error {
	var prob *Problem
	switch {
	case errors.As(err, &prob):
		return err
	case ctx.Err() != nil && parent.Err() == nil:
		c.Set(fiber.HeaderRetryAfter, "1")
		c.Locals(islands.LocalOutcome, islands.OutcomeTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			err = errors.Join(context.DeadlineExceeded, err)
		}
		return fmt.Errorf("action %q: no answer within its %s deadline: %w", a.Name, a.timeout, err)
	case errors.Is(err, store.ErrKeyReused):
		return Refuse(fiber.StatusUnprocessableEntity, "This Idempotency-Key was sent before with a different request.")
	case errors.Is(err, store.ErrKeyBusy):
		c.Set(fiber.HeaderRetryAfter, "1")
		return Refuse(fiber.StatusConflict, "The same request is still being handled. Please try again.")
	}
	return fmt.Errorf("action %q: %w", a.Name, err)
}

// idempotencyKey returns the key the header holds, "" for none; ok is
// false for one that is malformed. The key may come as a structured
// field string, in double quotes, as the IETF draft writes it.
func idempotencyKey(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(v) < 16 || len(v) > 128 {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == ':') {
			return "", false
		}
	}
	return strings.Clone(v), true
}

// scopeOf is the scope of a request's answers: the session cookie as it
// was sent, hashed so that the table holds no second copy of it; "" for
// none. A retry carries the cookie its first attempt carried.
func scopeOf(cookie string) string {
	if cookie == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fingerprint names the request: the action and its declared fields'
// values, so that a key sent again with other values is told apart.
func (r *Request) fingerprint(a *entry) string {
	h := sha256.New()
	h.Write([]byte(a.Name))
	for _, f := range a.Fields {
		h.Write([]byte{0})
		h.Write([]byte(f.Name))
		h.Write([]byte{0})
		h.Write([]byte(r.values[f.Name]))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Request is what an action's handler sees of one request: its declared
// fields, checked; the visitor's session, with ways to change it; the
// site's services. It is valid only while the handler runs.
type Request struct {
	c      *fiber.Ctx
	e      *Engine
	ctx    context.Context
	values map[string]string
	ints   map[string]int
	// cookieSet is set once the handler sets the session cookie.
	cookieSet bool
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

// Context is the action's context: it ends at the action's deadline and
// carries its store transaction (store.From).
func (r *Request) Context() context.Context { return r.ctx }

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
	r.cookieSet = true
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
