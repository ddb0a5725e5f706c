package islands

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"atoll/internal/httpcache"
)

// Locals keys under which Handle leaves the island's name and render time
// for the request log.
const (
	LocalIsland = "atoll.island"
	LocalRender = "atoll.render"
)

// Handle serves GET /_islands/:name. It sets, on success and failure alike,
// "Cache-Control: no-store", "X-Robots-Tag: noindex" and a Server-Timing
// entry with the render time; failures go to the server's error handler as
// *Failure.
func (e *Engine) Handle(c *fiber.Ctx) error {
	httpcache.NoStore(c)
	c.Set("X-Robots-Tag", "noindex")
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		c.Set(fiber.HeaderAllow, "GET, HEAD")
		return &Failure{Status: fiber.StatusMethodNotAllowed, Message: "Islands are fetched with GET."}
	}
	name := c.Params("name")
	if _, ok := e.islands[name]; !ok {
		return &Failure{Status: fiber.StatusNotFound, Message: "This island does not exist."}
	}
	name = e.islands[name].Name // a copy that outlives Fiber's buffers

	cookies := map[string]string{}
	c.Request().Header.VisitAllCookie(func(k, v []byte) { cookies[string(k)] = string(v) })

	start := time.Now()
	body, err := e.Render(c.UserContext(), name, cookies)
	took := time.Since(start)
	c.Locals(LocalIsland, name)
	c.Locals(LocalRender, took)
	c.Set("Server-Timing", fmt.Sprintf("render;dur=%.2f", float64(took.Microseconds())/1000))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(body)
}
