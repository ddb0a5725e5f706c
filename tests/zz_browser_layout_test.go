//go:build !race

// The longest tests of the suite live in files named zz_*: go test resumes
// its parallel tests last-declared first, so these start as soon as the
// parallel phase does, and the run does not end waiting on one of them.

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/atolltest"
)

// layoutWidths are the viewport widths every page is laid out at: a
// laptop, a small laptop, a tablet and a phone.
var layoutWidths = []int64{1280, 1024, 768, 390}

// maxPhoneHeader is the tallest the site header may be at phone width
// (px), so that the page's own content starts in the first screenful.
const maxPhoneHeader = 100

// layoutProblems looks at the page as it is laid out now and returns
// every defect it finds, each described with the element and the
// numbers it saw. It is a function of the header limit and whether the
// viewport is a phone's.
const layoutProblems = `((phone, headerMax) => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const describe = n => {
    if (n.nodeType !== 1) n = n.parentElement;
    let s = n.tagName.toLowerCase();
    if (n.id) s += '#' + n.id;
    if (n.classList.length) s += '.' + [...n.classList].join('.');
    const island = n.closest('[data-island]');
    if (island) s += ' in island ' + island.dataset.island + (island.getAttribute('aria-busy') ? ' (skeleton)' : '') +
      (island.classList.contains('island--error') ? ' (error state)' : '');
    return s;
  };
  const px = v => Math.round(v * 10) / 10;
  const visible = el => {
    for (let e = el; e; e = e.parentElement) {
      if (e.classList.contains('visually-hidden')) return false;
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden') return false;
      if (cs.position === 'absolute' && /rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)/.test(cs.clip)) return false; // read out, not shown
    }
    return true;
  };

  // Nothing scrolls sideways.
  const sw = document.documentElement.scrollWidth;
  if (sw > vw) {
    const wide = [...document.body.querySelectorAll('*')].filter(e => {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 0.5) return false;
      const p = e.parentElement.getBoundingClientRect();
      return p.right <= vw + 0.5; // the outermost element that reaches past the edge
    }).slice(0, 5).map(e => describe(e) + ' reaches ' + px(e.getBoundingClientRect().right) + ' px');
    out.push('the page scrolls sideways: it is ' + sw + ' px wide in a ' + vw + ' px viewport; past the edge: ' + wide.join('; '));
  }

  // The header leaves room for the page.
  const header = document.querySelector('.site-header');
  if (phone && header && header.getBoundingClientRect().height > headerMax) {
    out.push('the header is ' + px(header.getBoundingClientRect().height) + ' px tall, want at most ' + headerMax);
  }

  // Every piece of visible text, line by line.
  const lines = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || !visible(n.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      if (r.width > 0.5 && r.height > 0.5) lines.push({node: n, r});
    }
  }
  const snippet = n => JSON.stringify(n.textContent.trim().slice(0, 40));

  // No island's text falls outside the island's box.
  for (const {node, r} of lines) {
    const island = node.parentElement.closest('[data-island]');
    if (!island) continue;
    const b = island.getBoundingClientRect();
    const past = Math.max(b.left - r.left, r.right - b.right, b.top - r.top, r.bottom - b.bottom);
    if (past > 1) out.push(describe(node) + ': text ' + snippet(node) + ' falls ' + px(past) + ' px outside its island\'s box');
  }

  // No text overlaps other text.
  for (let i = 0; i < lines.length; i++) {
    for (let j = i + 1; j < lines.length; j++) {
      const a = lines[i], b = lines[j];
      if (a.node === b.node) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 2 && h > 0.25 * Math.min(a.r.height, b.r.height)) {
        out.push('text ' + snippet(a.node) + ' (' + describe(a.node) + ') overlaps text ' + snippet(b.node) + ' (' + describe(b.node) + ') by ' + px(w) + 'x' + px(h) + ' px');
      }
    }
  }

  // Labels, controls and identifiers stay on one line.
  for (const el of document.querySelectorAll('button, dt, th, label, .badge, nav a, .cart-link, :not(pre) > code')) {
    if (!visible(el) || !el.textContent.trim()) continue;
    const rects = lines.filter(l => el.contains(l.node)).map(l => l.r).sort((a, b) => a.top - b.top);
    let count = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 1) count++;
      bottom = Math.max(bottom, r.bottom);
    }
    if (count > 1) out.push(describe(el) + ' ' + snippet(el) + ' wraps onto ' + count + ' lines');
  }

  // A code block shows all of its code (it wraps, hiding nothing behind
  // a sideways scroll), and is a tab stop only when it does scroll.
  for (const pre of document.querySelectorAll('pre')) {
    const hidden = pre.scrollWidth - pre.clientWidth;
    if (hidden > 1) out.push(describe(pre) + ' ' + snippet(pre) + ' hides ' + hidden + ' px of its code behind a sideways scroll');
    if (pre.hasAttribute('tabindex') && hidden <= 1) out.push(describe(pre) + ' ' + snippet(pre) + ' is a tab stop but does not scroll');
  }

  // A figure (a fact's value) is one line.
  for (const dd of document.querySelectorAll('.fact dd')) {
    if (dd.getBoundingClientRect().height > parseFloat(getComputedStyle(dd).lineHeight) * 1.5) out.push(describe(dd) + ' ' + snippet(dd) + ' wraps');
  }

  // A code block stands out from the card it sits on.
  const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = c => { const v = rgb(c); return v.length === 3 || (v.length === 4 && v[3] > 0); };
  for (const pre of document.querySelectorAll('pre')) {
    let p = pre.parentElement;
    while (p && !opaque(getComputedStyle(p).backgroundColor)) p = p.parentElement;
    const behind = p ? getComputedStyle(p).backgroundColor : 'rgb(255, 255, 255)';
    const [l1, l2] = [lum(getComputedStyle(pre).backgroundColor), lum(behind)];
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < 1.25) out.push(describe(pre) + ': its background ' + getComputedStyle(pre).backgroundColor + ' against ' + behind + ' behind it is ' + ratio.toFixed(2) + ':1, want 1.25:1');
  }

  // A grid of cards does not leave one card alone on its last row.
  for (const grid of document.querySelectorAll('.panels, .products')) {
    const rows = new Map();
    for (const c of grid.children) {
      const top = Math.round(c.getBoundingClientRect().top);
      rows.set(top, (rows.get(top) || 0) + 1);
    }
    const counts = [...rows.values()];
    if (counts.length > 1 && counts[0] > 2 && counts[counts.length - 1] === 1) out.push(describe(grid) + ' lays out ' + counts.join(' + '));
  }

  // Prices line up on their decimal point.
  const points = [...document.querySelectorAll('.ticker .price')].map(p => {
    const t = p.firstChild;
    const at = t && t.textContent.indexOf('.');
    if (!t || at < 0) return null;
    const range = document.createRange();
    range.setStart(t, at); range.setEnd(t, at + 1);
    return range.getBoundingClientRect().left;
  }).filter(x => x !== null);
  if (points.length > 1 && Math.max(...points) - Math.min(...points) > 1) {
    out.push('the ticker\'s decimal points are not aligned: at ' + points.map(px).join(', ') + ' px');
  }
  return out;
})`

