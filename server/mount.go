package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"
)

// Handler serves the site from inside another Fiber app's handler chain:
// the request goes through the site's own middleware, routes and error
// handler, and the response is complete when it returns. The site's
// routes include its base path, so the parent routes the same prefix to
// it; Mount does that.
func (s *Server) Handler() fiber.Handler {
	h := s.app.Handler()
	return func(c *fiber.Ctx) error {
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
	parent.Use(base, func(c *fiber.Ctx) error {
		if p := c.Path(); p != base && !(len(p) > len(base) && p[len(base)] == '/') {
			return c.Next()
		}
		return h(c)
	})
	return nil
}
