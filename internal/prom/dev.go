//go:build atolldev

package prom

import "net/http"

// In atoll dev's builds the metrics count nothing: nothing scrapes a dev
// server, and client_golang (with protobuf) is an eighth of what a Go
// edit's link loads.

type (
	Registry   struct{}
	Registerer interface{ MustRegister(...Collector) }
	Collector  any
	Labels     map[string]string
	Counter    interface{ Inc() }
	Gauge      interface {
		Inc()
		Dec()
		Set(float64)
	}
	Observer     interface{ Observe(float64) }
	CounterVec   struct{}
	GaugeVec     struct{}
	HistogramVec struct{}
	CounterOpts  struct {
		Namespace, Name, Help string
		ConstLabels           Labels
	}
	GaugeOpts     = CounterOpts
	HistogramOpts struct {
		Namespace, Name, Help string
		ConstLabels           Labels
		Buckets               []float64
	}
)

// none is every metric of a dev build.
type none struct{}

func (none) Inc()            {}
func (none) Dec()            {}
func (none) Set(float64)     {}
func (none) Observe(float64) {}

func NewRegistry() *Registry                          { return &Registry{} }
func NewServerRegistry() *Registry                    { return &Registry{} }
func (*Registry) MustRegister(...Collector)           {}
func NewCounter(CounterOpts) Counter                  { return none{} }
func NewGauge(GaugeOpts) Gauge                        { return none{} }
func NewCounterVec(CounterOpts, []string) *CounterVec { return &CounterVec{} }
func NewGaugeVec(GaugeOpts, []string) *GaugeVec       { return &GaugeVec{} }
func NewHistogramVec(HistogramOpts, []string) *HistogramVec {
	return &HistogramVec{}
}
func ExponentialBuckets(start, factor float64, count int) []float64 { return nil }
func (*CounterVec) WithLabelValues(...string) Counter               { return none{} }
func (*GaugeVec) WithLabelValues(...string) Gauge                   { return none{} }
func (*HistogramVec) WithLabelValues(...string) Observer            { return none{} }

// Handler answers that a dev build keeps no metrics.
func Handler(*Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "atoll dev's builds keep no metrics: run the server built with go build or go install", http.StatusNotFound)
	})
}
