//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/atolltest"
)

// waitFor polls a JavaScript condition in the page until it is true,
// for up to 15 seconds. A navigation that replaces the page's JavaScript
// context while it polls (a reload, a boosted swap finishing) is not a
// failure: it polls again in the new document. When it fails it says
// what the tab showed.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if err := pollInTab(ctx, expr, 15*time.Second); err != nil {
		t.Fatalf("waiting for %s: %v (the tab: %s)", what, err, tabState(ctx))
	}
}

// pollInTab evaluates expr in the page every 10 ms until it is true or
// limit has passed. The loop runs inside the page, started with a plain
// Runtime.evaluate that names no execution context, so it always runs in
// the document the tab shows now: chromedp.Poll names the context it saw
// last, and a navigation that has just replaced it fails the call with
// "Cannot find context with specified id". When a navigation destroys
// the document under a running loop, the loop starts again in the new
// one. An exception in expr fails at once, with its message.
func pollInTab(ctx context.Context, expr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		js := fmt.Sprintf(`new Promise((done, fail) => {
  const end = performance.now() + %d;
  const tick = () => {
    let ok;
    try { ok = (%s); } catch (e) { return fail(e); }
    if (ok) return done(true);
    if (performance.now() > end) return done(false);
    setTimeout(tick, 10);
  };
  tick();
})`, left.Milliseconds(), expr)
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise))
		switch {
		case err == nil && ok:
			return nil
		case err == nil:
			return fmt.Errorf("still false after %s: %s", limit, expr)
		case !contextReplaced(err):
			return err
		}
	}
	return fmt.Errorf("still not true after %s, the document kept being replaced: %v", limit, err)
}

// contextReplaced reports whether err says the JavaScript context went
// away under a call, as it does when the tab navigates.
func contextReplaced(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Cannot find context with specified id") ||
		strings.Contains(s, "Cannot find default execution context") ||
		strings.Contains(s, "Execution context was destroyed") ||
		strings.Contains(s, "Inspected target navigated or closed")
}

