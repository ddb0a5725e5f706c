package tests

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

// TestHomePageTellsTheWholeStory checks the home page carries the points
// of the original demo: islands need a server, they combine with
// regeneration (linked), and step 3 shows the greeting island whole, its
// registration, its template and the render function that reads the
// session cookie and falls back to Guest, quoted from the real files.
func TestHomePageTellsTheWholeStory(t *testing.T) {
	site := atolltest.Start(t, atoll.Demo())
	body := site.Get(t, "/").Body
	for _, want := range []string{
		"Islands need a server", `href="/regenerated"`, "render: 10s",
		"island.Register(island.Island{", `TemplateFile: &#34;user_greeting.html&#34;`,
		`&lt;p class=&#34;greeting&#34;&gt;Hello,`,
		"func renderGreeting(r *island.Request) (any, error) {", "r.Cookie(store.SessionCookie)", `greeting{Name: &#34;Guest&#34;}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the home page lacks %q", want)
		}
	}
	// The greeting and the account island do not both say the name.
	ada, err := site.Store.SignIn(t.Context(), "Ada", "")
	if err != nil {
		t.Fatal(err)
	}
	cookie := []string{"Cookie", store.SessionCookie + "=" + ada.ID}
	text := site.Island(t, "user-greeting", cookie...).Body + site.Island(t, "account", cookie...).Body
	if n := strings.Count(stripTags(text), "Ada"); n != 1 {
		t.Errorf("signed in, the greeting and account islands name Ada %d times, want once: %s", n, text)
	}
}

// stripTags drops markup, attributes included, leaving the text a
// visitor reads.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestBrowserNoCodeBlockIsClipped opens every page at 1280 and 390 px
// wide: no code block is wider than its box (nothing hidden behind a
// horizontal scroll), and on /faults each card's figures (the healthy
// island's time and date) sit on one line inside the card.
func TestBrowserNoCodeBlockIsClipped(t *testing.T) {
	site := atolltest.Start(t, atoll.Demo())
	routes := siteRoutes(t, site)
	for _, width := range []int64{1280, 390} {
		ctx, _ := browser(t)
		if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600,
		}); err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, route := range routes {
			if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+route)); err != nil {
				t.Fatal(err)
			}
			clipped := eval[[]string](t, ctx, `[...document.querySelectorAll('pre')].filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.textContent.slice(0, 60))`)
			if len(clipped) > 0 {
				t.Errorf("%s at %d px: code blocks wider than their box: %q", route, width, clipped)
			}
			checked += eval[int](t, ctx, `document.querySelectorAll('pre').length`)
			if route == "/faults" {
				waitFor(t, ctx, "the faults page's islands", `document.querySelectorAll('[aria-busy="true"]').length === 0`)
				// Each figure in a card is one line that fits the card.
				bad := eval[[]string](t, ctx, `[...document.querySelectorAll('.fact dd')].filter(d => d.scrollWidth > d.clientWidth + 1 || d.getBoundingClientRect().height > parseFloat(getComputedStyle(d).lineHeight) * 1.5).map(d => d.textContent)`)
				if len(bad) > 0 {
					t.Errorf("/faults at %d px: figures that wrap or overflow their card: %q", width, bad)
				}
			}
		}
		if checked == 0 {
			t.Fatal("no code block on any page: the check checked nothing")
		}
	}
}
