// Package actions handles the demo's state-changing requests: sign in,
// sign out, add to cart. Each answers with a small fragment for the form
// that sent it and an HX-Trigger event that the islands showing the
// changed state listen for. Actions are the only responses that set
// cookies; pages never do.
package actions

import (
	"errors"
	"html/template"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"atoll/fragments"
	"atoll/internal/catalog"
	"atoll/internal/store"
)

// Events the actions announce.
const (
	SessionChanged = "session-changed"
	CartUpdated    = "cart-updated"
	Refresh        = "islands-refresh"
)

// Limits on what a form may send.
const (
	MaxNameRunes = 40
	MaxAddQty    = 10
)

// Problem is an action refused with a status and a message for the
// visitor. The server's error handler renders it as a small fragment.
type Problem struct {
	Status  int
	Message string
}

func (p *Problem) Error() string { return p.Message }

func problem(status int, msg string) *Problem { return &Problem{Status: status, Message: msg} }

// Handler serves POST {base}/actions/*.
type Handler struct {
	Store store.Store
	Now   func() time.Time
	// BasePath scopes the session cookie to the site ("" for the root).
	BasePath string
}

// Handle dispatches an action by name.
func (h *Handler) Handle(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		c.Set(fiber.HeaderAllow, "POST")
		return problem(fiber.StatusMethodNotAllowed, "Actions are sent with POST.")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	switch c.Params("*") {
	case "sign-in":
		return h.signIn(c)
	case "sign-out":
		return h.signOut(c)
	case "cart/add":
		return h.addToCart(c)
	case "refresh":
		c.Set("HX-Trigger", Refresh)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return problem(fiber.StatusNotFound, "There is no such action.")
}

// signIn creates a user called by the form's name and a new session for
// them; the cart of the session it replaces comes along.
func (h *Handler) signIn(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxNameRunes || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return problem(fiber.StatusBadRequest, "Enter a name of 1 to 40 characters.")
	}
	replaces := ""
	if old, err := h.session(c); err == nil {
		replaces = old.ID
	} else if !errors.Is(err, store.ErrNoSession) && !errors.Is(err, errNoCookie) {
		return err
	}
	sess, err := h.Store.SignIn(c.UserContext(), strings.Clone(name), replaces)
	if err != nil {
		return err
	}
	h.setCookie(c, sess)
	c.Set("HX-Trigger", SessionChanged+", "+CartUpdated)
	return sendFragment(c, `<span class="ok">Welcome, `+template.HTMLEscapeString(name)+`.</span>`)
}

// signOut deletes the visitor's session and its cookie.
func (h *Handler) signOut(c *fiber.Ctx) error {
	sess, err := h.requireSession(c)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteSession(c.UserContext(), sess.ID); err != nil {
		return err
	}
	h.clearCookie(c)
	c.Set("HX-Trigger", SessionChanged+", "+CartUpdated)
	return sendFragment(c, `<span class="ok">Signed out.</span>`)
}

// addToCart adds the form's product and quantity to the visitor's cart,
// making a guest session on the first add.
func (h *Handler) addToCart(c *fiber.Ctx) error {
	product, ok := catalog.Lookup(c.FormValue("product"))
	if !ok {
		return problem(fiber.StatusNotFound, "That product is not in the shop.")
	}
	qty := 1
	if v := c.FormValue("qty"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAddQty {
			return problem(fiber.StatusBadRequest, "Choose a quantity from 1 to 10.")
		}
		qty = n
	}
	sess, err := h.session(c)
	switch {
	case errors.Is(err, errNoCookie):
		if sess, err = h.Store.NewSession(c.UserContext()); err != nil {
			return err
		}
		h.setCookie(c, sess)
	case errors.Is(err, store.ErrNoSession):
		h.clearCookie(c)
		return problem(fiber.StatusUnauthorized, "Your session has expired. Reload the page and try again.")
	case err != nil:
		return err
	}
	count, err := h.Store.AddToCart(c.UserContext(), sess.ID, product.ID, qty)
	if errors.Is(err, store.ErrTooMany) {
		return problem(fiber.StatusUnprocessableEntity, "That is more than one cart can hold.")
	}
	if err != nil {
		return err
	}
	c.Set("HX-Trigger", CartUpdated)
	return sendFragment(c, `<span class="ok">Added. `+strconv.Itoa(count)+` in your cart.</span>`)
}

var errNoCookie = errors.New("no session cookie")

// session returns the visitor's live session: errNoCookie without a
// cookie, store.ErrNoSession for a forged, signed-out or expired one.
func (h *Handler) session(c *fiber.Ctx) (store.Session, error) {
	id := c.Cookies(fragments.SessionCookie)
	if id == "" {
		return store.Session{}, errNoCookie
	}
	return h.Store.Session(c.UserContext(), strings.Clone(id))
}

// requireSession is session for actions that need one: a missing or
// dead session is a 401, and a dead cookie is cleared.
func (h *Handler) requireSession(c *fiber.Ctx) (store.Session, error) {
	sess, err := h.session(c)
	switch {
	case errors.Is(err, errNoCookie):
		return sess, problem(fiber.StatusUnauthorized, "You are not signed in.")
	case errors.Is(err, store.ErrNoSession):
		h.clearCookie(c)
		return sess, problem(fiber.StatusUnauthorized, "Your session has expired. Reload the page.")
	}
	return sess, err
}

// setCookie sets the session cookie: HttpOnly, SameSite=Lax, Path=/ (or
// the base path), and
// Secure when the request came over TLS (directly, or through a trusted
// proxy's X-Forwarded-Proto).
func (h *Handler) setCookie(c *fiber.Ctx, sess store.Session) {
	c.Cookie(&fiber.Cookie{
		Name:     fragments.SessionCookie,
		Value:    sess.ID,
		Path:     h.BasePath + "/",
		Expires:  sess.Expires,
		MaxAge:   int(sess.Expires.Sub(h.Now()) / time.Second),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   c.Protocol() == "https",
	})
}

func (h *Handler) clearCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name:     fragments.SessionCookie,
		Value:    "",
		Path:     h.BasePath + "/",
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   c.Protocol() == "https",
	})
}

func sendFragment(c *fiber.Ctx, html string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(html)
}
