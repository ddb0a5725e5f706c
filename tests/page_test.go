//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/island"
)

func TestHomePageIsStaticAndCacheable(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	r := site.Get(t, "/")
	atolltest.ExpectPage(t, r, 24*time.Hour)

	doc := parse(t, r.Body)
	for _, want := range []string{"Server Islands", "What are Server Islands?", "How it works", "When to use Server Islands", "Build Timestamp"} {
		if !strings.Contains(text(doc), want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	got := map[string]bool{}
	for _, p := range placeholders(doc) {
		name, _ := attr(p, "data-island")
		got[name] = true
		checks := map[string]string{"hx-swap": "outerHTML", "aria-busy": "true"}
		for k, want := range checks {
			if v, _ := attr(p, k); v != want {
				t.Errorf("placeholder %q: %s = %q, want %q", name, k, v, want)
			}
		}
		if v, _ := attr(p, "hx-get"); !strings.HasPrefix(v, "/_islands/"+name+"?") || !strings.Contains(v, "page=%2F") {
			t.Errorf("placeholder %q: hx-get = %q, want /_islands/%s?…page=%%2F", name, v, name)
		}
		// Load-time islands come in the page's batch stream and fetch
		// themselves only if it fails; the lazy ticker waits to be seen.
		_, batched := attr(p, "data-batched")
		if v, _ := attr(p, "hx-trigger"); !(name == "ticker" && v == "revealed" && !batched) && !(name != "ticker" && v == "atoll:fallback" && batched) {
			t.Errorf("placeholder %q: hx-trigger = %q, batched %v; want atoll:fallback and batched (revealed, not batched, for the ticker)", name, v, batched)
		}
		if id, _ := attr(p, "id"); !strings.HasPrefix(id, "island-"+name+"-") {
			t.Errorf("placeholder %q: id = %q, want island-%s-N", name, id, name)
		}
		if sk := findAll(p, func(n *html.Node) bool { return hasClass(n, "skeleton") }); len(sk) == 0 {
			t.Errorf("placeholder %q carries no fallback skeleton", name)
		}
	}
	batch := findAll(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "islands-batch" })
	if len(batch) != 1 {
		t.Fatalf("%d batch elements, want 1", len(batch))
	}
	if u, _ := attr(batch[0], "hx-get"); !strings.HasPrefix(u, "/_islands?b=") || !strings.Contains(r.Body, `<link rel="preload" as="fetch" crossorigin="anonymous" href="`+html.EscapeString(u)+`">`) {
		t.Errorf("batch URL %q is not preloaded in the head", u)
	}
	for _, want := range []string{"server-info", "user-greeting", "ticker"} {
		if !got[want] {
			t.Errorf("home page has no placeholder for island %q (found %v)", want, got)
		}
	}
	// The page overrides the greeting's fallback; server-info keeps its own.
	if !strings.Contains(r.Body, `<p class="greeting">Hello, <span class="skeleton w-6"></span>!</p>`) {
		t.Errorf("the greeting placeholder lacks the page's own fallback")
	}
	si, _ := island.Lookup("server-info")
	if !strings.Contains(r.Body, string(si.Fallback)) {
		t.Errorf("the server-info placeholder lacks the island's default fallback")
	}
	// The snippets quote the repository's real files.
	if !strings.Contains(r.Body, "func init() {") || !strings.Contains(r.Body, "island.Register(island.Island{") {
		t.Errorf("the How it works section does not quote fragments/user_greeting.go")
	}
}

// The only inline script and style a page may carry are the site's own
// files inlined whole, each allowed by its hash in the CSP (no
// 'unsafe-inline'); no style attributes and no inline event handlers.
func TestPagesInlineOnlyHashedFiles(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	for _, path := range []string{"/", "/about", "/no-such-page"} {
		r := site.Get(t, path)
		csp := r.Header.Get("Content-Security-Policy")
		directive := func(name string) string {
			for _, d := range strings.Split(csp, ";") {
				if f := strings.Fields(d); len(f) > 0 && f[0] == name {
					return " " + strings.Join(f[1:], " ") + " "
				}
			}
			return ""
		}
		doc := parse(t, r.Body)
		scripts := findAll(doc, func(n *html.Node) bool { return n.Data == "script" })
		for _, s := range scripts {
			if src, ok := attr(s, "src"); ok {
				if !strings.HasPrefix(src, "/public/") {
					t.Errorf("%s: a script that is not a self-hosted file: src=%q", path, src)
				}
				continue
			}
			if !strings.Contains(directive("script-src"), " "+hash(text(s))+" ") {
				t.Errorf("%s: an inline script whose hash %s is not in script-src %q", path, hash(text(s)), directive("script-src"))
			}
		}
		for _, s := range findAll(doc, func(n *html.Node) bool { return n.Data == "style" }) {
			if !strings.Contains(directive("style-src"), " "+hash(text(s))+" ") {
				t.Errorf("%s: an inline stylesheet whose hash is not in style-src", path)
			}
		}
		if len(scripts) == 0 || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: %d scripts, CSP %q", path, len(scripts), csp)
		}
		if n := findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "style"); return ok }); len(n) > 0 {
			t.Errorf("%s: %d inline style attributes", path, len(n))
		}
		if n := findAll(doc, func(n *html.Node) bool {
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "hx-on") || strings.HasPrefix(a.Key, "on") {
					return true
				}
			}
			return false
		}); len(n) > 0 {
			t.Errorf("%s: %d inline event handlers", path, len(n))
		}
	}
}