// tabState describes the page a tab shows, for failure messages.
func tabState(ctx context.Context) string {
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " (" + document.readyState + "), " +
		document.querySelectorAll('[aria-busy="true"]').length + " islands busy, " +
		document.querySelectorAll('.island--error').length + " in an error state"`))
	if err != nil {
		return "unreadable: " + err.Error()
	}
	return state
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// openHome opens the home page and waits for its server-info island.
func openHome(t *testing.T, ctx context.Context, site *atolltest.Site) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the server-info island", `!!document.querySelector('.island[data-island="server-info"]:not([aria-busy]) [data-field="token"]')`)
}

func TestBrowserVisibleIslandLoadsWhenScrolledAndThenPolls(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, msgs := browser(t)
	openHome(t, ctx, site)
	if n := site.Requests("/_islands/ticker"); n != 0 {
		t.Fatalf("the below-the-fold ticker was fetched %d times before it was scrolled into view", n)
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(`.island[data-island="ticker"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the ticker to arrive", `!!document.querySelector('.island[data-island="ticker"]:not([aria-busy]) [data-field="price-ATL"]')`)
	first := eval[string](t, ctx, `document.querySelector('[data-symbol="ATL"] .at').dateTime + document.querySelector('[data-field="price-ATL"]').textContent`)
	// The poll is every 3s: within 8s the quote must have moved on.
	waitFor(t, ctx, "the ticker to poll", `document.querySelector('[data-symbol="ATL"] .at').dateTime + document.querySelector('[data-field="price-ATL"]').textContent !== `+jsString(first))
	if n := site.Requests("/_islands/ticker"); n < 2 {
		t.Fatalf("the ticker was fetched %d times, want the first load and at least one poll", n)
	}
	expectCleanConsole(t, ctx, msgs)
}

func TestBrowserEventRefreshesAnIsland(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, msgs := browser(t)
	openHome(t, ctx, site)
	before := eval[string](t, ctx, `document.querySelector('[data-field="token"]').textContent`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[hx-post$="/actions/refresh"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the island to refresh", `document.querySelector('[data-field="token"]')?.textContent !== `+jsString(before))
	// The first render came in the page's batch stream, the second is the
	// island's own request on the event.
	if n, own := site.Renders()["server-info"], site.Requests("/_islands/server-info"); n != 2 || own != 1 {
		t.Fatalf("server-info was rendered %d times, %d of them on its own request; want 2 (load, then the event) and 1", n, own)
	}
	if n := site.Renders()["user-greeting"]; n != 1 {
		t.Fatalf("the greeting was rendered %d times, want 1: it does not listen for the event", n)
	}
	expectCleanConsole(t, ctx, msgs)
}

func TestBrowserFaultsShowErrorStatesWithRetry(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, _ := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/faults")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "three error states", `document.querySelectorAll('.island--error[role="alert"] .retry').length === 3`)
	waitFor(t, ctx, "the healthy island", `!!document.querySelector('.island[data-island="server-info"]:not([aria-busy]) [data-field="token"]')`)
	for _, name := range []string{"fault-error", "fault-panic", "fault-timeout"} {
		if !eval[bool](t, ctx, `!!document.querySelector('.island--error[data-island="`+name+`"]')`) {
			t.Errorf("%s shows no error state", name)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.island--error[data-island="fault-error"] .retry`))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for site.Renders()["fault-error"] < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // poll the server's log for the retry's request
	}
	// The first render came in the page's batch stream, the retry is the
	// island's own request.
	if n, own := site.Renders()["fault-error"], site.Requests("/_islands/fault-error"); n != 2 || own != 1 {
		t.Fatalf("fault-error rendered %d times, %d on its own request; want 2 and 1 (the retry)", n, own)
	}
	waitFor(t, ctx, "the error state to come back", `document.querySelectorAll('.island--error[data-island="fault-error"] .retry').length === 1`)
}

func TestBrowserNetworkFailureShowsErrorStateNotSkeleton(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, _ := browser(t)
	openHome(t, ctx, site)
	site.Stop()
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(`.island[data-island="ticker"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the ticker's error state", `!!document.querySelector('.island--error[data-island="ticker"][role="alert"] .retry[hx-get]')`)
	if eval[int](t, ctx, `document.querySelectorAll('[aria-busy="true"]').length`) != 0 {
		t.Fatal("a skeleton is left after the network failed")
	}
	msg := eval[string](t, ctx, `document.querySelector('.island--error[data-island="ticker"] .island-message').textContent`)
	if !strings.Contains(msg, "Could not reach the server") {
		t.Fatalf("error message %q", msg)
	}
}

// arrivals records, in the page, when each /many tile arrives.
const arrivals = `
window.__arrivals = [];
new MutationObserver(() => {
  document.querySelectorAll('.tile--done [data-field="n"]').forEach(el => {
    const n = el.textContent.replace('#', '');
    if (!window.__arrivals.some(a => a.n === n)) window.__arrivals.push({n, at: performance.now()});
  });
}).observe(document, {subtree: true, childList: true});`

// msByTile is each /many tile's render time, from layouts/partials/many.html.
var msByTile = map[string]int{"1": 210, "2": 20, "3": 380, "4": 5, "5": 120, "6": 260, "7": 45, "8": 320, "9": 80, "10": 160}

type arrival struct {
	N  string  `json:"n"`
	At float64 `json:"at"`
}

// loadMany opens a /many page and returns how many requests it made for
// islands in all, how many of them fetched one tile, when the last tile
// arrived (ms after navigation start) and the order the tiles arrived in.
func loadMany(t *testing.T, site *atolltest.Site, path string) (requests, tileRequests int, allIn float64, order []string) {
	t.Helper()
	ctx, msgs := browser(t)
	if _, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: arrivals})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	before, beforeLatency := site.Requests("/_islands"), site.Requests("/_islands/latency")
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+path)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "all ten tiles", `window.__arrivals.length === 10`)
	got := eval[[]arrival](t, ctx, `window.__arrivals`)
	nav := eval[float64](t, ctx, `performance.getEntriesByType('navigation')[0].startTime`)
	for _, a := range got {
		order = append(order, a.N)
		allIn = max(allIn, a.At-nav)
	}
	expectCleanConsole(t, ctx, msgs)
	return site.Requests("/_islands") - before, site.Requests("/_islands/latency") - beforeLatency, allIn, order
}

func TestBrowserBatchStreamsIslandsInOneRequest(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	sepReq, sepTiles, sepTime, _ := loadMany(t, site, "/many")
	batReq, batTiles, batTime, order := loadMany(t, site, "/many-batched")
	t.Logf("/many: %d island requests (%d for tiles), all tiles in %.0f ms; /many-batched: %d request, all tiles in %.0f ms; arrival order %v",
		sepReq, sepTiles, sepTime, batReq, batTime, order)
	if sepTiles != 10 || sepReq != 11 {
		t.Errorf("/many made %d island requests, %d for tiles; want 11: ten tiles and the header's cart count", sepReq, sepTiles)
	}
	if batReq != 1 || batTiles != 0 || site.Requests("/_islands$") != 1 {
		t.Errorf("/many-batched made %d island requests (%d batch streams, %d tile requests), want exactly one stream", batReq, site.Requests("/_islands$"), batTiles)
	}
	// Streamed as they finish: each island arrives no earlier than one that
	// renders more than 40 ms faster (the slack absorbs scheduling noise).
	for i := range order {
		for _, later := range order[i+1:] {
			if msByTile[later]+40 < msByTile[order[i]] {
				t.Errorf("tile %s (%d ms) arrived after tile %s (%d ms): the stream held a fast island back", later, msByTile[later], order[i], msByTile[order[i]])
			}
		}
	}
	if !slices.Contains(order[:3], "4") || !slices.Contains(order[7:], "3") {
		t.Errorf("arrival order %v: want the 5 ms tile among the first and the 380 ms tile among the last", order)
	}
}

func TestBrowserBatchFallsBackWhenTheStreamIsBroken(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, _ := browser(t)
	// Block the batch request: the stream never arrives, so every batched
	// placeholder must fetch itself.
	if _, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
			URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/_islands?*", Block: true}}})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/many-batched")); err != nil {
		t.Fatal(err)
	}
	if err := pollInTab(ctx, `document.querySelectorAll('.tile--done').length === 10`, 15*time.Second); err != nil {
		t.Fatalf("the tiles did not all arrive through their own requests (%v): %d still busy, %d done, %d island requests logged:\n%s", err,
			eval[int](t, ctx, `document.querySelectorAll('[aria-busy]').length`), eval[int](t, ctx, `document.querySelectorAll('.tile--done').length`),
			site.Requests("/_islands"), site.Logs.String())
	}
	if n := site.Requests("/_islands/latency"); n != 10 {
		t.Fatalf("%d fallback requests, want 10", n)
	}
}

