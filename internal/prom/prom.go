//go:build !atolldev

// Package prom is the Prometheus client the server counts and times with:
// client_golang's own types and constructors, by the names the server
// uses. In atoll dev's builds (the atolldev tag) they count nothing and
// the metrics endpoint says so instead (see dev.go): a dev build then links
// about 90,000 fewer symbols, which is an eighth of every Go edit's link.
package prom

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type (
	Registry      = prometheus.Registry
	Registerer    = prometheus.Registerer
	Labels        = prometheus.Labels
	Counter       = prometheus.Counter
	CounterVec    = prometheus.CounterVec
	CounterOpts   = prometheus.CounterOpts
	Gauge         = prometheus.Gauge
	GaugeVec      = prometheus.GaugeVec
	GaugeOpts     = prometheus.GaugeOpts
	Observer      = prometheus.Observer
	HistogramVec  = prometheus.HistogramVec
	HistogramOpts = prometheus.HistogramOpts
)

var (
	NewCounter         = prometheus.NewCounter
	NewCounterVec      = prometheus.NewCounterVec
	NewGauge           = prometheus.NewGauge
	NewGaugeVec        = prometheus.NewGaugeVec
	NewHistogramVec    = prometheus.NewHistogramVec
	ExponentialBuckets = prometheus.ExponentialBuckets
)

// NewRegistry returns an empty registry of the server's own, so that
// several servers in one process (tests) do not collide.
func NewRegistry() *Registry { return prometheus.NewRegistry() }

// NewServerRegistry returns a registry with the Go runtime's and the
// process's collectors in it.
func NewServerRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg's metrics in the text or OpenMetrics format.
func Handler(reg *Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
