package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/server"
)

// inProcess opens a small site with a layout, a page of islands (one
// that renders, one that fails, one that panics) and a page without, and
// answers requests through Fiber's app.Test: no listener, no socket.
func inProcess(t *testing.T) *server.App {
	t.Helper()
	set := island.NewSet()
	set.Register(island.Island{Name: "clock", Template: `<p class="clock">{{.}}</p>`,
		Render: func(r *island.Request) (any, error) { return "12:00", nil }})
	set.Register(island.Island{Name: "broken", Template: `<p>never</p>`,
		Render: func(r *island.Request) (any, error) { return nil, errors.New("the database said no: secret detail") }})
	set.Register(island.Island{Name: "panics", Template: `<p>never</p>`,
		Render: func(r *island.Request) (any, error) { panic("secret panic detail") }})
	cfg := config.Default()
	cfg.Keys = [][]byte{make([]byte, 32)}
	cfg.DB = filepath.Join(t.TempDir(), "atoll.db")
	app := &server.App{Config: cfg, Log: zerolog.Nop(), Site: server.Site{Islands: set, Files: fstest.MapFS{
		"pages/index.html": {Data: []byte("<!doctype html>\n<html><head><title>Islands</title></head>\n<body>{{ island \"clock\" }}{{ island \"broken\" }}{{ island \"panics\" }}</body></html>")},
		"pages/plain.html": {Data: []byte("<!doctype html>\n<html><head><title>Plain</title></head><body><p>No islands.</p></body></html>")},
	}}}
	if err := app.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// answer is a response read whole.
type answer struct {
	*http.Response
	Body string
}

// do sends req to the app in process and reads the answer.
func do(t *testing.T, app *server.App, req *http.Request) answer {
	t.Helper()
	resp, err := app.Server.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp, string(b)}
}

// get sends a GET for target with the header pairs given.
func get(t *testing.T, app *server.App, target string, header ...string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, app, req)
}

var islandURL = regexp.MustCompile(`hx-get="(/_islands/([a-z-]+)\?[^"]+)"`)

// islandURLs are the island request URLs the home page places, by island
// name, read from the page as a browser would.
func islandURLs(t *testing.T, app *server.App) map[string]string {
	t.Helper()
	urls := map[string]string{}
	for _, m := range islandURL.FindAllStringSubmatch(get(t, app, "/").Body, -1) {
		urls[m[2]] = m[1]
	}
	if len(urls) != 3 {
		t.Fatalf("the page places %d islands with their own URL, want 3: %v", len(urls), urls)
	}
	return urls
}
