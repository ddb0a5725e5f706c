package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/server"
)

// minimalSite is a site of one page with no layout, no public files and
// no not-found page: what a first site written by hand looks like.
func minimalSite() server.Site {
	return server.Site{Files: fstest.MapFS{
		"pages/index.html": {Data: []byte(`<!doctype html><title>Hi</title><h1>Hello</h1>`)},
	}}
}

func openApp(t *testing.T, cfg config.Config) *server.App {
	t.Helper()
	app := &server.App{Config: cfg, Log: zerolog.Nop(), Site: minimalSite()}
	if err := app.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

func TestASiteWithoutANotFoundPageAnswersWithTheEnginesOwn(t *testing.T) {
	cfg := config.Default()
	cfg.Keys = [][]byte{make([]byte, 32)}
	cfg.DB = filepath.Join(t.TempDir(), "atoll.db")
	app := openApp(t, cfg)
	resp, err := app.Server.App().Test(httptest.NewRequest(http.MethodGet, "/no-such-page", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "<h1>Not found</h1>") {
		t.Fatalf("GET /no-such-page = %d %q, want 404 with the engine's page", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

func TestTheDatabasesDirectoryIsMadeWhateverItsPath(t *testing.T) {
	cfg := config.Default()
	cfg.Keys = [][]byte{make([]byte, 32)}
	cfg.DB = filepath.Join(t.TempDir(), "a", "b", "site.db")
	openApp(t, cfg)
	if _, err := os.Stat(cfg.DB); err != nil {
		t.Fatalf("the database was not made: %v", err)
	}
}

func TestWithoutKeysASQLiteSiteMakesOneAndKeepsIt(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DB = filepath.Join(dir, "atoll.db")
	first := openApp(t, cfg)
	file := filepath.Join(dir, "atoll.key")
	kept, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no key was kept in %s: %v", file, err)
	}
	if len(first.Config.Keys) != 1 || len(first.Config.Keys[0]) != 32 {
		t.Fatalf("keys = %d keys, want the one kept", len(first.Config.Keys))
	}
	second := openApp(t, cfg)
	if string(second.Config.Keys[0]) != string(first.Config.Keys[0]) {
		t.Fatal("a second start made another key instead of the kept one")
	}
	again, _ := os.ReadFile(file)
	if string(again) != string(kept) {
		t.Fatal("the kept key file changed")
	}
}

func TestWithoutAKeyTheErrorSaysHowToMakeOne(t *testing.T) {
	_, err := config.FromEnv(func(k string) (string, bool) {
		if k == "ATOLL_DB" {
			return "postgres://atoll@127.0.0.1/atoll", true
		}
		return "", false
	})
	if err == nil || !strings.Contains(err.Error(), "atoll genkey") || !strings.Contains(err.Error(), "ATOLL_KEYS") {
		t.Fatalf("error = %v, want one naming ATOLL_KEYS and atoll genkey", err)
	}
}

func TestAPageWithIslandsGetsTheRuntimeAndItsBatchWithoutAsking(t *testing.T) {
	set := island.NewSet()
	set.Register(island.Island{Name: "clock", Template: `<p>{{.}}</p>`,
		Render: func(r *island.Request) (any, error) { return "12:00", nil }})
	cfg := config.Default()
	cfg.Keys = [][]byte{make([]byte, 32)}
	cfg.DB = filepath.Join(t.TempDir(), "atoll.db")
	app := &server.App{Config: cfg, Log: zerolog.Nop(), Site: server.Site{Islands: set, Files: fstest.MapFS{
		"pages/index.html":    {Data: []byte("<!doctype html>\n<html><head><title>Hi</title></head>\n<body>{{ island \"clock\" }}</body></html>")},
		"pages/explicit.html": {Data: []byte("<!doctype html>\n<html><head>{{ preload }}{{ runtime }}</head>\n<body>{{ island \"clock\" }}{{ batch }}</body></html>")},
		"pages/plain.html":    {Data: []byte("<!doctype html>\n<html><head><title>Plain</title></head><body><p>No islands.</p></body></html>")},
	}}}
	if err := app.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Stop(context.Background()) })
	get := func(path string) string {
		resp, err := app.Server.App().Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, path := range []string{"/", "/explicit"} {
		page := get(path)
		head, body, ok := strings.Cut(page, "</head>")
		if !ok {
			t.Fatalf("%s has no head:\n%s", path, page)
		}
		if strings.Count(page, "<script>") != 1 || !strings.Contains(head, "<script>") || !strings.Contains(head, `rel="preload"`) ||
			strings.Count(page, `<script defer src="/public/atoll/runtime.`) != 1 || !strings.Contains(head, `<script defer src="/public/atoll/runtime.`) {
			t.Errorf("%s: want the deferred runtime and the inline loader once, and the preload, in the head:\n%s", path, head)
		}
		if strings.Count(body, `id="islands-batch"`) != 1 || !strings.HasSuffix(strings.TrimSpace(body), "</div></body></html>") {
			t.Errorf("%s: want the batch element once, at the end of the body:\n%s", path, body)
		}
	}
	if page := get("/plain"); strings.Contains(page, "<script") || strings.Contains(page, "islands-batch") {
		t.Errorf("a page without islands got the runtime or a batch:\n%s", page)
	}
}

// TestStopRightAfterStartReturns: an app stopped at once after Start (a
// test that starts a site and asks nothing of it, a SIGTERM at startup)
// stops, though its Serve may not have reached Fiber when Shutdown ran.
// Before the fix, Stop waited for good on a server that had started
// serving after its shutdown.
func TestStopRightAfterStartReturns(t *testing.T) {
	cfg := config.Default()
	cfg.Keys = [][]byte{make([]byte, 32)}
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = filepath.Join(t.TempDir(), "atoll.db")
	for i := range 3 {
		app := &server.App{Config: cfg, Log: zerolog.Nop(), Site: minimalSite()}
		if err := app.Start(); err != nil {
			t.Fatal(err)
		}
		stopped := make(chan error, 1)
		go func() { stopped <- app.Stop(context.Background()) }()
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("start %d: stop: %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("start %d: Stop right after Start had not returned after 10s", i)
		}
	}
}
