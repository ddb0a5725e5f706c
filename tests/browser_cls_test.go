//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/atolltest"
)

// maxCLS is the most Cumulative Layout Shift a page may show while its
// islands replace their skeletons: "good" is 0.1, and a skeleton the size
// of its island gives none at all.
const maxCLS = 0.01

// islandLatency (ms) is added to every island response in the CLS test.
const islandLatency = 150

// shiftRecorder runs before any of the page's own code: it keeps every
// layout-shift entry, with the elements that moved described while they
// are still in the document (an outerHTML swap detaches them soon after).
const shiftRecorder = `
(() => {
  const describe = n => {
    if (!n) return '(gone)';
    if (n.nodeType !== 1) n = n.parentElement;
    if (!n) return '(text)';
    let s = n.tagName.toLowerCase();
    if (n.id) s += '#' + n.id;
    if (n.classList.length) s += '.' + [...n.classList].join('.');
    const island = n.closest('[data-island]');
    if (island) s += ' in island ' + island.dataset.island + (island.getAttribute('aria-busy') ? ' (skeleton)' : '');
    return s;
  };
  const box = r => Math.round(r.x) + ',' + Math.round(r.y) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height);
  const keep = entries => {
    for (const e of entries) {
      window.__shifts.push({
        value: e.value, input: e.hadRecentInput, at: Math.round(e.startTime),
        sources: (e.sources || []).map(s => describe(s.node) + ' moved from ' + box(s.previousRect) + ' to ' + box(s.currentRect)),
      });
    }
  };
  window.__shifts = [];
  window.__shiftObserver = new PerformanceObserver(list => keep(list.getEntries()));
  window.__shiftObserver.observe({type: 'layout-shift', buffered: true});
  window.__takeShifts = () => { keep(window.__shiftObserver.takeRecords()); return window.__shifts; };
  // Each island's box while it still shows its skeleton: at
  // DOMContentLoaded the page is parsed, styled and htmx has not yet
  // asked for anything.
  document.addEventListener('DOMContentLoaded', () => { window.__skeletons = islandBoxes(); });
})();
function islandBoxes() {
  return [...document.querySelectorAll('[data-island]')].map(e => {
    const r = e.getBoundingClientRect();
    return {name: e.dataset.island, busy: e.getAttribute('aria-busy') === 'true', w: r.width, h: r.height,
      styled: getComputedStyle(document.body).marginTop === '0px'};
  });
}`

// settled resolves once two more frames have been laid out and painted,
// so that a shift caused by the last island to arrive has been reported.
const settled = `new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`

// islandBox is an island's border box, and whether it showed a skeleton
// and the site's stylesheet applied when it was measured.
type islandBox struct {
	Name   string  `json:"name"`
	Busy   bool    `json:"busy"`
	W      float64 `json:"w"`
	H      float64 `json:"h"`
	Styled bool    `json:"styled"`
}

type layoutShift struct {
	Value   float64  `json:"value"`
	Input   bool     `json:"input"`
	At      float64  `json:"at"`
	Sources []string `json:"sources"`
}

// TestBrowserNoLayoutShift runs alone, never in parallel: it measures each
// skeleton at DOMContentLoaded, which must come before the island
// responses it holds back by islandLatency, and a machine busy with other
// tests can delay DOMContentLoaded past that.
func TestBrowserNoLayoutShift(t *testing.T) {
	site := atolltest.Start(t, atoll.Demo())
	ctx, _ := browser(t)
	// On a real network the islands arrive after the first paint; on
	// loopback most would beat it and hide any jump. Holding every island
	// response back a little puts the swaps where visitors see them.
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{URLPattern: site.URL + "/_islands*", Latency: islandLatency, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: shiftRecorder}); err != nil {
		t.Fatal(err)
	}
	pages := []string{"/", "/many", "/many-batched"}
	widths := []int64{1280, 390}
	// A guest first, then a signed-in visitor with a two-digit cart: the
	// islands that read the session differ in content between the two.
	for _, visitor := range []string{"guest", "signed in"} {
		if visitor == "signed in" {
			signInWithCart(t, ctx, site, "Ada Lovelace")
		}
		for _, width := range widths {
			for _, path := range pages {
				name := strings.TrimPrefix(path, "/")
				if name == "" {
					name = "home"
				}
				t.Run(fmt.Sprintf("%s at %dpx as %s", name, width, visitor), func(t *testing.T) {
					cls, shifts, mismatches := measureCLS(t, ctx, site.URL+path, width)
					for _, m := range mismatches {
						t.Error(m)
					}
					if count := eval[string](t, ctx, cartText); count != map[string]string{"guest": "0", "signed in": "12"}[visitor] {
						t.Fatalf("the header's cart count is %q: the page was not seen as %s", count, visitor)
					}
					t.Logf("CLS %.4f", cls)
					if cls > maxCLS {
						var b strings.Builder
						for _, s := range shifts {
							if s.Input {
								continue
							}
							fmt.Fprintf(&b, "\n  %.4f at %.0f ms:", s.Value, s.At)
							for _, src := range s.Sources {
								b.WriteString("\n    " + src)
							}
						}
						t.Errorf("CLS %.4f, want at most %.2f; the shifts:%s", cls, maxCLS, b.String())
					}
				})
			}
		}
	}
}

