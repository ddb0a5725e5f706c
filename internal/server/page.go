package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"atoll/internal/httpcache"
	"atoll/internal/pages"
)

// page serves a page rendered at startup: the stored bytes, a long public
// max-age and a strong ETag, with 304 when the ETag is presented again.
// In dev mode the page is rendered from disk for every request and marked
// no-store.
func (s *Server) page(c *fiber.Ctx) error {
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		c.Set(fiber.HeaderAllow, "GET, HEAD")
		return fiber.ErrMethodNotAllowed
	}
	route := c.Path()
	p, ok, err := s.lookup(route)
	if err != nil {
		return err
	}
	if !ok {
		if trimmed := strings.TrimRight(route, "/"); trimmed != route && trimmed != "" {
			if _, ok, _ := s.lookup(trimmed); ok {
				return c.Redirect(trimmed, fiber.StatusMovedPermanently)
			}
		}
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	if s.cfg.Dev {
		httpcache.NoStore(c)
		return c.Send(p.Body)
	}
	if httpcache.Page(c, s.cfg.PageMaxAge, p.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(p.Body)
}

func (s *Server) lookup(route string) (*pages.Page, bool, error) {
	if s.cfg.Dev {
		return s.renderer.Render(route)
	}
	p, ok := s.site.Lookup(route)
	return p, ok, nil
}
