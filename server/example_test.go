package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/server"
)

// An App starts a site: the store, the server, and a listener. Here the
// site is one page held in memory; a real site embeds pages/, layouts/
// and public/ (go:embed) and calls server.Main(site) from its main.
func ExampleApp() {
	dir, _ := os.MkdirTemp("", "atoll-example-")
	defer os.RemoveAll(dir)

	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"                // any free port
	cfg.Keys = [][]byte{make([]byte, 32)}   // use `atoll genkey` for a real key
	cfg.DB = filepath.Join(dir, "atoll.db") // made when missing
	app := &server.App{Config: cfg, Log: zerolog.Nop(), Site: server.Site{Files: fstest.MapFS{
		"pages/index.html": {Data: []byte(`<!doctype html><title>Hi</title><h1>Hello</h1>`)},
	}}}
	if err := app.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())

	resp, err := http.Get("http://" + app.Addr + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Cache-Control"))
	// Output: 200 public, max-age=86400
}
