//go:build !race

// The longest tests of the suite live in files named zz_*: go test resumes
// its parallel tests last-declared first, so these start as soon as the
// parallel phase does, and the run does not end waiting on one of them.

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
)

// axePath is the axe-core build the accessibility test injects: the npm
// devDependency pinned in package-lock.json, installed by `npm ci`.
const axePath = "../node_modules/axe-core/axe.min.js"

// axeRun audits the whole document against WCAG 2.x A and AA and the
// best-practice rules, and returns each violation with the elements that
// fail it, small enough to print.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
  nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 240), summary: n.failureSummary || ''})),
})))`

type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// islandSemantics names every island that tells a screen reader the
// wrong thing once the page has settled: a placeholder still busy, an
// error state that is not an alert, or an island inside a live region,
// which would be read out again on every poll.
const islandSemantics = `[...document.querySelectorAll('.island')].flatMap(e => {
  const name = e.dataset.island || e.id || '(unnamed)';
  const out = [];
  if (e.hasAttribute('aria-busy')) out.push(name + ' still has aria-busy="' + e.getAttribute('aria-busy') + '"');
  if (e.classList.contains('island--error') && e.getAttribute('role') !== 'alert') out.push(name + ' is an error state without role="alert"');
  const live = e.closest('[aria-live]:not([aria-live="off"]), [role="log"], [role="status"], [role="marquee"], [role="timer"]');
  if (live && !e.classList.contains('island--error')) out.push(name + ' sits in a live region: ' + live.outerHTML.slice(0, 80));
  return out;
})`

// bringInEveryIsland scrolls to each placeholder still waiting, one per
// poll, so islands that load when seen are seen, then to the bottom; it
// is true once nothing is busy.
const bringInEveryIsland = `(() => {
  const busy = document.querySelector('[aria-busy="true"]');
  if (busy) { busy.scrollIntoView({block: 'center'}); return false; }
  window.scrollTo(0, document.documentElement.scrollHeight);
  return document.querySelectorAll('[aria-busy="true"]').length === 0;
})()`

// TestBrowserAccessibility runs axe-core over every page of the site, in
// the light colour scheme at 1280 px and the dark one at phone width
// (390 px), once every island has arrived, and over the states islands reach later: the error states on
// /faults and on a page whose island requests fail, and an island that an
// event refreshed. A serious or critical violation fails the test; lesser
// ones are logged. Alongside, it checks what islands tell a screen reader:
// a placeholder is aria-busy="true" as served, a filled island is not
// busy, an error state is role="alert", and no island sits inside a live
// region (a polling island there would be read out on every poll).
//
// Two variants, not four: the stylesheet's width queries change layout
// only (the colours of a scheme are the same at every width), so each
// scheme and each width is audited once; TestBrowserLayout lays out every
// page at every width in both schemes. (axe over four variants was the
// suite's largest user of CPU: 70 of about 340 CPU-seconds.)
//
// axe is injected with Runtime.evaluate of axe.min.js's source: script the
// debugger evaluates is not subject to the page's Content Security Policy,
// so the site's CSP stays exactly as served and nothing is bypassed.
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	axeSource, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is not installed (run `npm ci` or `make assets`): %v", err)
	}
	site := atolltest.Start(t, atoll.Demo())
	routes := siteRoutes(t, site)
	pagesCovered(t, routes)
	urls := append(routes, "/no-such-page") // the 404 page

	// As served, before any island has arrived, every placeholder tells a
	// screen reader it is still loading.
	placed := 0
	for _, u := range urls {
		doc := parse(t, site.Get(t, u).Body)
		for _, p := range placeholders(doc) {
			placed++
			if busy, _ := attr(p, "aria-busy"); busy != "true" {
				id, _ := attr(p, "id")
				t.Errorf("%s: placeholder %s has aria-busy=%q, want \"true\" until it is filled", u, id, busy)
			}
		}
	}
	if placed == 0 {
		t.Fatal("no island placeholder on any page: the aria-busy check saw nothing")
	}

	variants := []struct {
		name   string
		scheme string
		width  int64
	}{
		{"light", "light", 1280},
		{"dark at 390px", "dark", 390},
	}
	// Both variants at once, each in a tab of its own, as subtests run from
	// goroutines rather than parallel subtests: those would wait for a free
	// slot behind every other parallel test and end the suite late.
	var running sync.WaitGroup
	for _, v := range variants {
		running.Go(func() {
			t.Run(v.name, func(t *testing.T) {
				ctx, _ := browser(t)
				if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v.scheme}},
				}); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
					Width: v.width, Height: 900, DeviceScaleFactor: 1, Mobile: v.width < 600,
				}); err != nil {
					t.Fatal(err)
				}
				if got := eval[bool](t, ctx, `matchMedia('(prefers-color-scheme: `+v.scheme+`)').matches`); !got {
					t.Fatalf("the page does not see prefers-color-scheme: %s", v.scheme)
				}
				for _, u := range urls {
					openSettled(t, ctx, site.URL+u)
					audit(t, ctx, axeSource, u)
				}

				// An island refreshed by an event is new markup too.
				openSettled(t, ctx, site.URL+"/")
				before := eval[string](t, ctx, `document.querySelector('[data-field="token"]').textContent`)
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[hx-post$="/actions/refresh"]`))); err != nil {
					t.Fatal(err)
				}
				waitInPage(t, ctx, "the server-info island to refresh", `document.querySelector('.island[data-island="server-info"]:not([aria-busy]) [data-field="token"]')?.textContent !== `+jsString(before))
				audit(t, ctx, axeSource, "/ after islands-refresh")

				// The client's own error state, for island requests that get
				// no answer at all.
				if _, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{{URLPattern: site.URL + "/_islands*", Block: true}}}); err != nil {
					t.Fatal(err)
				}
				openSettled(t, ctx, site.URL+"/")
				if n := eval[int](t, ctx, `document.querySelectorAll('.island--error[role="alert"]').length`); n == 0 {
					t.Fatal("blocked island requests left no error state on /")
				}
				audit(t, ctx, axeSource, "/ with island requests failing")
				if _, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{}}); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
	running.Wait()
}

