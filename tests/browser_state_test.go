//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/atolltest"
)

// isolated opens a tab in a fresh browser context of the same browser:
// its own cookies, as a second visitor has.
func isolated(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a second browser context: %v", err)
	}
	return ctx
}

const greetingText = `document.querySelector('.island[data-island="user-greeting"]:not([aria-busy]) .greeting')?.textContent`
const cartText = `document.querySelector('.island[data-island="cart-count"]:not([aria-busy]) [data-field="cart-count"]')?.textContent`

// signIn signs in on the home page and waits for the greeting to change
// without a page load.
func signIn(t *testing.T, ctx context.Context, site *atolltest.Site, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the guest greeting", greetingText+` === 'Hello, Guest!'`)
	eval[bool](t, ctx, `window.__sameDocument = true`)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#sign-in-name`), name),
		chromedp.Click(chromedp.CSS(`.account-form button[type="submit"]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the greeting for "+name, greetingText+` === `+jsString("Hello, "+name+"!"))
	waitFor(t, ctx, "the account island", `document.querySelector('[data-account-name]')?.dataset.accountName === `+jsString(name))
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Fatal("signing in reloaded the page")
	}
}

// addToCart adds qty of the product on the shop page and waits for the
// header's count to show want, without a page load.
func addToCart(t *testing.T, ctx context.Context, site *atolltest.Site, product, qty, want string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/products")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the cart count", cartText+` !== undefined`)
	eval[bool](t, ctx, `window.__sameDocument = true`)
	sel := `#product-` + product
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(sel+` input[name="qty"]`), qty),
		chromedp.Click(chromedp.CSS(sel+` button[type="submit"]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the cart count "+want, cartText+` === `+jsString(want))
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Fatal("adding to the cart reloaded the page")
	}
}

func TestBrowserTwoVisitorsSignInAndShop(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ada, msgs := browser(t)
	bob := isolated(t, ada)

	signIn(t, ada, site, "Ada")
	signIn(t, bob, site, "Bob")
	addToCart(t, ada, site, "reef-mug", "1", "1")
	addToCart(t, bob, site, "lagoon-tee", "2", "2")
	addToCart(t, bob, site, "tide-stickers", "3", "5")

	for _, v := range []struct {
		ctx        context.Context
		name, cart string
	}{{ada, "Ada", "1"}, {bob, "Bob", "5"}} {
		if err := chromedp.Do(v.ctx, chromedp.Navigate(site.URL+"/")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, v.ctx, v.name+"'s own greeting and cart", greetingText+` === `+jsString("Hello, "+v.name+"!")+` && `+cartText+` === `+jsString(v.cart))
	}
	if st := stats(t, site); st.Users != 2 || st.CartItems != 6 {
		t.Fatalf("store %+v, want 2 users and 6 items", st)
	}
	expectCleanConsole(t, ada, msgs)
}

func TestBrowserFormNetworkErrorStaysInTheForm(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ctx, _ := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the sign-in form", `!!document.querySelector('#sign-in-name')`)
	site.Stop()
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#sign-in-name`), "Ada"),
		chromedp.Click(chromedp.CSS(`.account-form button[type="submit"]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the form's own error message", `document.querySelector('.account-form .form-message')?.textContent === 'Could not reach the server.'`)
	if !eval[bool](t, ctx, `!!document.querySelector('.island[data-island="account"] #sign-in-name') && !document.querySelector('.island--error[data-island="account"]')`) {
		t.Fatal("a failed form request replaced the whole account island")
	}
}
