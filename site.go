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

	_ "github.com/atollhq/atoll/actions" // the demo's actions register themselves
	"github.com/atollhq/atoll/demo"
	_ "github.com/atollhq/atoll/fragments" // the demo's islands register themselves
	"github.com/atollhq/atoll/server"
)

// Files holds pages/, layouts/, public/ and the island sources (Go and
// template files) that the home page quotes.
//
//go:embed pages layouts public fragments/*.go fragments/*.html
var Files embed.FS

// Demo is the demo site. Its islands and actions are the default sets
// (island.Default, action.Default), which fragments/ and actions/ fill
// from init. It lists no Events: every event its pages refresh islands on
// is announced by one of its actions.
func Demo() server.Site {
	return server.Site{Files: fs.FS(Files), Migrations: demo.Migrations, Open: demo.Open, Funcs: demo.Funcs}
}
