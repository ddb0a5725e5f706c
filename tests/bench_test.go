//go:build !race

package tests

import (
	"bufio"
	"fmt"
	"github.com/atollhq/atoll"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/atollhq/atoll/server"
	"github.com/atollhq/atoll/tests/internal/floor"
)

// The benchmarks come in pairs: Name/atoll drives the real server's
// handler (middleware, logging to io.Discard, security headers included);
// Name/floor drives a bare Fiber handler doing the same work and sending
// the same headers (tests/internal/floor). Both run without a socket, through
// fasthttp's handler, in the same process.
// `make bench` prints floor ns/op ÷ atoll ns/op for each pair.

func atollHandler(b *testing.B, files ...fs.FS) fasthttp.RequestHandler {
	b.Helper()
	o := server.Options{Config: testConfig(), Log: zerolog.New(io.Discard), Store: testStore(b), Site: atoll.Demo()}
	if len(files) > 0 {
		o.Site.Files = files[0]
	}
	srv, err := server.New(o)
	if err != nil {
		b.Fatal(err)
	}
	return srv.App().Handler()
}

func drive(b *testing.B, h fasthttp.RequestHandler, path string) {
	b.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fiber.MethodGet)
	ctx.Request.SetRequestURI(path)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(&ctx)
		ctx.Response.Body() // runs a stream writer, as sending the response would
	}
	if ctx.Response.StatusCode() != fiber.StatusOK || len(ctx.Response.Body()) == 0 {
		b.Fatalf("%s: status %d, %d bytes", path, ctx.Response.StatusCode(), len(ctx.Response.Body()))
	}
}

func BenchmarkPage(b *testing.B) {
	h := atollHandler(b)
	var probe fasthttp.RequestCtx
	probe.Request.SetRequestURI("/")
	h(&probe)
	page := floor.Page{Path: "/", Body: append([]byte(nil), probe.Response.Body()...),
		ETag: string(probe.Response.Header.Peek(fiber.HeaderETag)), CacheControl: string(probe.Response.Header.Peek(fiber.HeaderCacheControl)),
		CSP: string(probe.Response.Header.Peek(fiber.HeaderContentSecurityPolicy))}

	b.Run("atoll", func(b *testing.B) { drive(b, h, "/") })
	b.Run("floor", func(b *testing.B) { drive(b, floor.App(page, "/_islands/server-info").Handler(), "/") })
}

func BenchmarkServerInfoIsland(b *testing.B) {
	b.Run("atoll", func(b *testing.B) { drive(b, atollHandler(b), "/_islands/server-info") })
	b.Run("floor", func(b *testing.B) {
		csp := server.ContentSecurityPolicy([]string{"'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"}, []string{"'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"})
		drive(b, floor.App(floor.Page{Path: "/", CSP: csp}, "/_islands/server-info").Handler(), "/_islands/server-info")
	})
}

// BenchmarkTenIslandBatch streams ten server-info islands in one
// response; the floor writes the same ten messages built with fmt.
func BenchmarkTenIslandBatch(b *testing.B) {
	files := siteFiles(b)
	files["pages/ten.html"] = &fstest.MapFile{Data: []byte("{{/*\nislands: batch\nlayout: none\n*/}}\n" + strings.Repeat(`{{ island "server-info" }}`, 10) + "{{ batch }}")}
	h := atollHandler(b, files)
	var probe fasthttp.RequestCtx
	probe.Request.SetRequestURI("/ten")
	h(&probe)
	m := batchURL.FindSubmatch(probe.Response.Body())
	if m == nil {
		b.Fatal("no batch element on the test page")
	}
	u := strings.ReplaceAll(string(m[1]), "&amp;", "&")
	b.Run("atoll", func(b *testing.B) { drive(b, h, u) })
	b.Run("floor", func(b *testing.B) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Get("/batch", func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, "text/event-stream")
			c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
				for i := range 10 {
					now := time.Now()
					fmt.Fprintf(w, "data: <hx-partial hx-target=\"#island-server-info-%d\" hx-swap=\"outerHTML\">\n", i+1)
					fmt.Fprintf(w, "data: %s\n", floor.ServerInfo(now))
					w.WriteString("data: </hx-partial>\n\n")
					w.Flush()
				}
			})
			return nil
		})
		drive(b, app.Handler(), "/batch")
	})
}
