package server

import (
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

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

// refused logs and counts the requests the HTTP layer answers before any
// route runs: malformed requests (400), clients too slow to send one
// (408), bodies past the read limit (413) and headers past the read
// buffer (431); limitURI's 414s are counted with them. A flood of them is visible in the metrics, and in the log
// at a bounded rate: at most refusedBurst lines a second, the rest
// counted in the next line's "suppressed".
type refused struct {
	log     zerolog.Logger
	counter *prometheus.CounterVec

	mu         sync.Mutex
	window     time.Time
	lines      int
	suppressed int
}

const refusedBurst = 10

func newRefused(log zerolog.Logger, reg prometheus.Registerer) *refused {
	r := &refused{log: log, counter: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "atoll", Name: "http_refused_total",
		Help: "Requests refused before routing (malformed, too slow, too large, target too long), by status code.",
	}, []string{"status_code"})}
	reg.MustRegister(r.counter)
	return r
}

// record counts one refusal and logs it unless the log's budget for this
// second is spent.
func (r *refused) record(c *fiber.Ctx, status int, err error) {
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
	r.log.Warn().Int("status", status).Str("remote", c.Context().RemoteIP().String()).Err(err).
		Int("suppressed", suppressed).Msg("refused before routing")
}

// buildStamp is the build's time in Unix seconds, set by make build:
//
//	go build -ldflags "-X github.com/atollhq/atoll/server.buildStamp=$(git log -1 --format=%ct)"
var buildStamp string

// BuildTime is the time the running program was built from: the stamp
// make build sets, else the commit time the go command records in a
// binary built from a checkout, else ok is false (go run, go test), and
// the server uses its start time. Replicas of one build show the same
// build time and so serve the same bytes and ETags.
func BuildTime() (t time.Time, source string, ok bool) {
	if n, err := strconv.ParseInt(buildStamp, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), "build stamp", true
	}
	if info, found := debug.ReadBuildInfo(); found {
		for _, s := range info.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.UTC(), "vcs.time", true
				}
			}
		}
	}
	return time.Time{}, "", false
}
