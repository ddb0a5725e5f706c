package islands

import (
	"sort"
	"sync"
	"time"
)

// window is how far back render counts reach, in one-second buckets.
const window = 60

type bucket struct {
	second    int64
	ok, other int
}

// renderStats counts island renders per island over the last minute, in
// fixed memory: one ring of per-second buckets per island.
type renderStats struct {
	mu    sync.Mutex
	rings map[string]*[window]bucket
}

func (s *renderStats) record(island string, at time.Time, ok bool) {
	sec := at.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rings == nil {
		s.rings = map[string]*[window]bucket{}
	}
	ring := s.rings[island]
	if ring == nil {
		ring = &[window]bucket{}
		s.rings[island] = ring
	}
	b := &ring[sec%window]
	if b.second != sec {
		*b = bucket{second: sec}
	}
	if ok {
		b.ok++
	} else {
		b.other++
	}
}

// RenderCount is how often one island rendered in the last minute.
type RenderCount struct {
	Island     string
	OK, Failed int
}

// RendersLastMinute returns the render counts of every island that
// rendered in the minute before now, sorted by name.
func (e *Engine) RendersLastMinute(now time.Time) []RenderCount {
	s := &e.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := now.Unix() - window
	var out []RenderCount
	for name, ring := range s.rings {
		rc := RenderCount{Island: name}
		for _, b := range ring {
			if b.second > cutoff && b.second <= now.Unix() {
				rc.OK += b.ok
				rc.Failed += b.other
			}
		}
		if rc.OK+rc.Failed > 0 {
			out = append(out, rc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Island < out[j].Island })
	return out
}
