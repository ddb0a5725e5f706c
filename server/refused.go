package server

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/atollhq/atoll/internal/prom"
)

// refused logs and counts the requests the HTTP layer answers before any
// route runs: malformed requests (400), clients too slow to send one
// (408), bodies past the read limit (413) and headers past the read
// buffer (431); limitURI's 414s are counted with them. A flood of them is visible in the metrics, and in the log
// at a bounded rate: at most refusedBurst lines a second, the rest
// counted in the next line's "suppressed".
type refused struct {
	log     zerolog.Logger
	counter *prom.CounterVec

	mu         sync.Mutex
	window     time.Time
	lines      int
	suppressed int
}

const refusedBurst = 10

func newRefused(log zerolog.Logger, reg prom.Registerer) *refused {
	r := &refused{log: log, counter: prom.NewCounterVec(prom.CounterOpts{
		Namespace: "atoll", Name: "http_refused_total",
		Help: "Requests refused before routing (malformed, too slow, too large, target too long), by status code.",
	}, []string{"status_code"})}
	reg.MustRegister(r.counter)
	return r
}

// record counts one refusal and logs it unless the log's budget for this
// second is spent.
func (r *refused) record(c *fiber.Ctx, status int, err error) {
	r.recordFrom(c.Context().RemoteIP().String(), status, err)
}

func (r *refused) recordFrom(remote string, status int, err error) {
	r.counter.WithLabelValues(strconv.Itoa(status)).Inc()
	now := time.Now()
	r.mu.Lock()
	if now.Sub(r.window) >= time.Second {
		r.window, r.lines = now, 0
	}
	if r.lines >= refusedBurst {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	r.lines++
	suppressed := r.suppressed
	r.suppressed = 0
	r.mu.Unlock()
	r.log.Warn().Int("status", status).Str("remote", remote).Err(err).
		Int("suppressed", suppressed).Msg("refused before routing")
}

// refuseUnknownMethods wraps the HTTP server's handler so that a request
// with a method Fiber does not route (PROPFIND, FOO) is answered 501 Not
// Implemented, as RFC 9110 asks, and logged and counted like the other
// refusals; Fiber would answer it 400 before any middleware saw it.
func (r *refused) refuseUnknownMethods(app *fiber.App) {
	next := app.Server().Handler
	known := map[string]bool{}
	for _, m := range app.Config().RequestMethods {
		known[m] = true
	}
	app.Server().Handler = func(rc *fasthttp.RequestCtx) {
		if known[string(rc.Method())] { // no allocation: the compiler looks the bytes up in place
			next(rc)
			return
		}
		r.recordFrom(rc.RemoteIP().String(), fiber.StatusNotImplemented,
			fmt.Errorf("unknown method %.32q", rc.Method()))
		rc.Response.Header.Set(fiber.HeaderAllow, "GET, HEAD, POST")
		rc.Response.Header.Set(fiber.HeaderCacheControl, "no-store")
		rc.Error("Not Implemented\n", fiber.StatusNotImplemented)
	}
}

// MaxURI is the longest request target (path and query) the server
// accepts; longer ones get 414. Island URLs stay under islands.MaxURL.
const MaxURI = 8 << 10

// limitURI answers 414 for a request target over MaxURI, counted with
// the other refusals (the request log has its line).
func (s *Server) limitURI(c *fiber.Ctx) error {
	if len(c.Request().RequestURI()) > MaxURI {
		s.refused.counter.WithLabelValues("414").Inc()
		return fiber.ErrRequestURITooLong
	}
	return c.Next()
}
