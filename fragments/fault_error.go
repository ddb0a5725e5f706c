package fragments

import (
	"errors"

	"github.com/atollhq/atoll/island"
)

// The fault-error island always fails: its handler returns an error, so
// /faults can show the error state and its Retry button. It reads nothing.
func init() {
	island.Register(island.Island{
		Name:     "fault-error",
		Fallback: `<p class="line"><span class="skeleton w-14"></span></p>`,
		Template: `<p class="line">never shown</p>`,
		Render: func(*island.Request) (any, error) {
			return nil, errors.New("the demo data source is down (on purpose)")
		},
	})
}
