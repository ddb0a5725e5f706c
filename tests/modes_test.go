package tests

import (
	"github.com/atollhq/atoll"

	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/server"

	"golang.org/x/net/html"

	"github.com/rs/zerolog"
)

func TestRegeneratedPageServesStaleThenFresh(t *testing.T) {
	t.Parallel()
	clk := atolltest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithClock(clk.Now))
	first := site.Get(t, "/regenerated")
	if first.Status != 200 || first.Header.Get("Cache-Control") != "public, max-age=0, s-maxage=10, stale-while-revalidate=10" {
		t.Fatalf("status %d, Cache-Control %q", first.Status, first.Header.Get("Cache-Control"))
	}
	if got := field(t, parse(t, first.Body), "rendered"); got != "2026-03-01 09:00:00 UTC" {
		t.Fatalf("first render time %q", got)
	}
	if r := site.Get(t, "/regenerated", "If-None-Match", first.Header.Get("ETag")); r.Status != http.StatusNotModified {
		t.Fatalf("revalidation: %d, want 304", r.Status)
	}

	clk.Add(11 * time.Second)
	stale := site.Get(t, "/regenerated")
	if stale.Body != first.Body {
		t.Fatal("the first request after the page went stale waited for a new render")
	}
	var fresh *atolltest.Response
	for range 200 { // the regeneration runs in the background; poll for it
		fresh = site.Get(t, "/regenerated")
		if fresh.Body != first.Body {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := field(t, parse(t, fresh.Body), "rendered"); got != "2026-03-01 09:00:11 UTC" {
		t.Fatalf("after regeneration the render time is %q, want 2026-03-01 09:00:11 UTC", got)
	}
	if fresh.Header.Get("ETag") == first.Header.Get("ETag") {
		t.Fatal("a regenerated page kept its old ETag")
	}
	if got := field(t, parse(t, fresh.Body), "build"); got != "2026-03-01 09:00:00 UTC" {
		t.Fatalf("the build time moved to %q", got)
	}
}

func TestSSRPageIsRenderedPerRequest(t *testing.T) {
	t.Parallel()
	clk := atolltest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	files := siteFiles(t)
	files["pages/live.html"] = &fstest.MapFile{Data: []byte("{{/*\nrender: ssr\n*/}}\n<p data-field=\"rendered\">{{ .RenderTime }}</p>{{ island \"server-info\" }}")}
	srv, err := server.New(server.Options{Config: testConfig(), Log: zerolog.Nop(), Store: testStore(t), Site: demoWith(files), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.App()
	get := func() (*http.Response, string) {
		req, _ := http.NewRequest("GET", "/live", nil)
		res, err := h.Test(req, 5000)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			b.WriteString(sc.Text())
		}
		return res, b.String()
	}
	r1, b1 := get()
	clk.Add(time.Minute)
	r2, b2 := get()
	if r1.Header.Get("Cache-Control") != "no-store" || r1.Header.Get("ETag") != "" || r2.StatusCode != 200 {
		t.Fatalf("Cache-Control %q, ETag %q, status %d", r1.Header.Get("Cache-Control"), r1.Header.Get("ETag"), r2.StatusCode)
	}
	if field(t, parse(t, b1), "rendered") == field(t, parse(t, b2), "rendered") {
		t.Fatal("two requests a minute apart got the same render")
	}
}

func TestBasePath(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.BasePath = "/shop" }))
	home := site.Get(t, "/shop/")
	atolltest.ExpectPage(t, home, 24*time.Hour)
	doc := parse(t, home.Body)
	for _, p := range placeholders(doc) {
		if v, _ := attr(p, "hx-get"); !strings.HasPrefix(v, "/shop/_islands/") {
			t.Errorf("placeholder fetches %q, want a URL under /shop", v)
		}
	}
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" || n.Data == "link" || n.Data == "script" }) {
		for _, k := range []string{"href", "src", "hx-post"} {
			if v, ok := attr(n, k); ok && strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "/shop/") && v != "/shop" {
				t.Errorf("<%s %s=%q> is outside the base path", n.Data, k, v)
			}
		}
	}
	if r := site.Get(t, "/shop"); r.Status != 200 {
		t.Errorf("/shop: %d", r.Status)
	}
	if r := site.Get(t, "/shop/about"); r.Status != 200 {
		t.Errorf("/shop/about: %d", r.Status)
	}
	if r := site.Get(t, "/about"); r.Status != 404 {
		t.Errorf("/about outside the base path: %d, want 404", r.Status)
	}
	r := site.Get(t, "/shop/_islands/server-info?page=%2F")
	atolltest.ExpectIsland(t, r, 200)
	in := site.Post(t, "/shop/actions/sign-in", url.Values{"name": {"Ada"}})
	if c := sessionCookie(in); in.Status != 200 || c == nil || c.Path != "/shop/" {
		t.Errorf("sign-in under the base path: %d, cookie %+v, want Path=/shop/", in.Status, c)
	}
	if f := site.Get(t, "/shop/_islands/fault-error?page=%2Ffaults"); !strings.Contains(f.Body, `hx-get="/shop/_islands/fault-error?page=%2Ffaults"`) {
		t.Errorf("the Retry button leaves the base path: %q", f.Body)
	}
}
