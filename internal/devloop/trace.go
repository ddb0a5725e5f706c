package devloop

import (
	"encoding/json"
	"os"
	"strings"
	"time"
)

// traceFile is where a dev build writes the go command's trace
// (-debug-trace), under the root, to say where a build's time went.
const traceFile = "bin/dev-build-trace.json"

// linkTime reads how long the link step of the build traced in file took:
// the rest of a build is the go command's own work and compiling the
// packages that changed. ok is false when the trace has no link.
func linkTime(file string) (link time.Duration, ok bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	var events []struct {
		Name string  `json:"name"`
		Ph   string  `json:"ph"`
		Ts   float64 `json:"ts"` // microseconds
		Tid  int     `json:"tid"`
	}
	if json.Unmarshal(b, &events) != nil {
		return 0, false
	}
	var begin float64
	for _, e := range events {
		if !strings.HasPrefix(e.Name, "Executing action (link ") {
			continue
		}
		switch e.Ph {
		case "B":
			begin = e.Ts
		case "E":
			if begin > 0 {
				return time.Duration((e.Ts - begin) * float64(time.Microsecond)), true
			}
		}
	}
	return 0, false
}
