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
