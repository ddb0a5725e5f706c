// Package atoll holds the site's files, embedded at build time so the
// server binary runs from any directory: page templates, layouts, public
// assets, and the island sources that the demo page quotes.
package atoll

import "embed"

// Files holds pages/, layouts/, public/ and the island sources.
//
//go:embed pages layouts public fragments/*.go
var Files embed.FS
