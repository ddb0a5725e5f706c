//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"io"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/atolltest"
)

// TestBrowserEdgeFillsIslands loads pages through nginx on the
// configuration `atoll nginx` prints, in Chromium: islands filled in
// position are there with JavaScript off, islands sent at the end of the
// body are swapped in by the loader, and neither makes an island request.
func TestBrowserEdgeFillsIslands(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithLog(io.Discard), atolltest.WithConfig(trustLoopback))
	front := edgeFront(t, site).URL
	const pending = `[aria-busy="true"]:not([hx-trigger*="revealed"])`

	t.Run("in position, without JavaScript", func(t *testing.T) {
		ctx, _ := browser(t)
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})); err != nil {
			t.Fatal(err)
		}
		count := func(sel string) int {
			t.Helper()
			nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
			if err != nil {
				t.Fatalf("query %s: %v", sel, err)
			}
			return len(nodes)
		}
		for _, path := range []string{"/compare", "/"} {
			if err := chromedp.Do(ctx, chromedp.Navigate(front+path)); err != nil {
				t.Fatal(err)
			}
			if n := count(pending); n != 0 {
				t.Fatalf("%s without JavaScript: %d islands still pending", path, n)
			}
			if n := count(`.island[data-island="cart-count"] [data-field="cart-count"]`); n != 1 {
				t.Fatalf("%s without JavaScript: the header's cart count is not there", path)
			}
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(front+"/compare")); err != nil {
			t.Fatal(err)
		}
		if n := count(`.island[data-island="server-info"] [data-field="token"]`); n != 10 {
			t.Fatalf("/compare without JavaScript: %d of 10 islands in the page", n)
		}
		// The control: islands sent at the end of the body need the
		// loader, so with scripts off they stay placeholders.
		if err := chromedp.Do(ctx, chromedp.Navigate(front+"/compare-end")); err != nil {
			t.Fatal(err)
		}
		if n := count(pending); n != 11 {
			t.Fatalf("/compare-end without JavaScript: %d islands pending, want 11: is JavaScript really off?", n)
		}
	})

	for _, path := range []string{"/compare", "/compare-end"} {
		t.Run(path+", with JavaScript", func(t *testing.T) {
			ctx, msgs := browser(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(front+path)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the islands to be filled", `document.readyState === "complete" && !document.querySelector('`+pending+`')`)
			type state struct {
				Tokens, Fills, IslandRequests int
			}
			s, err := chromedp.Run(ctx, chromedp.Evaluate[state](`({
  tokens: document.querySelectorAll('.island[data-island="server-info"] [data-field="token"]').length,
  fills: document.querySelectorAll('template[data-atoll-fill]').length,
  islandRequests: performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname.includes('/_islands')).length,
})`))
			if err != nil {
				t.Fatal(err)
			}
			if s.Tokens != 10 || s.Fills != 0 || s.IslandRequests != 0 {
				t.Fatalf("%s: %d islands, %d fills left, %d island requests; want 10, 0, 0", path, s.Tokens, s.Fills, s.IslandRequests)
			}
			expectCleanConsole(t, ctx, msgs)
		})
	}
}
