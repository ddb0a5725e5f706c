// Package fragments holds the demo site's islands, one file each. Each
// registers itself from init; an island whose template is more than a
// line keeps it in an .html file beside its Go file (account.go and
// account.html), read from templates.
package fragments

import "embed"

// templates holds the islands' template files.
//
//go:embed *.html
var templates embed.FS

// Sources holds the islands' Go files, which the demo's home page quotes.
// They are embedded here rather than by the demo's root package: an edit
// to an island's code then changes what this package exports, as it
// would anyway, and not what the root package exports, so cmd/server is
// not compiled again for it (atoll dev's Go edits).
//
//go:embed *.go
var Sources embed.FS
