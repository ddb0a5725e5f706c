package fragments

import (
	"github.com/atollhq/atoll/island"

	"fmt"
	"strconv"
	"time"
)

// The latency island stands in for a slow data source: it waits the
// number of milliseconds in its required "ms" prop (at most 2000) before
// it renders, and shows its optional "n" prop and how long it took. The
// /many pages place ten of them. It reads props only.
func init() {
	island.Register(island.Island{
		Name:     "latency",
		Fallback: `<div class="tile"><strong><span class="skeleton w-3"></span></strong><span><span class="skeleton w-6"></span></span></div>`,
		Template: `<div class="tile tile--done"><strong data-field="n">#{{.N}}</strong><span>{{.MS}} ms</span></div>`,
		Props:    []island.Prop{{Name: "ms", Required: true}, {Name: "n"}},
		Render:   renderLatency,
	})
}

type latency struct{ N, MS string }

func renderLatency(r *island.Request) (any, error) {
	ms, err := strconv.Atoi(r.Prop("ms"))
	if err != nil || ms < 0 || ms > 2000 {
		return nil, fmt.Errorf("ms prop %q: want 0 to 2000", r.Prop("ms"))
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return latency{N: r.Prop("n"), MS: strconv.Itoa(ms)}, nil
}
