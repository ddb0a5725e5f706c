// Package floor is the bare Fiber handler Atoll's benchmarks measure
// against: the same bytes and the same island HTML, with none of Atoll's
// work around them.
package floor

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gofiber/fiber/v2"
)

// ServerInfo builds the server-info island's HTML with fmt.
func ServerInfo(now time.Time) string {
	return fmt.Sprintf(`<div class="island island--server-info" data-island="server-info"><dl class="facts">`+
		`<div class="fact"><dt>Server Time</dt><dd data-field="time">%s</dd></div>`+
		`<div class="fact"><dt>Server Date</dt><dd data-field="date">%s</dd></div>`+
		`<div class="fact"><dt>Random Token</dt><dd data-field="token">#%d</dd></div></dl></div>`,
		now.Format("3:04:05 PM"), now.Format("Monday, January 2, 2006"), 100_000+rand.IntN(900_000))
}

// App serves page at pagePath and the server-info island at islandPath.
func App(pagePath string, page []byte, islandPath string) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get(pagePath, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(page)
	})
	app.Get(islandPath, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.SendString(ServerInfo(time.Now()))
	})
	return app
}
