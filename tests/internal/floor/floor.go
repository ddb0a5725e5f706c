// Package floor is the bare Fiber handler Atoll's benchmarks measure
// against: the same bytes, the same island HTML and the same response
// headers, with none of Atoll's work around them. It has no middleware;
// each handler sets its headers itself, the cheapest way fasthttp offers
// (appending to a fresh response), so the ratio to it is Atoll's own work.
package floor

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/server"
)

// RequestID stands in for the per-request id Atoll echoes: the same
// header with a value of the same length, without making one.
const RequestID = "00000000-0000-4000-8000-000000000000"

// securityHeaders are the headers Atoll sends on every response besides
// its Content-Security-Policy. tools/loadbench also compares the headers
// both servers actually send.
var securityHeaders = server.SecurityHeaders()

// Page is the page the floor serves: its path, bytes and caching headers
// as Atoll sent them, and Atoll's Content-Security-Policy (it names the
// hashes of the site's scripts and stylesheets), sent on every response.
type Page struct {
	Path         string
	Body         []byte
	ETag         string
	CacheControl string
	CSP          string
}

// ServerInfo builds the server-info island's HTML with fmt.
func ServerInfo(now time.Time) string {
	return fmt.Sprintf(`<div class="island island--server-info" data-island="server-info"><dl class="facts">`+
		`<div class="fact"><dt>Server Time</dt><dd data-field="time">%s</dd></div>`+
		`<div class="fact"><dt>Server Date</dt><dd data-field="date">%s</dd></div>`+
		`<div class="fact"><dt>Random Token</dt><dd data-field="token">#%d</dd></div></dl></div>`,
		now.Format("3:04:05 PM"), now.Format("Monday, January 2, 2006"), 100_000+rand.IntN(900_000))
}

// App serves page and the server-info island at islandPath, each with the
// headers Atoll sends for it.
func App(page Page, islandPath string) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get(page.Path, func(c *fiber.Ctx) error {
		h := &c.Response().Header
		h.SetContentType(fiber.MIMETextHTMLCharsetUTF8)
		common(c, page.CSP)
		h.Add(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		h.Add(fiber.HeaderCacheControl, page.CacheControl)
		h.Add(fiber.HeaderETag, page.ETag)
		return c.Send(page.Body)
	})
	app.Get(islandPath, func(c *fiber.Ctx) error {
		start := time.Now()
		body := ServerInfo(start)
		took := time.Since(start)
		h := &c.Response().Header
		h.SetContentType(fiber.MIMETextHTMLCharsetUTF8)
		common(c, page.CSP)
		h.Add(fiber.HeaderCacheControl, "no-store")
		h.Add("X-Robots-Tag", "noindex")
		h.Add("Server-Timing", "render;dur="+strconv.FormatFloat(float64(took.Microseconds())/1000, 'f', 2, 64))
		h.Add(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		return c.SendString(body)
	})
	return app
}

// common appends the request id, the security headers and csp.
func common(c *fiber.Ctx, csp string) {
	h := &c.Response().Header
	h.Add(fiber.HeaderXRequestID, RequestID)
	for _, kv := range securityHeaders {
		h.Add(kv[0], kv[1])
	}
	h.Add(fiber.HeaderContentSecurityPolicy, csp)
}
