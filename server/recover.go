package server

import (
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"
)

// panicError is a panic in a handler, turned into an error with its stack
// so the request log can record the stack and the visitor sees a 500.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// recoverPanics turns a panic further down the chain into a *panicError.
// Islands recover their own panics; this guards everything else.
func recoverPanics() fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &panicError{value: p, stack: debug.Stack()}
			}
		}()
		return c.Next()
	}
}
