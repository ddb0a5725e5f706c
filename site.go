// Package atoll is the demo site built on the Atoll engine: its pages,
// layouts and public files (embedded, so the server binary runs from any
// directory), its islands (fragments/), its actions (actions/) and its
// own code (demo/). The engine is in the packages server, island, action,
// store and config; this package uses them as any site would.
//
// The demo sits at the module's root because go:embed reaches only files
// beside or below the package that embeds them.
package atoll

import (
	"embed"
	"io/fs"
	"path"

	_ "github.com/atollhq/atoll/actions" // the demo's actions register themselves
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/fragments" // the demo's islands register themselves
	"github.com/atollhq/atoll/server"
)

// files holds pages/, layouts/, public/ and the islands' templates.
//
//go:embed pages layouts public fragments/*.html
var files embed.FS

// Files holds pages/, layouts/, public/ and the island sources (Go and
// template files) that the home page quotes; the Go files come from
// fragments.Sources.
var Files fs.FS = withSources{files}

// withSources is the site's files with the islands' Go files beside their
// templates under fragments/.
type withSources struct{ site embed.FS }

func (f withSources) Open(name string) (fs.File, error) {
	if dir, file := path.Split(name); dir == "fragments/" && path.Ext(file) == ".go" {
		return fragments.Sources.Open(file)
	}
	return f.site.Open(name)
}

// Demo is the demo site. Its islands and actions are the default sets
// (island.Default, action.Default), which fragments/ and actions/ fill
// from init. It lists no Events: every event its pages refresh islands on
// is announced by one of its actions.
func Demo() server.Site {
	return server.Site{Files: Files, Migrations: demo.Migrations, Open: demo.Open, Funcs: demo.Funcs}
}
