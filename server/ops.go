package server

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/internal/islands"
	"github.com/atollhq/atoll/internal/prom"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// so that several servers in one process (tests) do not collide.
type metrics struct {
	registry      *prom.Registry
	http          *httpMetrics
	islandRender  *prom.HistogramVec
	regenerations *prom.CounterVec
	// renders are islandRender's children by island and outcome, copied
	// on write, so a render does not hash its label values.
	renderMu sync.Mutex
	renders  atomic.Pointer[map[[2]string]prom.Observer]
}

func newMetrics() *metrics {
	reg := prom.NewServerRegistry()
	m := &metrics{
		registry: reg,
		http:     newHTTPMetrics(reg),
		islandRender: prom.NewHistogramVec(prom.HistogramOpts{
			Namespace: "atoll", Name: "island_render_duration_seconds",
			Help:    "Island render time by island and outcome (ok, error, timeout, panic, bad_props).",
			Buckets: prom.ExponentialBuckets(0.0001, 2.5, 12),
		}, []string{"island", "outcome"}),
		regenerations: prom.NewCounterVec(prom.CounterOpts{
			Namespace: "atoll", Name: "page_regenerations_total",
			Help: "Background regenerations of pages with a render interval, by page and result.",
		}, []string{"page", "result"}),
	}
	reg.MustRegister(m.islandRender, m.regenerations)
	m.renders.Store(&map[[2]string]prom.Observer{})
	return m
}

// MetricsHandler serves the server's Prometheus metrics in the text or
// OpenMetrics format. App serves it on Config.MetricsAddr; a parent app
// that mounts the site may serve it where it likes.
func (s *Server) MetricsHandler() http.Handler {
	return prom.Handler(s.metrics.registry)
}

// httpMetrics counts and times requests by status code, method and route:
// atoll_http_requests_total, atoll_http_request_duration_seconds and the
// in-flight atoll_http_requests_in_progress_total by method, with the
// names, labels and buckets fiberprometheus gave them. The labelled
// children are resolved once per route, method and status and kept, so a
// request pays two atomic adds and a histogram observation, not a hash
// of its label values.
type httpMetrics struct {
	requests *prom.CounterVec
	duration *prom.HistogramVec
	inFlight *prom.GaugeVec
	// gauges are the in-flight gauges of the standard methods, made at
	// construction and only read after.
	gauges map[string]prom.Gauge

	mu         sync.Mutex // serialises writers of children
	children   atomic.Pointer[map[routeKey]*routeMetrics]
	registered map[string]bool // "METHOD /path" of the app's routes, made on first use
}

type routeKey struct {
	path, method string
	status       int
}

type routeMetrics struct {
	requests prom.Counter
	duration prom.Observer
}

func newHTTPMetrics(reg prom.Registerer) *httpMetrics {
	service := prom.Labels{"service": "atoll"}
	labels := []string{"status_code", "method", "path"}
	m := &httpMetrics{
		requests: prom.NewCounterVec(prom.CounterOpts{
			Name: "atoll_http_requests_total", Help: "Count all http requests by status code, method and path.",
			ConstLabels: service,
		}, labels),
		duration: prom.NewHistogramVec(prom.HistogramOpts{
			Name: "atoll_http_request_duration_seconds", Help: "Duration of all HTTP requests by status code, method and path.",
			ConstLabels: service,
			Buckets: []float64{1e-9, 2e-9, 5e-9, 1e-8, 2e-8, 5e-8, 1e-7, 2e-7, 5e-7, 1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5,
				1e-4, 2e-4, 5e-4, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20, 30, 60},
		}, labels),
		inFlight: prom.NewGaugeVec(prom.GaugeOpts{
			Name: "atoll_http_requests_in_progress_total", Help: "All the requests in progress",
			ConstLabels: service,
		}, []string{"method"}),
		gauges: map[string]prom.Gauge{},
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight)
	for _, method := range fiber.DefaultMethods {
		m.gauges[method] = m.inFlight.WithLabelValues(method)
	}
	m.children.Store(&map[routeKey]*routeMetrics{})
	return m
}

// middleware records every request that reached one of the app's routes.
func (m *httpMetrics) middleware(c *fiber.Ctx) error {
	g, ok := m.gauges[c.Method()]
	if !ok { // a method outside Fiber's list: its own label, as it came
		g = m.inFlight.WithLabelValues(strings.Clone(c.Method()))
	}
	g.Inc()
	defer g.Dec()
	start := time.Now()
	err := c.Next()
	status := fiber.StatusInternalServerError
	if err == nil {
		status = c.Response().StatusCode()
	} else if fe, ok := err.(*fiber.Error); ok {
		status = fe.Code
	}
	r := c.Route()
	k := routeKey{path: r.Path, method: r.Method, status: status}
	rm, ok := (*m.children.Load())[k]
	if !ok {
		if rm = m.resolve(c.App(), k); rm == nil {
			return err
		}
	}
	rm.requests.Inc()
	rm.duration.Observe(time.Since(start).Seconds())
	return err
}

// resolve returns the metrics of a route, method and status, made on
// first sight; nil for anything but a route the app registered, which
// keeps the label set as small as the app's routes.
func (m *httpMetrics) resolve(app *fiber.App, k routeKey) *routeMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.registered == nil {
		m.registered = map[string]bool{}
		for _, r := range app.GetRoutes(true) {
			m.registered[r.Method+" "+normalizeRoute(r.Path)] = true
		}
	}
	path := normalizeRoute(k.path)
	if !m.registered[k.method+" "+path] {
		return nil
	}
	old := *m.children.Load()
	if rm, ok := old[k]; ok {
		return rm
	}
	code := strconv.Itoa(k.status)
	rm := &routeMetrics{
		requests: m.requests.WithLabelValues(code, k.method, path),
		duration: m.duration.WithLabelValues(code, k.method, path),
	}
	next := make(map[routeKey]*routeMetrics, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	k.path, k.method = strings.Clone(k.path), strings.Clone(k.method)
	next[k] = rm
	m.children.Store(&next)
	return rm
}

// normalizeRoute drops a route's trailing slashes, as fiberprometheus did.
func normalizeRoute(p string) string {
	if p == "" || p == "/" {
		return p
	}
	if p = strings.TrimRight(p, "/"); p == "" {
		return "/"
	}
	return p
}

func (m *metrics) observeIsland(island string, o islands.Outcome, took time.Duration) {
	k := [2]string{island, string(o)}
	obs, ok := (*m.renders.Load())[k]
	if !ok {
		m.renderMu.Lock()
		old := *m.renders.Load()
		if obs, ok = old[k]; !ok {
			k = [2]string{strings.Clone(island), string(o)}
			obs = m.islandRender.WithLabelValues(k[0], k[1])
			next := make(map[[2]string]prom.Observer, len(old)+1)
			for key, v := range old {
				next[key] = v
			}
			next[k] = obs
			m.renders.Store(&next)
		}
		m.renderMu.Unlock()
	}
	obs.Observe(took.Seconds())
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

// readyz answers 200 when this replica should get traffic: it is not
// starting or draining, and it can serve its pages. It never follows the
// shared store: every replica shares it, so a store outage would take
// them all out of the balancer at once and turn a dimmed site into a
// dead one (see /healthz/store for the store). A SQLite file removed or
// replaced under the server fails it: that replica's writes would be
// lost.
func (s *Server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.draining.Load() {
		return c.Status(fiber.StatusServiceUnavailable).SendString("shutting down\n")
	}
	if err := s.checkDBFile(); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).SendString(err.Error() + "\n")
	}
	return c.SendString("ok\n")
}
