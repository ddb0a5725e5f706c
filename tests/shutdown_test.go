package tests

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/server"
)

// gate holds a render of the test-gated island until the test releases it.
type gate struct{ started, release chan struct{} }

var currentGate atomic.Pointer[gate]

// The test-gated island exists only in this test binary. With no gate set
// it renders at once, so the registry-wide tests can render it too.
func init() {
	testIslands.Register(island.Island{
		Name:     "test-gated",
		Fallback: `<span class="skeleton"></span>`,
		Template: `<p>released</p>`,
		Timeout:  20 * time.Second,
		Render: func(r *island.Request) (any, error) {
			if g := currentGate.Load(); g != nil {
				close(g.started)
				select {
				case <-g.release:
				case <-r.Context().Done():
					return nil, r.Context().Err()
				}
			}
			return nil, nil
		},
	})
}

func TestShutdownLetsRequestsInFlightFinish(t *testing.T) {
	cfg := testConfig()
	srv, err := server.New(server.Options{Config: cfg, Log: zerolog.Nop(), Store: testStore(t), Site: testSite()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	g := &gate{started: make(chan struct{}), release: make(chan struct{})}
	currentGate.Store(g)
	defer currentGate.Store(nil)

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + addr + "/_islands/test-gated")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		inflight <- result{status: res.StatusCode, body: string(b), err: err}
	}()
	select {
	case <-g.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the gated island never started rendering")
	}

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdown <- srv.Shutdown(ctx)
	}()

	// The listener closes first: new connections are refused while the
	// request in flight is still being rendered.
	refused := false
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond) // poll interval while waiting for the listener to close
	}
	if !refused {
		t.Fatal("new connections were still accepted 2s after Shutdown began")
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) before the request in flight finished", err)
	default:
	}

	close(g.release)
	r := <-inflight
	if r.err != nil || r.status != 200 || r.body == "" {
		t.Fatalf("request in flight: status %d, body %q, err %v; want 200 with the island", r.status, r.body, r.err)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// Test islands for the per-island context: one that declares a private
// cache lifetime and echoes its page and cookie, one that reads a cookie
// it did not declare.
func init() {
	testIslands.Register(island.Island{
		Name:         "test-context",
		Fallback:     `<span class="skeleton"></span>`,
		Template:     `<p data-field="page">{{.Page}}</p><p data-field="cookie">{{.Cookie}}</p>`,
		Cookies:      []string{"flavour"},
		CacheControl: "private, max-age=60",
		Render: func(r *island.Request) (any, error) {
			return struct{ Page, Cookie string }{r.Page(), r.Cookie("flavour")}, nil
		},
	})
	testIslands.Register(island.Island{
		Name:     "test-large",
		Fallback: `<span class="skeleton"></span>`,
		Template: `<ul>{{range .}}<li>Row {{.}} of a long island list</li>{{end}}</ul>`,
		Render: func(*island.Request) (any, error) {
			rows := make([]int, 200)
			for i := range rows {
				rows[i] = i
			}
			return rows, nil
		},
	})
	testIslands.Register(island.Island{
		Name:     "test-undeclared-cookie",
		Fallback: `<span class="skeleton"></span>`,
		Template: `<p>{{.}}</p>`,
		Render:   func(r *island.Request) (any, error) { return r.Cookie("secret"), nil },
	})
}
