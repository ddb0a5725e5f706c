package server

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"atoll/internal/islands"
	"atoll/internal/requestid"
)

const localError = "atoll.error"

// requestLog gives every request an id (a well-formed incoming
// X-Request-ID is kept, anything else replaced), echoes it in the
// X-Request-ID response header, hands errors to the error handler, and
// writes one log line per request: id, method, path, status, latency, the
// island and its render time where there is one, and the error, once.
func requestLog(log zerolog.Logger, handleError fiber.ErrorHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		id := c.Get(fiber.HeaderXRequestID)
		if u, err := uuid.Parse(id); err != nil || len(id) != 36 || u == uuid.Nil {
			id = uuid.NewString()
		}
		c.Locals(requestid.Local, id)
		c.Response().Header.Add(fiber.HeaderXRequestID, id) // the first header of a fresh response: nothing to replace

		if err := c.Next(); err != nil {
			if herr := handleError(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}

		status := c.Response().StatusCode()
		ev := log.Info()
		err, _ := c.Locals(localError).(error)
		switch {
		case status >= 500:
			ev = log.Error()
		case err != nil && status != fiber.StatusNotFound:
			ev = log.Warn()
		}
		ev = ev.Str("request_id", id).Str("method", c.Method()).Str("path", c.Path()).
			Int("status", status).Dur("latency", time.Since(start))
		if name, ok := c.Locals(islands.LocalIsland).(string); ok {
			ev = ev.Str("island", name)
		}
		if d, ok := c.Locals(islands.LocalRender).(time.Duration); ok {
			ev = ev.Dur("render", d)
		}
		if o, ok := c.Locals(islands.LocalOutcome).(islands.Outcome); ok {
			ev = ev.Str("outcome", string(o))
		}
		if err != nil && status != fiber.StatusNotFound {
			ev = ev.AnErr("error", err)
			var f *islands.Failure
			if errors.As(err, &f) && f.Stack != nil {
				ev = ev.Bytes("stack", f.Stack)
			}
			var p *panicError
			if errors.As(err, &p) {
				ev = ev.Bytes("stack", p.stack)
			}
		}
		ev.Msg("request")
		return nil
	}
}
