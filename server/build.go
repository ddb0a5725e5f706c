package server

import (
	"runtime/debug"
	"strconv"
	"time"
)

// buildStamp is the build's time in Unix seconds, set by make build:
//
//	go build -ldflags "-X github.com/atollhq/atoll/server.buildStamp=$(git log -1 --format=%ct)"
var buildStamp string

// BuildTime is the time the running program was built from: the stamp
// make build sets, else the commit time the go command records in a
// binary built from a checkout, else ok is false (go run, go test), and
// the server uses its start time. Replicas of one build show the same
// build time and so serve the same bytes and ETags.
func BuildTime() (t time.Time, source string, ok bool) {
	if n, err := strconv.ParseInt(buildStamp, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), "build stamp", true
	}
	if info, found := debug.ReadBuildInfo(); found {
		for _, s := range info.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.UTC(), "vcs.time", true
				}
			}
		}
	}
	return time.Time{}, "", false
}
