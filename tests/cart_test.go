//go:build !race

package tests

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

// TestCartPageListsAndRemoves: the cart page is static and cacheable; its
// cart island lists the visitor's lines with quantity, price and totals,
// and a removal through the action shows in the next render.
func TestCartPageListsAndRemoves(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	atolltest.ExpectPage(t, site.Get(t, "/cart"), site.Config.PageMaxAge)
	if r := site.Island(t, "cart"); !strings.Contains(r.Body, "Your cart is empty") || strings.Count(r.Body, "<a ") != 1 {
		t.Fatalf("a guest's cart, want the empty state with one link: %s", r.Body)
	}
	// The page around the island has no link of its own beside the
	// island's: the empty state would show two.
	if page := site.Get(t, "/cart").Body; strings.Contains(page, "Back to the shop") {
		t.Fatalf("the cart page has its own link back to the shop beside the island's")
	}
	one := site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"1"}})
	if r := site.Island(t, "cart", "Cookie", store.SessionCookie+"="+sessionCookie(one).Value); !strings.Contains(r.Body, "Total (1 item)") {
		t.Fatalf("a cart of one item: %s", r.Body)
	}
	add := site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"2"}})
	c := sessionCookie(add)
	if c == nil {
		t.Fatal("adding set no session")
	}
	cookie := []string{"Cookie", store.SessionCookie + "=" + c.Value}
	site.Post(t, "/actions/cart/add", url.Values{"product": {"tide-stickers"}, "qty": {"3"}}, cookie...)
	r := site.Island(t, "cart", cookie...)
	atolltest.ExpectIsland(t, r, 200)
	doc := parse(t, r.Body)
	if got := field(t, doc, "qty-reef-mug"); got != "2" {
		t.Fatalf("reef-mug quantity %q", got)
	}
	if got := field(t, doc, "cart-total"); got != "€46.00" { // 2 × 14 + 3 × 6
		t.Fatalf("cart total %q, want €46.00", got)
	}
	if !strings.Contains(r.Body, `hx-post="/actions/cart/remove"`) || !strings.Contains(r.Body, `value="tide-stickers"`) {
		t.Fatalf("no remove form per line: %s", r.Body)
	}
	rm := site.Post(t, "/actions/cart/remove", url.Values{"product": {"reef-mug"}}, cookie...)
	if rm.Status != 200 || rm.Header.Get("HX-Trigger") != "cart-updated" {
		t.Fatalf("remove: %d, HX-Trigger %q", rm.Status, rm.Header.Get("HX-Trigger"))
	}
	r = site.Island(t, "cart", cookie...)
	if strings.Contains(r.Body, "reef-mug") || field(t, parse(t, r.Body), "cart-total") != "€18.00" {
		t.Fatalf("after removing the mugs: %s", r.Body)
	}
	if got := cartFor(t, site, c.Value); got != "3" {
		t.Fatalf("header count after removal %q, want 3", got)
	}
}

// TestBrowserCartRemove: from the header's Cart link to the cart page, a
// click on Remove takes the line out and the header's count follows,
// without a page load.
func TestBrowserCartRemove(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, _ := browser(t)
	addToCart(t, ctx, site, "reef-mug", "2", "2")
	addToCart(t, ctx, site, "lagoon-tee", "1", "3")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a.cart-link`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the cart page's list", `document.querySelector('[data-cart-line="reef-mug"] button') !== null`)
	if path := eval[string](t, ctx, `location.pathname`); path != "/cart" {
		t.Fatalf("the header's Cart link went to %s", path)
	}
	eval[bool](t, ctx, `window.__sameDocument = true`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-cart-line="reef-mug"] button`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the mugs gone", `document.querySelector('[data-cart-line="reef-mug"]') === null && document.querySelector('[data-field="cart-total"]')?.textContent === '€22.00'`)
	waitFor(t, ctx, "the header count 1", cartText+` === '1'`)
	waitFor(t, ctx, "the removal message", `document.querySelector('#cart-message')?.textContent.includes('Removed Reef mug')`)
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Fatal("removing reloaded the page")
	}
}