// openSettled loads url and waits until every island on it, those that load
// when seen included, has replaced its placeholder.
func openSettled(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitInPage(t, ctx, "every island on "+url, bringInEveryIsland)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](settled, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
}

// waitInPage is waitFor: it polls in whatever document the tab shows now.
func waitInPage(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	waitFor(t, ctx, what, expr)
}

// audit checks the islands' screen-reader semantics and runs axe-core
// over the page as it stands, failing on serious and critical violations
// and logging the rest.
func audit(t *testing.T, ctx context.Context, axeSource []byte, what string) {
	t.Helper()
	for _, p := range eval[[]string](t, ctx, islandSemantics) {
		t.Errorf("%s: %s", what, p)
	}
	if !eval[bool](t, ctx, `typeof axe === 'object'`) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(axeSource)+"\n;undefined")); err != nil {
			t.Fatalf("inject axe-core into %s: %v", what, err)
		}
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core on %s: %v", what, err)
	}
	for _, v := range violations {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: %s (%s): %s\n  %s", what, v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n  %s\n    %s\n    %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n    "))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(b.String())
		} else {
			t.Log(b.String())
		}
	}
}

// siteRoutes returns the routes the server says it serves: it names them
// in its "listening" log line, written before it accepts a connection.
func siteRoutes(t *testing.T, site *atolltest.Site) []string {
	t.Helper()
	site.Get(t, "/") // answered only once Serve has logged
	for line := range strings.SplitSeq(site.Logs.String(), "\n") {
		var entry struct {
			Message string   `json:"message"`
			Pages   []string `json:"pages"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "listening" {
			if len(entry.Pages) == 0 {
				t.Fatal("the server lists no pages")
			}
			return entry.Pages
		}
	}
	t.Fatalf("the server never logged the pages it serves:\n%s", site.Logs.String())
	return nil
}

// pagesCovered fails the test when a page template has no route among
// routes, so a new page cannot slip past the audit.
func pagesCovered(t *testing.T, routes []string) {
	t.Helper()
	have := map[string]bool{}
	for _, r := range routes {
		have[r] = true
	}
	err := fs.WalkDir(atoll.Files, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" || p == "pages/404.html" {
			return err
		}
		route := "/" + strings.TrimSuffix(strings.TrimPrefix(p, "pages/"), ".html")
		route = strings.TrimSuffix(strings.TrimSuffix(route, "index"), "/")
		if route == "" {
			route = "/"
		}
		if !have[route] {
			t.Errorf("%s (route %s) is not among the routes audited: %v", p, route, routes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