func TestBrowserBoostedNavigationLoadsTheNewPagesIslands(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, msgs := browser(t)
	openHome(t, ctx, site)
	eval[bool](t, ctx, `window.__sameDocument = true`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/faults"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the new page's islands", `location.pathname === '/faults' && document.querySelectorAll('.island--error[role="alert"]').length === 3 && !!document.querySelector('.island[data-island="server-info"]:not([aria-busy])')`)
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Fatal("the link did a full page load, not a boosted swap")
	}
	if eval[string](t, ctx, `document.title`) != "Faults, contained · Atoll" {
		t.Errorf("title after boost: %q", eval[string](t, ctx, `document.title`))
	}
	_ = msgs
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

func TestBrowserBoostedNavigationToABatchedPage(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, msgs := browser(t)
	openHome(t, ctx, site)
	eval[bool](t, ctx, `window.__sameDocument = true`)
	eval[bool](t, ctx, `(window.__htmx = window.htmx, true)`)
	before := site.Requests("/_islands$")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/many-batched"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the batched tiles after a boosted navigation", `location.pathname === '/many-batched' && document.querySelectorAll('.tile--done').length === 10`)
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Fatal("the link did a full page load, not a boosted swap")
	}
	if !eval[bool](t, ctx, `window.htmx === window.__htmx`) {
		t.Error("the boosted navigation ran the page's script again: htmx was loaded twice")
	}
	if n := site.Requests("/_islands$") - before; n != 1 {
		t.Fatalf("%d batch streams for one boosted view, want 1", n)
	}
	if n := site.Requests("/_islands/latency"); n != 0 {
		t.Fatalf("%d tiles fell back to their own requests after a boosted navigation", n)
	}
	expectCleanConsole(t, ctx, msgs)
}
