package tests

import (
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"

	"github.com/atollhq/atoll/atolltest"
)

// waiting returns the placeholders of islands that load with the page and
// have not been filled in: busy, and not waiting to be scrolled to.
func waiting(doc *html.Node) []*html.Node {
	return findAll(doc, func(n *html.Node) bool {
		busy, _ := attr(n, "aria-busy")
		trig, _ := attr(n, "hx-trigger")
		return busy == "true" && hasClass(n, "island") && !strings.Contains(trig, "revealed")
	})
}

func tokens(doc *html.Node) []string {
	var out []string
	for _, n := range findAll(doc, func(n *html.Node) bool { v, _ := attr(n, "data-field"); return v == "token" }) {
		out = append(out, text(n))
	}
	return out
}

// TestSSRPageCarriesItsIslands: a page rendered per request has its
// load-time islands rendered into its own response, in position or at the
// end of the body, with no edge in front.
func TestSSRPageCarriesItsIslands(t *testing.T) {
	t.Parallel()
	files := siteFiles(t)
	files["pages/live.html"] = &fstest.MapFile{Data: []byte("{{/*\nrender: ssr\n*/}}\n<p>live</p>{{ island \"server-info\" (props \"n\" 1) }}{{ island \"fault-error\" }}{{ island \"server-info\" visible }}")}
	files["pages/live-end.html"] = &fstest.MapFile{Data: []byte("{{/*\nrender: ssr\nedge: end\n*/}}\n<p>live</p>{{ island \"server-info\" (props \"n\" 1) }}")}
	site := atolltest.Start(t, demoWith(files), atolltest.WithLog(io.Discard))

	r := site.Get(t, "/live")
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("ETag") != "" {
		t.Fatalf("/live: %d, Cache-Control %q, ETag %q", r.Status, r.Header.Get("Cache-Control"), r.Header.Get("ETag"))
	}
	doc := parse(t, r.Body)
	if n := len(tokens(doc)); n != 1 {
		t.Fatalf("%d server-info islands rendered into the page, want 1", n)
	}
	if n := len(findAll(doc, func(n *html.Node) bool { return hasClass(n, "island--error") })); n != 1 {
		t.Fatalf("%d error states, want the failing island's one", n)
	}
	left := findAll(doc, func(n *html.Node) bool { b, _ := attr(n, "aria-busy"); return b == "true" })
	if len(left) != 1 {
		t.Fatalf("%d placeholders left, want the lazy island's only", len(left))
	}
	if trig, _ := attr(left[0], "hx-trigger"); trig != "revealed" {
		t.Fatalf("the placeholder left waits for %q", trig)
	}
	for _, bad := range []string{"<!--", `id="islands-batch"`, `rel="preload" as="fetch"`} {
		if strings.Contains(r.Body, bad) {
			t.Fatalf("/live holds %q", bad)
		}
	}

	gz := site.Get(t, "/live", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(strings.NewReader(gz.Body))
	if err != nil || gz.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v, Content-Encoding %q", err, gz.Header.Get("Content-Encoding"))
	}
	plain, err := io.ReadAll(zr)
	if err != nil || len(tokens(parse(t, string(plain)))) != 1 {
		t.Fatalf("gzipped /live: %v", err)
	}

	end := site.Get(t, "/live-end")
	doc = parse(t, end.Body)
	fills := findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "data-atoll-fill"); return n.Data == "template" && ok })
	held := waiting(doc)
	if len(fills) == 0 || len(held) == 0 {
		t.Fatalf("/live-end: %d fills and %d placeholders", len(fills), len(held))
	}
	for _, p := range held {
		id, _ := attr(p, "id")
		if trig, _ := attr(p, "hx-trigger"); trig != "atoll:fallback" || !strings.Contains(end.Body, `data-atoll-fill="`+id+`"`) {
			t.Fatalf("placeholder %s waits for %q and has no fill", id, trig)
		}
	}
	if !strings.Contains(end.Body, `data-field="token"`) {
		t.Fatal("/live-end: the island is not in the page")
	}
}
