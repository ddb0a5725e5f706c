package server

import (
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// crossOriginProtection refuses state-changing requests that a browser
// sent on behalf of another site, with 403, before any handler runs. A
// browser marks them with Sec-Fetch-Site (cross-site or same-site) or,
// when it is older, with an Origin that is not this site's: not origin
// (ATOLL_ORIGIN, when set), and naming a host other than the one the
// request was sent to (the Host header, or X-Forwarded-Host from a
// trusted proxy). Requests with neither header do not come from a
// browser page, so no visitor's cookies are being borrowed. This needs no
// token, so cached pages carry none.
func crossOriginProtection(origin string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
			return c.Next()
		}
		switch c.Get("Sec-Fetch-Site") {
		case "same-origin", "none":
			return c.Next()
		case "":
		default:
			return errCrossOrigin
		}
		from := c.Get(fiber.HeaderOrigin)
		if from == "" || (origin != "" && from == origin) {
			return c.Next()
		}
		// Hostname is X-Forwarded-Host only when the proxy is trusted.
		if u, err := url.Parse(from); err != nil || u.Host != c.Hostname() {
			return errCrossOrigin
		}
		return c.Next()
	}
}

var errCrossOrigin = fiber.NewError(fiber.StatusForbidden, "cross-origin request refused")