func TestPageRevalidationAndHead(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	first := site.Get(t, "/about")
	atolltest.ExpectPage(t, first, 24*time.Hour)
	etag := first.Header.Get("ETag")

	again := site.Get(t, "/about", "If-None-Match", etag)
	if again.Status != http.StatusNotModified || again.Body != "" || again.Header.Get("ETag") != etag {
		t.Fatalf("revalidation: status %d, ETag %q, body %d bytes; want 304, %q, empty", again.Status, again.Header.Get("ETag"), len(again.Body), etag)
	}
	if other := site.Get(t, "/about", "If-None-Match", `"stale"`); other.Status != http.StatusOK {
		t.Fatalf("a stale ETag got %d, want 200", other.Status)
	}
	if home := site.Get(t, "/"); home.Header.Get("ETag") == etag {
		t.Fatalf("two different pages share the ETag %s", etag)
	}
	head := site.Do(t, http.MethodHead, "/about", nil)
	if head.Status != http.StatusOK || head.Body != "" || head.Header.Get("ETag") != etag {
		t.Fatalf("HEAD: status %d, %d body bytes, ETag %q", head.Status, len(head.Body), head.Header.Get("ETag"))
	}
}

func TestBuildTimestampIsFixedUntilRestart(t *testing.T) {
	t.Parallel()
	built := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithClock(func() time.Time { return built }))
	a := field(t, parse(t, site.Get(t, "/").Body), "build")
	b := field(t, parse(t, site.Get(t, "/").Body), "build")
	if a != "2025-01-01 00:00:00 UTC" || a != b {
		t.Fatalf("build timestamps %q and %q, want both 2025-01-01 00:00:00 UTC", a, b)
	}
}

func TestPageMaxAgeIsConfigurable(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.PageMaxAge = 7 * 24 * time.Hour }))
	r := site.Get(t, "/")
	atolltest.ExpectPage(t, r, 7*24*time.Hour)
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=604800" {
		t.Fatalf("Cache-Control = %q, want public, max-age=604800", cc)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	for _, path := range []string{"/", "/_islands/server-info"} {
		h := site.Get(t, path).Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows unsafe sources", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: nosniff %q, Referrer-Policy %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
}

func TestAssetsAreFingerprintedAndImmutable(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	doc := parse(t, site.Get(t, "/").Body)
	// The page inlines one small script, the loader, and takes htmx, its
	// SSE extension and Atoll's client, in that order, from one
	// fingerprinted asset; the stylesheet is inlined.
	scripts := findAll(doc, func(n *html.Node) bool { return n.Data == "script" })
	var runtime string
	inline := 0
	for _, n := range scripts {
		if src, ok := attr(n, "src"); ok {
			runtime = src
		} else {
			inline++
		}
	}
	if len(scripts) != 2 || inline != 1 || runtime == "" {
		t.Fatalf("the page has %d scripts, %d inline, runtime %q: want the inline loader and the runtime's URL", len(scripts), inline, runtime)
	}
	js := site.Get(t, runtime).Body
	if i, j, k := strings.Index(js, "var htmx="), strings.Index(js, "hx-sse:connect"), strings.Index(js, "atoll:fallback"); i < 0 || j < i || k < j {
		t.Errorf("the runtime is not htmx, then its SSE extension, then Atoll's client (%d, %d, %d)", i, j, k)
	}
	if n := findAll(doc, func(n *html.Node) bool { return n.Data == "style" }); len(n) != 1 || !strings.Contains(text(n[0]), ".island") {
		t.Errorf("want the site's stylesheet inlined once")
	}
	var urls []string
	isAsset := func(n *html.Node) bool {
		rel, _ := attr(n, "rel")
		return n.Data == "img" || n.Data == "script" || n.Data == "link" && rel != "preload" // preloads of islands are checked in browser_preload_test.go
	}
	for _, n := range findAll(doc, isAsset) {
		for _, k := range []string{"src", "href"} {
			if v, ok := attr(n, k); ok {
				urls = append(urls, v)
			}
		}
	}
	if len(urls) == 0 {
		t.Fatal("the page links no asset")
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "/public/") {
			t.Errorf("%s: not a self-hosted asset", u)
			continue
		}
		r := site.Get(t, u)
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: status %d, Cache-Control %q", u, r.Status, r.Header.Get("Cache-Control"))
		}
	}
	if r := site.Get(t, "/public/css/site.css"); r.Status != http.StatusNotFound {
		t.Errorf("an unfingerprinted asset URL got %d, want 404", r.Status)
	}
}
