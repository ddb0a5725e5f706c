// Package client holds Atoll's browser runtime, embedded so a site needs
// nothing but Go: htmx and its SSE extension, exactly as the npm package
// that package-lock.json pins ships them (made by `make htmx`, with htmx's
// license beside them in htmx.LICENSE), and Atoll's own client, atoll.js.
//
// The engine serves the runtime as one script; a layout places it with
// {{ runtime }}.
package client

import (
	_ "embed"
	"strings"
)

var (
	//go:embed htmx.min.js
	htmx string
	//go:embed hx-sse.min.js
	sse string
	//go:embed atoll.js
	atoll string
)

// Name is the runtime's name among a site's public files, under a folder
// of the engine's own, so it cannot clash with one of the site's.
const Name = "atoll/runtime.js"

// Runtime returns the page's one script: htmx, its SSE extension and
// Atoll's client, in that order, each ended so the next starts a new
// statement.
func Runtime() []byte {
	var b strings.Builder
	for _, part := range []string{htmx, sse, atoll} {
		b.WriteString(strings.TrimRight(part, "\n"))
		b.WriteString(";\n")
	}
	return []byte(b.String())
}
