// Package loadgen is a small HTTP load generator for Atoll's load, soak
// and shutdown tests and its benchmark's side-by-side run. It sends
// requests from a fixed number of workers, bounded in count and time,
// reads every body to the end, and reports throughput, latency
// percentiles, errors and statuses per target.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Target is one URL under load and the status it must answer.
type Target struct {
	Name   string
	URL    string
	Header http.Header
	Status int // 0 means 200
	// Method is GET when empty; Body is sent with it.
	Method string
	Body   string
}

// Config bounds a run.
type Config struct {
	Targets     []Target
	Concurrency int
	Duration    time.Duration
	MaxRequests int // 0 means no bound but Duration
}

// Result is what one target saw.
type Result struct {
	Target     string
	Requests   int         // answered with a complete body
	Unexpected map[int]int // statuses other than the target's
	Errors     int         // failures other than a refused connection
	Refused    int         // connection refused (or reset while dialling): the server is not listening
	FirstError string      // the first failure, for the report
	latencies  []time.Duration
	elapsed    time.Duration
}

// RPS is answered requests per second.
func (r *Result) RPS() float64 { return float64(r.Requests) / r.elapsed.Seconds() }

// Percentile returns the latency below which p (0 to 1) of the answered
// requests fell.
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p))]
}

// Merge adds o's answers, failures and time to r, so one target measured
// in several slices reports as one run. Both must be results of Run.
func (r *Result) Merge(o *Result) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.Refused += o.Refused
	for status, n := range o.Unexpected {
		r.Unexpected[status] += n
	}
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
	r.latencies = append(r.latencies, o.latencies...)
	slices.Sort(r.latencies)
	r.elapsed += o.elapsed
}

func (r *Result) String() string {
	return fmt.Sprintf("%-8s %7d req %9.0f req/s  p50 %8s  p99 %8s  errors %d  unexpected %v  refused %d",
		r.Target, r.Requests, r.RPS(), r.Percentile(0.5).Round(time.Microsecond), r.Percentile(0.99).Round(time.Microsecond),
		r.Errors, r.Unexpected, r.Refused)
}

// Run sends load until Duration passes, MaxRequests have been sent or ctx
// ends, and returns one Result per target, in order.
func Run(ctx context.Context, cfg Config) []*Result {
	// fasthttp's client parses responses lazily, so the generator spends
	// little of the machine it shares with the server under test.
	client := &fasthttp.Client{MaxConnsPerHost: cfg.Concurrency, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		StreamResponseBody: false, MaxResponseBodySize: 64 << 20}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	results := make([]*Result, len(cfg.Targets))
	for i, t := range cfg.Targets {
		results[i] = &Result{Target: t.Name, Unexpected: map[int]int{}}
	}
	var mu sync.Mutex
	var sent int
	var wg sync.WaitGroup
	start := time.Now()
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ti := w % len(cfg.Targets) // each worker keeps to one target, so a slow one cannot starve the rest
			for {
				mu.Lock()
				if ctx.Err() != nil || (cfg.MaxRequests > 0 && sent >= cfg.MaxRequests) {
					mu.Unlock()
					return
				}
				sent++
				mu.Unlock()
				status, took, err := do(ctx, client, cfg.Targets[ti])
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
					return // the run ended mid-request: not the server's failure
				}
				mu.Lock()
				r := results[ti]
				want := cfg.Targets[ti].Status
				if want == 0 {
					want = http.StatusOK
				}
				switch {
				case refused(err):
					r.Refused++
				case err != nil:
					r.Errors++
					if r.FirstError == "" {
						r.FirstError = err.Error()
					}
				case status != want:
					r.Unexpected[status]++
				default:
					r.Requests++
					r.latencies = append(r.latencies, took)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, r := range results {
		r.elapsed = elapsed
		slices.Sort(r.latencies)
	}
	return results
}

// refused reports whether err means the server took no request: the
// connection was refused, or reset while it was being made (it sat in
// the accept queue of a listener that closed).
func refused(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && errors.Is(err, syscall.ECONNRESET)
}

func do(ctx context.Context, c *fasthttp.Client, t Target) (int, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI(t.URL)
	if t.Method != "" {
		req.Header.SetMethod(t.Method)
		req.SetBodyString(t.Body)
	}
	for k, vs := range t.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	start := time.Now()
	err := c.Do(req, res)
	if err != nil {
		if ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		return 0, 0, err
	}
	return res.StatusCode(), time.Since(start), nil
}
