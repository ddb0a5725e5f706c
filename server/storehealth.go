package server

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/prom"
	"github.com/atollhq/atoll/store"
)

// storeHealth follows the shared store apart from readiness: a store
// outage dims the islands and actions that need it (503 with
// Retry-After) and never takes the replica out of its balancer, since
// every replica shares the store and would leave at once. It logs each
// outage twice, a warning when it starts and an info line with the count
// of refused requests when it ends, and exports atoll_store_up and
// atoll_store_unavailable_total.
type storeHealth struct {
	log     zerolog.Logger
	up      prom.Gauge
	refused prom.Counter

	mu      sync.Mutex
	down    bool
	since   time.Time // the outage's start, or the last recovery
	count   int64     // requests refused in this outage
	cause   string
	checked time.Time
	// recovered is when the last outage ended, by the real clock: a
	// request that began before it and failed after it is the outage's
	// tail, not a new outage.
	recovered time.Time
}

func newStoreHealth(log zerolog.Logger, reg prom.Registerer, now time.Time) *storeHealth {
	h := &storeHealth{log: log, since: now,
		up: prom.NewGauge(prom.GaugeOpts{Namespace: "atoll", Name: "store_up",
			Help: "1 while the shared store answers, 0 during an outage (readiness does not follow it)."}),
		refused: prom.NewCounter(prom.CounterOpts{Namespace: "atoll", Name: "store_unavailable_total",
			Help: "Island and action requests answered 503 because the store could not be reached."}),
	}
	h.up.Set(1)
	reg.MustRegister(h.up, h.refused)
	return h
}

// unavailable records one request refused because the store could not
// be reached, starting an outage if none is under way, unless the request
// began (by the real clock) before the last outage ended: it waited out
// that outage and failed with it.
func (h *storeHealth) unavailable(now, began time.Time, cause error) {
	h.refused.Inc()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count++
	if !h.down && !began.Before(h.recovered) {
		h.begin(now, cause)
	}
}

// checked records the outcome of a ping: the end of an outage when it
// answered, the start of one when it could not be reached or hung.
func (h *storeHealth) ping(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = now
	switch {
	case err == nil && h.down:
		h.down = false
		h.up.Set(1)
		h.log.Info().Dur("outage", now.Sub(h.since)).Int64("refused", h.count).Msg("store available again")
		h.since, h.count, h.cause, h.recovered = now, 0, "", time.Now()
	case err != nil && !h.down:
		h.begin(now, err)
	}
}

func (h *storeHealth) begin(now time.Time, cause error) {
	h.down, h.since, h.cause = true, now, cause.Error()
	h.up.Set(0)
	h.log.Warn().Err(cause).Msg("store unavailable: islands and actions that need it answer 503 until it returns; pages and readiness are unaffected")
}

// report is what /healthz/store shows.
type storeReport struct {
	Up      bool      `json:"up"`
	Since   time.Time `json:"since"`
	Refused int64     `json:"refused"`
	Error   string    `json:"error,omitempty"`
	Checked time.Time `json:"checked"`
}

func (h *storeHealth) report() storeReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	return storeReport{Up: !h.down, Since: h.since, Refused: h.count, Error: h.cause, Checked: h.checked}
}

// storePing is how often WatchStore pings the store, and how long it
// waits for an answer.
const storePing = time.Second

// WatchStore pings the store every second until ctx ends, so that an
// outage is noticed, and its end logged, whether or not requests need
// the store meanwhile; and checks that a SQLite database file is still
// the one the server opened. App runs it; a site mounted with
// Server.Mount runs it itself.
func (s *Server) WatchStore(ctx context.Context) {
	t := time.NewTicker(storePing)
	defer t.Stop()
	for {
		s.checkDBFile()
		pctx, cancel := context.WithTimeout(ctx, storePing)
		err := s.store.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		s.health.ping(s.now(), err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dbFile is the SQLite database file the server opened, to notice its
// removal or replacement under the running server: what is written then
// would be lost at shutdown.
type dbFile struct {
	path string
	info os.FileInfo
	mu   sync.Mutex
	lost error // set once, when the file is gone or replaced
}

func openedDBFile(dsn string) *dbFile {
	if dsn == "" || dsn == ":memory:" || store.IsPostgres(dsn) || len(dsn) > 5 && dsn[:5] == "file:" {
		return nil
	}
	info, err := os.Stat(dsn)
	if err != nil {
		return nil
	}
	return &dbFile{path: dsn, info: info}
}

// checkDBFile fails readiness, logging it once, when the database file
// has been removed or replaced since the server opened it.
func (s *Server) checkDBFile() error {
	f := s.dbFile
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost != nil {
		return f.lost
	}
	info, err := os.Stat(f.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		f.lost = errors.New("the database file " + f.path + " was removed")
	case err == nil && !os.SameFile(info, f.info):
		f.lost = errors.New("the database file " + f.path + " was replaced by another file")
	default:
		return nil
	}
	s.log.Error().Err(f.lost).Msg("readiness fails: what this server writes now would be lost; restart it")
	return f.lost
}

// storeStatus serves /healthz/store: the shared store's state as JSON,
// 200 while it answers and 503 during an outage, for monitoring (never
// for a balancer's health check: see readyz).
func (s *Server) storeStatus(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	r := s.health.report()
	if !r.Up {
		c.Status(fiber.StatusServiceUnavailable)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterStore))
	}
	return c.JSON(r)
}

// retryAfterStore is the Retry-After, in seconds, of answers refused for
// a store outage.
const retryAfterStore = 5
