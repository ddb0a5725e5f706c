package server

import (
	"context"
	"time"

	"github.com/ansrivas/fiberprometheus/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"atoll/internal/islands"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// so that several servers in one process (tests) do not collide.
type metrics struct {
	registry      *prometheus.Registry
	http          *fiberprometheus.FiberPrometheus
	islandRender  *prometheus.HistogramVec
	regenerations *prometheus.CounterVec
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{
		registry: reg,
		// atoll_http_requests_total and atoll_http_request_duration_seconds,
		// by status code, method and route.
		http: fiberprometheus.NewWithRegistry(reg, "atoll", "atoll", "http", nil),
		islandRender: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "atoll", Name: "island_render_duration_seconds",
			Help:    "Island render time by island and outcome (ok, error, timeout, panic, bad_props).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}, []string{"island", "outcome"}),
		regenerations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "atoll", Name: "page_regenerations_total",
			Help: "Background regenerations of pages with a render interval, by page and result.",
		}, []string{"page", "result"}),
	}
	reg.MustRegister(m.islandRender, m.regenerations)
	return m
}

func (m *metrics) observeIsland(island string, o islands.Outcome, took time.Duration) {
	m.islandRender.WithLabelValues(island, string(o)).Observe(took.Seconds())
}

func (m *metrics) regenerated(page string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.regenerations.WithLabelValues(page, result).Inc()
}

// livez answers 200 while the process serves at all.
func (s *Server) livez(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok\n")
}

// readyz answers 200 when the server should get traffic: it is not
// shutting down and its store answers; 503 otherwise, so a load balancer
// drains it first.
func (s *Server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.draining.Load() {
		return c.Status(fiber.StatusServiceUnavailable).SendString("shutting down\n")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Error().Err(err).Msg("readyz: store does not answer")
		return c.Status(fiber.StatusServiceUnavailable).SendString("store unavailable\n")
	}
	return c.SendString("ok\n")
}
