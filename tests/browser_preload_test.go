//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/atollhq/atoll/atolltest"
)

// islandTraffic follows, through the browser's network events, every
// request for an island URL the page makes, preloads included.
type islandTraffic struct {
	mu      sync.Mutex
	started map[network.RequestID]string
	ended   map[network.RequestID]bool
}

func watchIslandTraffic(t *testing.T, ctx context.Context) *islandTraffic {
	t.Helper()
	tr := &islandTraffic{started: map[network.RequestID]string{}, ended: map[network.RequestID]bool{}}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.Contains(e.Request.URL, "/_islands") {
				tr.started[e.RequestID] = e.Request.URL
			}
		case *network.EventLoadingFinished:
			tr.ended[e.RequestID] = true
		case *network.EventLoadingFailed:
			tr.ended[e.RequestID] = true
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// settled reports whether every island request the page started has
// finished, and how many there were.
func (tr *islandTraffic) settled() (bool, int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for id := range tr.started {
		if !tr.ended[id] {
			return false, len(tr.started)
		}
	}
	return true, len(tr.started)
}

// loadTimeIslands counts, by name, the islands a page's HTML places that
// load with the page (not the lazy ones), and returns its preload URLs and
// its batch element's URL.
func loadTimeIslands(t *testing.T, body string) (want map[string]int, preloads []string, batch string) {
	t.Helper()
	doc := parse(t, body)
	want = map[string]int{}
	for _, n := range findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "aria-busy"); return ok }) {
		if trig, _ := attr(n, "hx-trigger"); trig == "revealed" {
			continue
		}
		name, _ := attr(n, "data-island")
		want[name]++
	}
	for _, n := range findAll(doc, func(n *html.Node) bool { rel, _ := attr(n, "rel"); return n.Data == "link" && rel == "preload" }) {
		href, _ := attr(n, "href")
		preloads = append(preloads, href)
		if as, _ := attr(n, "as"); as != "fetch" {
			t.Errorf("preload %s: as=%q, want fetch", href, as)
		}
		if co, _ := attr(n, "crossorigin"); co != "anonymous" {
			t.Errorf("preload %s: crossorigin=%q, want anonymous", href, co)
		}
	}
	for _, n := range findAll(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "islands-batch" }) {
		batch, _ = attr(n, "hx-get")
	}
	return want, preloads, batch
}

// The page's first island request starts from a preload in its head, and
// htmx's request for the same URL takes the preloaded response: the server
// renders every island exactly once per view. A mismatch (htmx asking
// again) would still fill the page, so the renders are counted on the
// server, after every island request the browser started has finished.
func TestBrowserPreloadedIslandsRenderOncePerView(t *testing.T) {
	site := atolltest.Start(t, atoll.Demo())
	for _, tc := range []struct {
		path     string
		requests int // island requests the server sees per view
		batched  bool
	}{
		{"/", 1, true},
		{"/many-batched", 1, true},
		{"/compare", 1, true},
		{"/many", 11, false}, // islands: separate: ten tiles and the header's cart count, each preloaded
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			want, preloads, batch := loadTimeIslands(t, site.Get(t, tc.path).Body)
			total := 0
			for _, n := range want {
				total += n
			}
			switch {
			case tc.batched && (batch == "" || len(preloads) != 1 || preloads[0] != batch):
				t.Fatalf("preloads %q, batch URL %q: want exactly one preload, of the batch URL", preloads, batch)
			case !tc.batched && (batch != "" || len(preloads) != total):
				t.Fatalf("%d preloads and batch %q for %d separate load-time islands: want one preload each and no batch", len(preloads), batch, total)
			}
			ctx, msgs := browser(t)
			traffic := watchIslandTraffic(t, ctx)
			beforeRenders, beforeRequests := site.Renders(), site.Requests("/_islands")
			if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+tc.path)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "every load-time island filled",
				`document.querySelectorAll('.island[aria-busy="true"]:not([hx-trigger="revealed"])').length === 0`)
			deadline := time.Now().Add(15 * time.Second)
			for {
				done, n := traffic.settled()
				if done && n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("island requests still in flight after 15 s (%d started)", n)
				}
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`true`)); err != nil {
					t.Fatal(err)
				}
			}
			renders := site.Renders()
			for name, n := range want {
				if got := renders[name] - beforeRenders[name]; got != n {
					t.Errorf("island %s rendered %d times for one view, want %d", name, got, n)
				}
			}
			if got := site.Requests("/_islands") - beforeRequests; got != tc.requests {
				t.Errorf("%d island requests reached the server for one view, want %d", got, tc.requests)
			}
			expectCleanConsole(t, ctx, msgs)
		})
	}
}

// A lazy island is never preloaded: it may never scroll into view.
func TestLazyIslandsAreNotPreloaded(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	doc := parse(t, site.Get(t, "/").Body)
	lazy := findAll(doc, func(n *html.Node) bool { trig, _ := attr(n, "hx-trigger"); return trig == "revealed" })
	if len(lazy) == 0 {
		t.Fatal("the home page has no lazy island to check")
	}
	_, preloads, _ := loadTimeIslands(t, site.Get(t, "/").Body)
	for _, n := range lazy {
		u, _ := attr(n, "hx-get")
		for _, p := range preloads {
			if p == u || strings.Contains(p, "/_islands/ticker") {
				t.Errorf("lazy island %s is preloaded", u)
			}
		}
	}
}
