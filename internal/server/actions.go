package server

import (
	"github.com/gofiber/fiber/v2"
)

// RefreshEvent is the event POST /actions/refresh announces; islands
// placed with (on "islands-refresh") fetch themselves again when it fires.
const RefreshEvent = "islands-refresh"

// action serves POST {base}/actions/{name}. Actions change state and
// answer with an HX-Trigger event that islands listen for; they never
// render a page. refresh changes nothing and only announces RefreshEvent.
func (s *Server) action(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		c.Set(fiber.HeaderAllow, "POST")
		return fiber.ErrMethodNotAllowed
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	switch c.Params("*") {
	case "refresh":
		c.Set("HX-Trigger", RefreshEvent)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return fiber.ErrNotFound
}
