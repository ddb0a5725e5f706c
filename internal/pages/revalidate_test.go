package pages

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestRevalidatingServesStaleWhileOneRegenerationRuns(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var renders atomic.Int32
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	done := make(chan error, 10)
	r := NewRevalidating(&Page{Body: []byte("v1")}, time.Minute, clk.Now, func() (*Page, error) {
		n := renders.Add(1)
		started <- struct{}{}
		<-release
		return &Page{Body: []byte("v" + string(rune('1'+n)))}, nil
	})
	r.Done = func(err error) { done <- err }

	if got := string(r.Get().Body); got != "v1" || renders.Load() != 0 {
		t.Fatalf("a fresh page: got %q after %d renders", got, renders.Load())
	}
	clk.Add(2 * time.Minute)
	for range 50 {
		if got := string(r.Get().Body); got != "v1" {
			t.Fatalf("while regenerating, a reader got %q, want the stale v1", got)
		}
	}
	<-started
	if n := renders.Load(); n != 1 {
		t.Fatalf("%d regenerations started for one stale page, want 1", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := string(r.Get().Body); got != "v2" {
		t.Fatalf("after regeneration got %q, want v2", got)
	}
	if n := renders.Load(); n != 1 {
		t.Fatalf("a fresh page started another regeneration (%d)", n)
	}
}

func TestRevalidatingKeepsThePageWhenRegenerationFails(t *testing.T) {
	clk := &clock{t: time.Now()}
	done := make(chan error, 1)
	r := NewRevalidating(&Page{Body: []byte("good")}, time.Second, clk.Now, func() (*Page, error) { return nil, errors.New("boom") })
	r.Done = func(err error) { done <- err }
	clk.Add(time.Hour)
	r.Get()
	if err := <-done; err == nil {
		t.Fatal("want the render error reported")
	}
	if got := string(r.Get().Body); got != "good" {
		t.Fatalf("after a failed regeneration got %q, want the last good page", got)
	}
}

// Stop waits for the regeneration running and starts no more.
func TestRevalidatingStopsRegenerating(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var renders atomic.Int32
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	r := NewRevalidating(&Page{Body: []byte("v1")}, time.Minute, clk.Now, func() (*Page, error) {
		renders.Add(1)
		started <- struct{}{}
		<-release
		return &Page{Body: []byte("v2")}, nil
	})
	clk.Add(2 * time.Minute)
	r.Get()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Stop(ctx); err == nil {
		t.Fatal("Stop returned before the running regeneration finished")
	}
	close(release)
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute)
	if got := string(r.Get().Body); got != "v2" {
		t.Fatalf("after Stop a reader got %q, want the last page, v2", got)
	}
	if n := renders.Load(); n != 1 {
		t.Fatalf("%d regenerations, want none after Stop", n)
	}
}
