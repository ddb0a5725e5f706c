package fragments

import (
	"github.com/atollhq/atoll/island"
)

// The fault-panic island panics in its handler, so /faults can show that
// a crash stays inside one island. It reads nothing.
func init() {
	island.Register(island.Island{
		Name:     "fault-panic",
		Fallback: `<p class="line"><span class="skeleton w-14"></span></p>`,
		Template: `<p class="line">never shown</p>`,
		Render: func(*island.Request) (any, error) {
			var counts map[string]int
			counts["boom"]++ // a nil map write: a real bug, on purpose
			return nil, nil
		},
	})
}
