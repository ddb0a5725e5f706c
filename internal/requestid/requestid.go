// Package requestid names where a request's id lives while it is handled,
// so every package can put it on its log lines.
package requestid

import "github.com/gofiber/fiber/v2"

// Local is the Fiber Locals key holding the request id.
const Local = "atoll.request_id"

// From returns the request's id, "" before the request log assigned one.
func From(c *fiber.Ctx) string {
	id, _ := c.Locals(Local).(string)
	return id
}