// layoutIslandBoxes is each island's size, in document order.
const layoutIslandBoxes = `[...document.querySelectorAll('[data-island]')].map(e => {
  const r = e.getBoundingClientRect();
  return {name: e.dataset.island, busy: e.getAttribute('aria-busy') === 'true', error: e.classList.contains('island--error'), w: r.width, h: r.height};
})`

type layoutIsland struct {
	Name  string  `json:"name"`
	Busy  bool    `json:"busy"`
	Error bool    `json:"error"`
	W     float64 `json:"w"`
	H     float64 `json:"h"`
}

// TestBrowserLayout lays out every page of the demo at four widths, in
// light and dark, in the three states a visitor can see: the islands'
// skeletons (before any island arrived: here, with scripts off), the
// islands loaded, and every island in its error state (island requests
// blocked). At each it checks that nothing scrolls sideways, no island's
// text leaves its box, no text overlaps other text, labels, controls and
// figures stay on one line, code blocks show all their code, stand out
// from their card and are tab stops only when they scroll, grids leave
// no card alone, the ticker's prices align, and the header at phone
// width is at most 100 px tall. Then it checks that each island's
// skeleton is the height of the island that replaces it.
func TestBrowserLayout(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	routes := siteRoutes(t, site)
	pagesCovered(t, routes)
	routes = append(routes, "/no-such-page") // the 404 page
	// boxes[state][route][width] are the island boxes each state showed.
	var mu sync.Mutex
	boxes := map[string]map[string]map[int64][]layoutIsland{}
	// The three states at once, each in a tab of its own, as subtests run
	// from goroutines rather than parallel subtests: those would wait for
	// a free slot behind every other parallel test and end the suite late.
	var states sync.WaitGroup
	for _, state := range []string{"skeleton", "loaded", "error"} {
		states.Go(func() {
			t.Run(state, func(t *testing.T) {
				ctx, _ := browser(t)
				if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
					t.Fatal(err)
				}
				setLayoutState(t, ctx, site, state)
				for _, route := range routes {
					// A page rendered per request carries its load-time
					// islands in its own response: blocking island
					// requests leaves those filled, not in error.
					perRequest := site.Get(t, route).Header.Get("Cache-Control") == "no-store"
					seen := layOut(t, ctx, site.URL+route, state, perRequest)
					mu.Lock()
					if boxes[state] == nil {
						boxes[state] = map[string]map[int64][]layoutIsland{}
					}
					boxes[state][route] = seen
					mu.Unlock()
				}
			})
		})
	}
	states.Wait()
	for _, route := range routes {
		for _, width := range layoutWidths {
			compareSkeletons(t, route, width, boxes["skeleton"][route][width], boxes["loaded"][route][width])
		}
	}
}

