package pages

import (
	"context"
	"sync"
	"time"
)

// Revalidating holds a page that is regenerated in the background once it
// is older than Every (incremental static regeneration). Readers never
// wait: they get the bytes they would have got before, while one
// regeneration at a time runs.
type Revalidating struct {
	Every time.Duration
	Now   func() time.Time
	// Render makes a fresh copy of the page.
	Render func() (*Page, error)
	// Done, when set, is called after each regeneration with its error.
	Done func(error)

	mu      sync.Mutex
	page    *Page
	at      time.Time
	running bool
	stopped bool
	wg      sync.WaitGroup
}

// Stop starts no more regenerations and waits, until ctx ends, for the
// one running to finish.
func (r *Revalidating) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewRevalidating starts with page, made at the current time.
func NewRevalidating(page *Page, every time.Duration, now func() time.Time, render func() (*Page, error)) *Revalidating {
	return &Revalidating{Every: every, Now: now, Render: render, page: page, at: now()}
}

// Get returns the current page and, when it is stale and no regeneration
// is running, starts one.
func (r *Revalidating) Get() *Page {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running && !r.stopped && r.Now().Sub(r.at) >= r.Every {
		r.running = true
		r.wg.Add(1)
		go r.regenerate()
	}
	return r.page
}

func (r *Revalidating) regenerate() {
	defer r.wg.Done()
	p, err := r.Render()
	r.mu.Lock()
	r.running = false
	r.at = r.Now() // after a failure too: try again after another interval, not on every read
	if err == nil {
		r.page = p
	}
	r.mu.Unlock()
	if r.Done != nil {
		r.Done(err)
	}
}
