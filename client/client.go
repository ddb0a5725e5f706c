// Package client holds Atoll's browser runtime, embedded so a site needs
// nothing but Go: htmx and its SSE extension, exactly as the npm package
// that package-lock.json pins ships them (made by `make htmx`, with htmx's
// license beside them in htmx.LICENSE), and Atoll's own client, atoll.js.
//
// The engine serves the runtime as one script at a fingerprinted URL,
// cached for a year, and a page carries only the loader (loader.js)
// inline: it fills the page's batched islands from their stream while
// the runtime loads deferred. A layout places both with {{ runtime }}.
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
	//go:embed loader.js
	loader string
)

// Name is the runtime's name among a site's public files, under a folder
// of the engine's own, so it cannot clash with one of the site's.
const Name = "atoll/runtime.js"

// LoaderName is the loader's name among a site's public files, beside
// the runtime's.
const LoaderName = "atoll/loader.js"

// Loader returns the page's inline loader script, without its comments
// and indentation: every page carries it, so it is kept to the code.
func Loader() []byte {
	var b strings.Builder
	for _, line := range strings.Split(loader, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// Runtime returns the runtime script: htmx, its SSE extension and
// Atoll's client, in that order, in one function so that executing the
// file costs next to nothing. It runs that function at once, unless the
// page's loader (loader.js) holds it while the page's batch stream plays:
// htmx starting up mid-stream would keep the main thread from swapping in
// the islands as they arrive.
func Runtime() []byte {
	var b strings.Builder
	b.WriteString("(function(run){if(typeof window.atollRuntime===\"function\")window.atollRuntime(run);else run()})(function(){\n")
	for i, part := range []string{htmx, sse, atoll} {
		b.WriteString(strings.TrimRight(part, "\n"))
		b.WriteString(";\n")
		if i == 0 {
			// htmx declares itself with var, which the function keeps
			// local; pages and the site's own scripts find it on window.
			b.WriteString("window.htmx=htmx;\n")
		}
	}
	b.WriteString("});\n")
	return []byte(b.String())
}
