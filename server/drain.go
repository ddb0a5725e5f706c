package server

import "github.com/gofiber/fiber/v2"

// BeginDrain starts the drain that precedes a stop: /readyz answers 503
// and every response carries Connection: close, while the listener keeps
// serving, so a load balancer takes the server out of rotation and its
// keep-alive connections close after their next answer, before Shutdown
// refuses new ones.
func (s *Server) BeginDrain() { s.draining.Store(true) }

// closeWhenDraining marks responses Connection: close once the server
// drains.
func (s *Server) closeWhenDraining(c *fiber.Ctx) error {
	if s.draining.Load() {
		c.Context().SetConnectionClose()
	}
	return c.Next()
}