// measureCLS opens url in a viewport width px wide, brings every island in,
// scrolling to the ones that wait to be seen, and returns the page's
// Cumulative Layout Shift with the shifts it is made of, and the islands
// whose box is not the size of the skeleton it replaced.
func measureCLS(t *testing.T, ctx context.Context, url string, width int64) (cls float64, shifts []layoutShift, mismatches []string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: width, Height: 900, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the islands placed to load at once", `document.querySelectorAll('[aria-busy="true"]:not([hx-trigger="revealed"])').length === 0`)
	for _, id := range eval[[]string](t, ctx, `[...document.querySelectorAll('[aria-busy="true"][hx-trigger="revealed"]')].map(e => e.id)`) {
		if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.ID(id))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "every island", `document.querySelectorAll('[aria-busy="true"]').length === 0`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](settled, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	shifts = eval[[]layoutShift](t, ctx, `window.__takeShifts()`)
	for _, s := range shifts {
		if !s.Input {
			cls += s.Value
		}
	}
	// A skeleton that fills before the first paint shifts nothing visible,
	// but would on a slower network: compare the boxes as well. An
	// outerHTML swap replaces each island in place, so the order holds.
	before := eval[[]islandBox](t, ctx, `window.__skeletons`)
	after := eval[[]islandBox](t, ctx, `islandBoxes()`)
	if len(before) != len(after) || len(before) == 0 {
		t.Fatalf("%d islands before the swaps and %d after", len(before), len(after))
	}
	for i, b := range before {
		a := after[i]
		if !b.Busy || !b.Styled || b.Name != a.Name {
			t.Fatalf("island %d (%s) was measured too late or too early: busy %v, stylesheet applied %v, then %s", i, b.Name, b.Busy, b.Styled, a.Name)
		}
		if math.Abs(a.W-b.W) > 0.5 || math.Abs(a.H-b.H) > 0.5 {
			mismatches = append(mismatches, fmt.Sprintf("island %d (%s): skeleton %.1fx%.1f px, filled %.1fx%.1f px", i+1, b.Name, b.W, b.H, a.W, a.H))
		}
	}
	return cls, shifts, mismatches
}

// signInWithCart signs in as name and puts twelve items in the cart with
// the site's own actions, sent from the page as its forms would be.
func signInWithCart(t *testing.T, ctx context.Context, site *atolltest.Site, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/about")); err != nil {
		t.Fatal(err)
	}
	post := func(path, body string) string {
		return `fetch(` + jsString(site.URL+path) + `, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: ` + jsString(body) + `}).then(r => r.ok)`
	}
	for _, req := range [][2]string{
		{"/actions/sign-in", "name=" + strings.ReplaceAll(name, " ", "+")},
		{"/actions/cart/add", "product=reef-mug&qty=10"},
		{"/actions/cart/add", "product=lagoon-tee&qty=2"},
	} {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](post(req[0], req[1]), chromedp.EvalAwaitPromise))
		if err != nil || !ok {
			t.Fatalf("POST %s from the page: ok %v, err %v", req[0], ok, err)
		}
	}
}
