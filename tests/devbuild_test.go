//go:build !race

package tests

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
)

// devBuildMarkers are strings only server/devreload.go puts into a
// binary: a symbol of its code and a line of its browser script.
// TestBrowserDevLoop checks that the dev build holds them, so that their
// absence from a production build means something.
var devBuildMarkers = []string{"server.(*devReload)", `addEventListener("hello"`}

// TestDevReloadIsNotInAProductionBuild starts a server built without the
// atolldev tag in dev mode: the reload endpoints are the 404 page and no
// page loads the reload script, under the root and under a base path.
func TestDevReloadIsNotInAProductionBuild(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/shop"} {
		t.Run("base="+base, func(t *testing.T) {
			root := devCopy(t)
			site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) {
				c.Dev, c.Root, c.BasePath = true, root, base
			}))
			notFound := site.Get(t, base+"/no-such-page")
			if notFound.Status != 404 || !strings.Contains(notFound.Body, "<html") {
				t.Fatalf("the 404 page: %d %q", notFound.Status, notFound.Body)
			}
			for _, path := range []string{"/_atoll/dev.js", "/_atoll/dev/events"} {
				r := site.Get(t, base+path)
				if r.Status != 404 || r.Body != notFound.Body || r.Header.Get("Content-Type") == "text/event-stream" {
					t.Errorf("GET %s: %d %s %q, want the 404 page", base+path, r.Status, r.Header.Get("Content-Type"), r.Body)
				}
			}
			for _, path := range []string{"/", "/about", "/no-such-page"} {
				r := site.Get(t, base+path)
				if strings.Contains(r.Body, "/_atoll/dev") || strings.Contains(r.Body, "atollDevReload") {
					t.Errorf("GET %s: the page loads the dev reload script in a production build:\n%s", base+path, r.Body)
				}
			}
		})
	}
}

// TestDevReloadIsNotInTheServerBinary reads the binary `make build` makes
// for any sign of the dev reload code.
func TestDevReloadIsNotInTheServerBinary(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(serverBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range devBuildMarkers {
		if bytes.Contains(b, []byte(m)) {
			t.Errorf("the production binary holds %q, from server/devreload.go", m)
		}
	}
}
