package server

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Handler serves the site from inside another Fiber app's handler chain:
// the request goes through the site's own middleware, routes and error
// handler, and the response is complete when it returns. The site's
// routes include its base path, so the parent routes the same prefix to
// it; Mount does that.
//
// Headers the site sets on every response (the security headers and the
// Content-Security-Policy) are removed first when middleware the parent
// ran earlier set them, helmet for one: the site appends its own without
// looking (see secureHeaders), and a response carrying two
// X-Frame-Options or two policies is one the browser may read either way.
func (s *Server) Handler() fiber.Handler {
	h := s.app.Handler()
	return func(c *fiber.Ctx) error {
		hdr := &c.Response().Header
		for _, kv := range securityHeaders {
			hdr.Del(kv[0])
		}
		hdr.Del(fiber.HeaderContentSecurityPolicy)
		h(c.Context())
		return nil
	}
}

// Mount serves the site in parent under the site's base path
// (Config.BasePath, which must be set): every request whose path is the
// base path or starts with it and a slash. The parent's other routes are
// its own. Health and metrics endpoints stay with the parent: the site's
// /livez, /readyz and /metrics are not mounted.
func (s *Server) Mount(parent *fiber.App) error {
	base := s.cfg.BasePath
	if base == "" {
		return errors.New("server: Mount needs a base path (Config.BasePath, such as /shop)")
	}
	h := s.Handler()
	// Fiber's Use matches any path that starts with base, /shopping for
	// /shop, and ignores case unless the parent is CaseSensitive, so the
	// path is checked again here, exactly: /SHOP/ stays the parent's,
	// as the session cookie (Path=/shop/) would not be sent there.
	parent.Use(base, func(c *fiber.Ctx) error {
		if p := c.Path(); p != base && !strings.HasPrefix(p, base+"/") {
			return c.Next()
		}
		return h(c)
	})
	return nil
}
