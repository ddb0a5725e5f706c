package server

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/prom"
)

// TestAnOutagesTailStartsNoNewOutage: a request that began before the
// store came back and failed after it (it waited out the outage) is
// counted as refused but starts no second outage; a request that began
// after the recovery and fails does.
func TestAnOutagesTailStartsNoNewOutage(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := newStoreHealth(zerolog.New(&logs), prom.NewRegistry(), clock)
	count := func(msg string) int { return strings.Count(logs.String(), `"message":"`+msg) }
	down := errors.New("connection refused")

	h.ping(clock, down)
	waiting := time.Now().Add(-time.Millisecond) // a request that began during the outage
	h.ping(clock.Add(5*time.Second), nil)
	h.unavailable(clock.Add(5*time.Second), waiting, down)
	if r := h.report(); !r.Up || count("store unavailable") != 1 || count("store available again") != 1 {
		t.Fatalf("after the outage's tail: up %v, logs:\n%s", r.Up, logs.String())
	}

	h.unavailable(clock.Add(6*time.Second), time.Now(), down)
	if r := h.report(); r.Up || count("store unavailable") != 2 {
		t.Fatalf("a request begun after the recovery failed: up %v, logs:\n%s", r.Up, logs.String())
	}
}
