//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/atollhq/atoll/atolltest"
)

// focused describes the element that has the focus, for conditions and
// failure messages: its tag, id, classes, text and the island it is in.
const focused = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return 'body';
  const island = e.closest('[data-island]');
  return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') +
    ' "' + (e.textContent || e.value || '').trim().slice(0, 30) + '"' + (island ? ' in ' + island.dataset.island : '');
})()`

// pressOn focuses the element sel matches and presses key on it, as a
// keyboard user would.
func pressOn(t *testing.T, ctx context.Context, sel, key string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(key)); err != nil {
		t.Fatalf("press %q on %s: %v (focus on %s)", key, sel, err, eval[string](t, ctx, focused))
	}
}

// waitForFocus waits until the focused element matches sel, and says
// where the focus was when it never did.
func waitForFocus(t *testing.T, ctx context.Context, what, sel string) {
	t.Helper()
	cond := `document.activeElement && document.activeElement.matches(` + jsString(sel) + `)`
	if err := pollInTab(ctx, cond, 15*time.Second); err != nil {
		t.Fatalf("focus after %s: want %s, the focus is on %s (%v)", what, sel, eval[string](t, ctx, focused), err)
	}
}

// TestBrowserFocusFollowsSwaps: with the keyboard alone, the first Tab
// reaches the skip link, which takes the focus to the page's content;
// after Sign in, Sign out and Remove, whose islands are replaced under the
// focus, the focus lands on the matching control of the new island and
// never falls back to <body>.
func TestBrowserFocusFollowsSwaps(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, _ := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the guest greeting", greetingText+` === 'Hello, Guest!'`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	waitForFocus(t, ctx, "the first Tab", `a.skip-link[href="#main"]`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitForFocus(t, ctx, "following the skip link", `main#main`)

	// Sign in with Enter in the name field: the field goes with the old
	// form, and the focus moves to Sign out.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#sign-in-name`), "Ada")); err != nil {
		t.Fatal(err)
	}
	pressOn(t, ctx, `#sign-in-name`, kb.Enter)
	waitFor(t, ctx, "the signed-in account island", `document.querySelector('[data-account-name]')?.dataset.accountName === 'Ada'`)
	waitForFocus(t, ctx, "Sign in", `[data-island="account"] .account-form--signed-in button[type="submit"]`)

	// Sign out from its button: the focus moves to the name field.
	pressOn(t, ctx, `[data-island="account"] .account-form--signed-in button[type="submit"]`, kb.Enter)
	waitFor(t, ctx, "the guest account island", `document.querySelector('#sign-in-name') !== null`)
	waitForFocus(t, ctx, "Sign out", `[data-island="account"] #sign-in-name`)

	// Remove the first of two lines: the focus moves to the Remove button
	// of the line that took its place; remove that too and it moves to
	// the empty state's link.
	addToCart(t, ctx, site, "reef-mug", "1", "1")
	addToCart(t, ctx, site, "lagoon-tee", "2", "3")
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/cart")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the cart's lines", `document.querySelectorAll('[data-cart-line]').length === 2`)
	columns := `[...document.querySelectorAll('.cart-table thead th')].map(th => Math.round(th.getBoundingClientRect().left))`
	before := eval[[]int](t, ctx, columns)
	pressOn(t, ctx, `[data-cart-line="reef-mug"] button`, kb.Enter)
	waitFor(t, ctx, "one line left", `document.querySelectorAll('[data-cart-line]').length === 1`)
	waitForFocus(t, ctx, "the first Remove", `[data-island="cart"] [data-cart-line="lagoon-tee"] button`)
	if after := eval[[]int](t, ctx, columns); len(after) != len(before) || !equalInts(before, after) {
		t.Errorf("the cart's columns moved when a line was removed: at %v, then %v", before, after)
	}
	pressOn(t, ctx, `[data-cart-line="lagoon-tee"] button`, kb.Enter)
	waitFor(t, ctx, "the empty cart", `document.querySelector('[data-field="cart-empty"]') !== null`)
	waitForFocus(t, ctx, "the last Remove", `[data-island="cart"] [data-field="cart-empty"] a`)
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