// layOut opens url in the given state and checks its layout at every
// width in both colour schemes; it returns the island boxes it saw, by
// width. perRequest says the page is rendered per request, with its
// load-time islands in its own response.
func layOut(t *testing.T, ctx context.Context, url, state string, perRequest bool) map[int64][]layoutIsland {
	t.Helper()
	setViewport(t, ctx, layoutWidths[0], "light")
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	if state != "skeleton" {
		waitInPage(t, ctx, "every island on "+url, bringInEveryIsland)
	}
	switch {
	case state == "error" && perRequest:
		waitInPage(t, ctx, "the error states of the islands "+url+" did not carry", `!document.querySelector('[data-island][aria-busy="true"]')`)
	case state == "error":
		waitInPage(t, ctx, "the error states on "+url, `document.querySelectorAll('[data-island]:not(.island--error)').length === 0`)
	}
	seen := map[int64][]layoutIsland{}
	for _, width := range layoutWidths {
		for _, scheme := range []string{"light", "dark"} {
			setViewport(t, ctx, width, scheme)
			for _, p := range eval[[]string](t, ctx, layoutProblems+fmt.Sprintf("(%v, %d)", width < 600, maxPhoneHeader)) {
				t.Errorf("%s %s at %d px, %s: %s", state, url, width, scheme, p)
			}
		}
		seen[width] = eval[[]layoutIsland](t, ctx, layoutIslandBoxes)
	}
	return seen
}

// setLayoutState makes the tab show islands as skeletons (scripts off, so
// no island is ever asked for), loaded, or failing (island requests
// blocked, so each shows the client's error state).
func setLayoutState(t *testing.T, ctx context.Context, site *atolltest.Site, state string) {
	t.Helper()
	var blocked []*network.BlockPattern
	if state == "error" {
		blocked = []*network.BlockPattern{{URLPattern: site.URL + "/_islands*", Block: true}}
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: state == "skeleton"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: blocked}); err != nil {
		t.Fatal(err)
	}
}

// setViewport sizes the viewport and sets the colour scheme the page sees,
// then waits two frames so the page is laid out again.
func setViewport(t *testing.T, ctx context.Context, width int64, scheme string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		t.Fatal(err)
	}
	// With scripts off, a promise cannot be awaited; reading layout from
	// the protocol forces it anyway.
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`matchMedia('(prefers-color-scheme: `+scheme+`)').matches && document.documentElement.clientWidth > 0`)); err != nil || !got {
		t.Fatalf("the page does not see %s at %d px (err %v)", scheme, width, err)
	}
}

// compareSkeletons fails when a loaded island is not the height of the
// skeleton it replaced (an island in an error state may differ).
func compareSkeletons(t *testing.T, route string, width int64, before, after []layoutIsland) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("%s at %d px: %d islands as skeletons, %d loaded", route, width, len(before), len(after))
		return
	}
	for i, b := range before {
		a := after[i]
		if a.Error || a.Name != b.Name || !b.Busy {
			continue
		}
		if math.Abs(a.H-b.H) > 0.5 {
			t.Errorf("%s at %d px: island %s is %.1f px tall as a skeleton and %.1f px loaded", route, width, b.Name, b.H, a.H)
		}
	}
}
