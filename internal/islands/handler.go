package islands

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/internal/compress"
)

// Locals keys under which the handlers leave the island's name, render
// time and outcome for the request log.
const (
	LocalIsland  = "atoll.island"
	LocalRender  = "atoll.render"
	LocalOutcome = "atoll.outcome"
)

// MaxRequestURI is the longest island request URI accepted; longer ones
// get 414 (props that long travel in a POST body instead).
const MaxRequestURI = 8192

// Handle serves GET and POST {base}/_islands/{name}. It sets, on success
// and failure alike, the island's Cache-Control ("no-store" unless the
// island declares otherwise), "X-Robots-Tag: noindex" and a Server-Timing
// entry with the render time. It reads no HX-* or Accept header, so a
// plain fetch of the same URL gets the same fragment. Failures go to the
// server's error handler as *Failure.
func (e *Engine) Handle(c *fiber.Ctx) error {
	if err := admit(c); err != nil {
		return err
	}
	m := c.Method()
	is, ok := e.islands[c.Params("name")]
	if !ok {
		return &Failure{Status: fiber.StatusNotFound, Outcome: OutcomeRejected, Message: "This island does not exist."}
	}
	c.Locals(LocalIsland, is.name)
	if len(c.Request().RequestURI()) > MaxRequestURI {
		return &Failure{Status: fiber.StatusRequestURITooLong, Outcome: OutcomeRejected, Message: "This island's link is too long."}
	}
	sealed := c.Query("p")
	if m == fiber.MethodPost {
		sealed = c.FormValue("p")
	}
	spec, f := e.parseSpec(is.Name, c.Query("page"), sealed, c.Query("every"), c.Query("on"))
	if f != nil {
		e.observe(is.Name, f.Outcome, 0)
		return f
	}

	var cookies map[string]string // reading a nil map is fine: most islands read no cookies
	if len(is.Cookies) > 0 {
		cookies = make(map[string]string, len(is.Cookies))
	}
	for _, name := range is.Cookies {
		if v := c.Cookies(name); v != "" {
			cookies[name] = strings.Clone(v)
		}
	}
	start := time.Now()
	body, err := e.Render(c.UserContext(), spec, cookies)
	took := time.Since(start)
	c.Locals(LocalRender, took)
	h := &c.Response().Header
	// Server-Timing and Vary are set nowhere else, so they are appended
	// rather than set (which would scan the headers already there).
	var timing [32]byte
	h.AddBytesV("Server-Timing", strconv.AppendFloat(append(timing[:0], "render;dur="...), float64(took.Microseconds())/1000, 'f', 2, 64))
	if err != nil {
		return err
	}
	c.Locals(LocalOutcome, OutcomeOK)
	if is.cache != "no-store" { // admit set no-store
		c.Set(fiber.HeaderCacheControl, is.cache)
	}
	h.SetContentType(fiber.MIMETextHTMLCharsetUTF8)
	if is.cache != "no-store" && len(is.Cookies) > 0 {
		// A private copy of a cookie-reading island is only good for the
		// same cookies: after sign-in or sign-out the browser must refetch.
		h.Add(fiber.HeaderVary, "Accept-Encoding, Cookie")
	} else {
		h.Add(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	}
	body, enc := compress.Dynamic(c.Get(fiber.HeaderAcceptEncoding), body)
	if enc != compress.Identity {
		c.Set(fiber.HeaderContentEncoding, enc)
	}
	return c.Send(body)
}

// admit sets the headers every island and batch response carries, failed
// or not, and refuses methods other than GET, HEAD and POST.
func admit(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Response().Header.Add("X-Robots-Tag", "noindex") // set nowhere before
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodPost:
		return nil
	}
	c.Set(fiber.HeaderAllow, "GET, HEAD, POST")
	return &Failure{Status: fiber.StatusMethodNotAllowed, Outcome: OutcomeRejected, Message: "Islands are fetched with GET or POST."}
}

// badLink is the failure of an island request whose URL is not one a page
// of this site made: tampered or foreign props, props that do not match
// the island's declaration, a bad refresh setting. A stale page can carry
// such a link, so the visitor is told that reloading helps.
func badLink(name string, cause error) *Failure {
	return &Failure{Spec: &Spec{Name: name}, Status: fiber.StatusBadRequest, Outcome: OutcomeBadProps,
		Message: "This part of the page has an invalid link. Reloading the page should fix it.", Cause: cause}
}

// parseSpec checks everything an island URL carries. Every string it
// keeps is a copy, since Fiber reuses request buffers after the handler
// returns and a render may outlive it.
func (e *Engine) parseSpec(name, page, sealed, every, on string) (*Spec, *Failure) {
	s := &Spec{Name: name, Page: SamePath(page)}
	bad := func(cause error) *Failure { return badLink(name, cause) }
	if sealed != "" {
		plain, err := e.opts.Keys.Open(purpose(name), sealed)
		if err != nil {
			return nil, bad(fmt.Errorf("open props: %w", err))
		}
		if err := json.Unmarshal(plain, &s.Props); err != nil || s.Props == nil {
			return nil, bad(fmt.Errorf("decode props: %v", err))
		}
		s.sealed = strings.Clone(sealed)
	}
	if every != "" {
		d, err := time.ParseDuration(every)
		if err != nil {
			return nil, bad(fmt.Errorf("every=%q: %w", every, err))
		}
		s.Every = d
	}
	if on != "" {
		for _, ev := range strings.Split(on, ",") {
			s.On = append(s.On, strings.Clone(ev))
		}
	}
	if err := checkRefresh(s.Every, s.On); err != nil {
		return nil, bad(err)
	}
	return s, nil
}
