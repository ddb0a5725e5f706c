//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/atollhq/atoll/atolltest"
)

// maxInlineScript is the most a page's one inline script, the loader, may
// weigh: everything else comes from the runtime's cached URL.
const maxInlineScript = 4096

// A page carries one small inline script, the loader, and takes htmx and
// Atoll's client from one fingerprinted, deferred script in its head that
// the browser caches for a year.
func TestLightPageInlinesOnlyTheLoader(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	for _, path := range []string{"/", "/many", "/many-batched", "/about"} {
		doc := parse(t, site.Get(t, path).Body)
		var inline []string
		var runtime []string
		for _, n := range findAll(doc, func(n *html.Node) bool { return n.Data == "script" }) {
			src, ok := attr(n, "src")
			if !ok {
				text := ""
				if n.FirstChild != nil {
					text = n.FirstChild.Data
				}
				inline = append(inline, text)
				continue
			}
			if _, deferred := attr(n, "defer"); !deferred || !strings.Contains(src, "/public/atoll/runtime.") || n.Parent == nil || n.Parent.Data != "head" {
				t.Errorf("%s: script %s: want only the runtime, deferred, in the head", path, src)
			}
			runtime = append(runtime, src)
		}
		if len(inline) != 1 || len(inline[0]) > maxInlineScript || !strings.Contains(inline[0], "islands-batch") {
			sizes := []int{}
			for _, s := range inline {
				sizes = append(sizes, len(s))
			}
			t.Errorf("%s: inline scripts of %v bytes, want one, the loader, of at most %d", path, sizes, maxInlineScript)
		}
		if len(runtime) != 1 {
			t.Fatalf("%s: runtime scripts %q, want one", path, runtime)
		}
		r := site.Get(t, runtime[0])
		if r.Status != 200 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(r.Body, "htmx") {
			t.Errorf("%s: runtime %s answered %d, Cache-Control %q", path, runtime[0], r.Status, r.Header.Get("Cache-Control"))
		}
	}
}

// A visitor fetches the runtime once: a second page, loaded in full,
// takes it from the browser's cache. Every view, the first, the second
// and a boosted one, fetches its batch once and renders each island once.
func TestBrowserLightPagesFetchTheRuntimeOnceAndRenderIslandsOnce(t *testing.T) {
	site := atolltest.Start(t, atoll.Demo())
	ctx, msgs := browser(t)
	traffic := watchIslandTraffic(t, ctx)
	view := func(what, path string, open func()) {
		t.Helper()
		want, _, batch := loadTimeIslands(t, site.Get(t, path).Body)
		if batch == "" {
			t.Fatalf("%s has no batch to check", path)
		}
		beforeRenders, beforeBatches := site.Renders(), site.Requests("/_islands$")
		beforeOwn := site.Requests("/_islands/") - site.Requests("/_islands/ticker")
		open()
		waitFor(t, ctx, what+": every load-time island filled", `location.pathname === `+jsString(path)+
			` && document.querySelectorAll('.island[aria-busy="true"]:not([hx-trigger="revealed"])').length === 0`)
		settleIslandTraffic(t, ctx, traffic)
		renders := site.Renders()
		for name, n := range want {
			if got := renders[name] - beforeRenders[name]; got != n {
				t.Errorf("%s: island %s rendered %d times, want %d", what, name, got, n)
			}
			if got := eval[int](t, ctx, `document.querySelectorAll(`+jsString(`.island[data-island="`+name+`"]`)+`).length`); got != n {
				t.Errorf("%s: %d %s islands on the page, want %d", what, got, name, n)
			}
		}
		if got := site.Requests("/_islands$") - beforeBatches; got != 1 {
			t.Errorf("%s: %d batch requests, want 1", what, got)
		}
		if got := site.Requests("/_islands/") - site.Requests("/_islands/ticker") - beforeOwn; got != 0 {
			t.Errorf("%s: %d islands fetched on their own, want all in the batch", what, got)
		}
	}
	view("first view", "/", func() {
		if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
			t.Fatal(err)
		}
	})
	view("second view, loaded in full", "/many-batched", func() {
		if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/many-batched")); err != nil {
			t.Fatal(err)
		}
	})
	if n := site.Requests("/public/atoll/runtime."); n != 1 {
		t.Errorf("the runtime reached the server %d times for two views, want 1 (the second from the browser's cache)", n)
	}
	waitFor(t, ctx, "htmx", `!!window.htmx`)
	eval[bool](t, ctx, `(window.__sameDocument = true, window.__htmx = window.htmx, true)`)
	view("boosted view", "/", func() {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/"]`))); err != nil {
			t.Fatal(err)
		}
	})
	if !eval[bool](t, ctx, `window.__sameDocument === true && window.htmx === window.__htmx`) {
		t.Error("the link did a full page load or loaded htmx again, not a boosted swap")
	}
	if n := site.Requests("/public/atoll/runtime."); n != 1 {
		t.Errorf("the runtime reached the server %d times for three views, want 1", n)
	}
	expectCleanConsole(t, ctx, msgs)
}

// settleIslandTraffic waits until every island request the browser
// started has finished, so the server has logged them all.
func settleIslandTraffic(t *testing.T, ctx context.Context, tr *islandTraffic) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if done, n := tr.settled(); done && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			_, n := tr.settled()
			t.Fatalf("island requests still in flight after 15 s (%d started)", n)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`true`)); err != nil {
			t.Fatal(err)
		}
	}
}
