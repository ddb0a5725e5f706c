package fragments

import (
	"time"

	"github.com/atollhq/atoll/island"
)

// The fault-timeout island waits for its context, which its 300 ms
// deadline cancels, so /faults can show the timeout state. It reads
// nothing.
func init() {
	island.Register(island.Island{
		Name:     "fault-timeout",
		Fallback: `<p class="line"><span class="skeleton w-14"></span></p>`,
		Template: `<p class="line">never shown</p>`,
		Timeout:  300 * time.Millisecond,
		Render: func(r *island.Request) (any, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		},
	})
}
