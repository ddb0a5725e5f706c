package tests

import (
	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/demo"

	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/store"

	"golang.org/x/net/html"
)

// cleared reports whether a Set-Cookie removes the cookie.
func cleared(c *http.Cookie) bool {
	return c != nil && (c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())))
}

// siteStats are the figures the dashboard shows.
type siteStats struct{ Users, Sessions, CartItems int }

func stats(t *testing.T, site *atolltest.Site) siteStats {
	t.Helper()
	st, err := site.Store.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	shop, ok := site.Services.(*demo.Services)
	if !ok {
		t.Fatalf("the site's services are %T, not the demo's", site.Services)
	}
	items, err := shop.Carts.Items(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return siteStats{Users: st.Users, Sessions: st.Sessions, CartItems: items}
}

func greetingFor(t *testing.T, site *atolltest.Site, sessionID string) string {
	t.Helper()
	r := site.Island(t, "user-greeting", "Cookie", store.SessionCookie+"="+sessionID)
	return strings.TrimSpace(text(parse(t, r.Body)))
}

func cartFor(t *testing.T, site *atolltest.Site, sessionID string) string {
	t.Helper()
	r := site.Island(t, "cart-count", "Cookie", store.SessionCookie+"="+sessionID)
	return field(t, parse(t, r.Body), "cart-count")
}

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	r := site.Post(t, "/actions/sign-in", url.Values{"name": {"  Ada Lovelace "}})
	if r.Status != 200 || !strings.Contains(r.Header.Get("HX-Trigger"), "session-changed") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("sign-in: %d, HX-Trigger %q, Cache-Control %q, %q", r.Status, r.Header.Get("HX-Trigger"), r.Header.Get("Cache-Control"), r.Body)
	}
	c := sessionCookie(r)
	if c == nil || !store.ValidSessionID(c.Value) || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.MaxAge <= 0 {
		t.Fatalf("session cookie %+v: want a 256-bit id, HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP", c)
	}
	if st := stats(t, site); st.Users != 1 || st.Sessions != 1 {
		t.Fatalf("after sign-in the store holds %+v", st)
	}
	if got := greetingFor(t, site, c.Value); got != "Hello, Ada Lovelace!" {
		t.Fatalf("greeting %q", got)
	}
	account := site.Island(t, "account", "Cookie", store.SessionCookie+"="+c.Value)
	if !strings.Contains(account.Body, `data-account-name="Ada Lovelace"`) || strings.Count(account.Body, "Ada Lovelace") != 1 {
		t.Fatalf("account island: %q", account.Body)
	}

	out := site.Post(t, "/actions/sign-out", nil, "Cookie", store.SessionCookie+"="+c.Value)
	gone := sessionCookie(out)
	if out.Status != 200 || !cleared(gone) || !strings.Contains(out.Header.Get("HX-Trigger"), "session-changed") {
		t.Fatalf("sign-out: %d, cookie %+v, HX-Trigger %q", out.Status, gone, out.Header.Get("HX-Trigger"))
	}
	if st := stats(t, site); st.Sessions != 0 {
		t.Fatalf("sign-out left %d sessions", st.Sessions)
	}
	if got := greetingFor(t, site, c.Value); got != "Hello, Guest!" {
		t.Fatalf("after sign-out the old cookie still greets %q", got)
	}
}

func TestSecureCookieOnlyBehindATrustedTLSProxy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		trusted []string
		secure  bool
	}{
		{"a forwarded https from an untrusted client is ignored", nil, false},
		{"a forwarded https from a trusted proxy marks the cookie Secure", []string{"127.0.0.1"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.TrustedProxies = tc.trusted }))
			r := site.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}}, "X-Forwarded-Proto", "https")
			if c := sessionCookie(r); c == nil || c.Secure != tc.secure {
				t.Fatalf("cookie %+v, want Secure=%v", c, tc.secure)
			}
		})
	}
}

func TestAddToCart(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	first := site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"2"}})
	c := sessionCookie(first)
	if first.Status != 200 || c == nil || first.Header.Get("HX-Trigger") != "cart-updated" {
		t.Fatalf("first add: %d, cookie %+v, HX-Trigger %q, %q", first.Status, c, first.Header.Get("HX-Trigger"), first.Body)
	}
	if got := cartFor(t, site, c.Value); got != "2" {
		t.Fatalf("cart count %q, want 2", got)
	}
	second := site.Post(t, "/actions/cart/add", url.Values{"product": {"lagoon-tee"}}, "Cookie", store.SessionCookie+"="+c.Value)
	// The message says what was done, never the cart's total, which a
	// later add on another card would make stale.
	if second.Status != 200 || sessionCookie(second) != nil || !strings.Contains(second.Body, "Added 1 × Lagoon tee.") || strings.Contains(second.Body, "in your cart") {
		t.Fatalf("second add: %d, cookie %v, %q", second.Status, sessionCookie(second), second.Body)
	}
	if st := stats(t, site); st != (siteStats{Users: 0, Sessions: 1, CartItems: 3}) {
		t.Fatalf("store %+v", st)
	}
	// Signing in keeps the guest's cart and replaces the guest session.
	in := site.Post(t, "/actions/sign-in", url.Values{"name": {"Grace"}}, "Cookie", store.SessionCookie+"="+c.Value)
	user := sessionCookie(in)
	if user == nil || user.Value == c.Value {
		t.Fatalf("sign-in kept the guest's session id")
	}
	if got := cartFor(t, site, user.Value); got != "3" {
		t.Fatalf("after sign-in the cart holds %q, want 3", got)
	}
	if got := cartFor(t, site, c.Value); got != "0" {
		t.Fatalf("the replaced guest session still sees a cart of %q", got)
	}
}

// TestActionBadInput sends each kind of bad input to an action and checks
// the answer, and that nothing was written.
func TestActionBadInput(t *testing.T) {
	t.Parallel()
	clk := atolltest.NewClock(time.Now())
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithClock(clk.Now))
	signed := sessionCookie(site.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}}))
	expiring := sessionCookie(site.Post(t, "/actions/sign-in", url.Values{"name": {"Old"}}))
	cookie := func(id string) []string { return []string{"Cookie", store.SessionCookie + "=" + id} }
	// Something in the cart, so that a refused remove that went through
	// anyway would show.
	if r := site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}}, cookie(signed.Value)...); r.Status != 200 {
		t.Fatalf("add: %d %q", r.Status, r.Body)
	}
	cases := []struct {
		name    string
		path    string
		form    url.Values
		header  []string
		status  int
		clears  bool
		prepare func()
	}{
		{name: "an empty name", path: "/actions/sign-in", form: url.Values{"name": {""}}, status: 400},
		{name: "a name of spaces", path: "/actions/sign-in", form: url.Values{"name": {"   "}}, status: 400},
		{name: "an overlong name", path: "/actions/sign-in", form: url.Values{"name": {strings.Repeat("a", 41)}}, status: 400},
		{name: "a name with a control character", path: "/actions/sign-in", form: url.Values{"name": {"Ada\x07"}}, status: 400},
		{name: "an unknown product", path: "/actions/cart/add", form: url.Values{"product": {"unicorn"}}, header: cookie(signed.Value), status: 404},
		{name: "a quantity of zero", path: "/actions/cart/add", form: url.Values{"product": {"reef-mug"}, "qty": {"0"}}, header: cookie(signed.Value), status: 400},
		{name: "a quantity of eleven", path: "/actions/cart/add", form: url.Values{"product": {"reef-mug"}, "qty": {"11"}}, header: cookie(signed.Value), status: 400},
		{name: "a quantity that is not a number", path: "/actions/cart/add", form: url.Values{"product": {"reef-mug"}, "qty": {"2e1"}}, header: cookie(signed.Value), status: 400},
		{name: "a remove without a session", path: "/actions/cart/remove", form: url.Values{"product": {"reef-mug"}}, status: 401},
		{name: "a remove with a forged session", path: "/actions/cart/remove", form: url.Values{"product": {"reef-mug"}}, header: cookie(store.NewSessionID()), status: 401, clears: true},
		{name: "a remove of an unknown product", path: "/actions/cart/remove", form: url.Values{"product": {"unicorn"}}, header: cookie(signed.Value), status: 404},
		{name: "a remove without a product", path: "/actions/cart/remove", form: url.Values{"qty": {"1"}}, header: cookie(signed.Value), status: 400},
		{name: "a remove of an empty product", path: "/actions/cart/remove", form: url.Values{"product": {" "}}, header: cookie(signed.Value), status: 400},
		{name: "a cross-site remove", path: "/actions/cart/remove", form: url.Values{"product": {"reef-mug"}}, header: append(cookie(signed.Value), "Sec-Fetch-Site", "cross-site"), status: 403},
		{name: "a forged session id", path: "/actions/cart/add", form: url.Values{"product": {"reef-mug"}}, header: cookie(store.NewSessionID()), status: 401, clears: true},
		{name: "a malformed session id", path: "/actions/cart/add", form: url.Values{"product": {"reef-mug"}}, header: cookie("'; DROP TABLE sessions; --"), status: 401, clears: true},
		{name: "an expired session", path: "/actions/cart/add", form: url.Values{"product": {"reef-mug"}}, header: cookie(expiring.Value), status: 401, clears: true,
			prepare: func() { clk.Add(store.SessionTTL + time.Minute) }},
		{name: "sign-out without a session", path: "/actions/sign-out", status: 401},
		{name: "sign-out with a forged session", path: "/actions/sign-out", header: cookie(store.NewSessionID()), status: 401, clears: true},
		{name: "an oversized body", path: "/actions/sign-in", form: url.Values{"name": {strings.Repeat("a", 70<<10)}}, status: 413},
		{name: "a cross-site sign-in", path: "/actions/sign-in", form: url.Values{"name": {"Mallory"}}, header: []string{"Sec-Fetch-Site", "cross-site"}, status: 403},
		{name: "a cross-site add to cart", path: "/actions/cart/add", form: url.Values{"product": {"reef-mug"}}, header: append(cookie(signed.Value), "Sec-Fetch-Site", "cross-site"), status: 403},
		{name: "a foreign Origin without Sec-Fetch-Site", path: "/actions/sign-out", header: append(cookie(signed.Value), "Sec-Fetch-Site", "", "Origin", "http://evil.example"), status: 403},
		{name: "an unknown action", path: "/actions/teleport", status: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare()
			}
			before := stats(t, site)
			cartBefore := cartFor(t, site, signed.Value)
			r := site.Post(t, tc.path, tc.form, tc.header...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %q", r.Status, tc.status, r.Body)
			}
			if !strings.Contains(r.Body, `role="alert"`) || strings.Contains(r.Body, "<html") || strings.Contains(r.Body, ".go:") {
				t.Errorf("want a small alert fragment, got %q", r.Body)
			}
			if r.Header.Get("HX-Trigger") != "" {
				t.Errorf("a refused action announced %q", r.Header.Get("HX-Trigger"))
			}
			if c := sessionCookie(r); (c != nil) != tc.clears || (c != nil && !cleared(c)) {
				t.Errorf("Set-Cookie %+v; want the cookie cleared: %v", c, tc.clears)
			}
			after := stats(t, site)
			if tc.prepare != nil { // the clock moved: expired sessions no longer count
				before.Sessions = after.Sessions
			}
			if after != before || cartFor(t, site, signed.Value) != cartBefore {
				t.Errorf("the store changed: %+v -> %+v", before, after)
			}
		})
	}
	if r := site.Get(t, "/actions/sign-in"); r.Status != 405 || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET on an action: %d, Allow %q", r.Status, r.Header.Get("Allow"))
	}
}

func TestRemoveFromCart(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	c := sessionCookie(site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"2"}}))
	if c == nil {
		t.Fatal("the first add set no session cookie")
	}
	cookie := []string{"Cookie", store.SessionCookie + "=" + c.Value}
	site.Post(t, "/actions/cart/add", url.Values{"product": {"gopher-float"}, "qty": {"3"}}, cookie...)
	if got := cartFor(t, site, c.Value); got != "5" {
		t.Fatalf("cart count %q, want 5", got)
	}

	r := site.Post(t, "/actions/cart/remove", url.Values{"product": {"reef-mug"}}, cookie...)
	if r.Status != 200 || r.Header.Get("HX-Trigger") != "cart-updated" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("remove: %d, HX-Trigger %q, Cache-Control %q, %q", r.Status, r.Header.Get("HX-Trigger"), r.Header.Get("Cache-Control"), r.Body)
	}
	if !strings.Contains(r.Body, "Removed Reef mug. 3 in your cart.") || strings.Contains(r.Body, `role="alert"`) {
		t.Fatalf("remove said %q", r.Body)
	}
	if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Fatalf("a remove with a live session set a cookie: %q", sc)
	}
	if got := cartFor(t, site, c.Value); got != "3" {
		t.Fatalf("after the remove the cart count is %q, want 3", got)
	}
	if st := stats(t, site); st != (siteStats{Users: 0, Sessions: 1, CartItems: 3}) {
		t.Fatalf("store %+v", st)
	}

	// Removing a product the cart does not hold changes nothing, and says so.
	again := site.Post(t, "/actions/cart/remove", url.Values{"product": {"reef-mug"}}, cookie...)
	if again.Status != 200 || again.Header.Get("HX-Trigger") != "cart-updated" || !strings.Contains(again.Body, "3 in your cart") {
		t.Fatalf("removing an absent product: %d, HX-Trigger %q, %q", again.Status, again.Header.Get("HX-Trigger"), again.Body)
	}
	if got := cartFor(t, site, c.Value); got != "3" {
		t.Fatalf("after removing an absent product the cart count is %q, want 3", got)
	}
}

func TestCartLineCannotPassItsLimit(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	c := sessionCookie(site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"9"}}))
	for range 9 {
		site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"10"}}, "Cookie", store.SessionCookie+"="+c.Value)
	}
	if got := cartFor(t, site, c.Value); got != "99" {
		t.Fatalf("cart %q, want 99", got)
	}
	r := site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}}, "Cookie", store.SessionCookie+"="+c.Value)
	if r.Status != 422 || cartFor(t, site, c.Value) != "99" {
		t.Fatalf("the 100th mug: %d, cart %s", r.Status, cartFor(t, site, c.Value))
	}
}

func TestPagesNeverSetCookiesAndStayTheSameForEveryone(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	anon := site.Get(t, "/products")
	c := sessionCookie(site.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}}))
	for _, path := range []string{"/", "/products", "/about", "/many-batched", "/regenerated", "/dashboard", "/no-such-page"} {
		r := site.Get(t, path, "Cookie", store.SessionCookie+"="+c.Value)
		if len(r.Header.Values("Set-Cookie")) > 0 {
			t.Errorf("%s set a cookie: %q", path, r.Header.Values("Set-Cookie"))
		}
		if strings.Contains(text(parse(t, r.Body)), "Ada") { // text only: a sealed token may spell anything
			t.Errorf("%s holds the signed-in user's name: pages must not be personal", path)
		}
	}
	signedIn := site.Get(t, "/products", "Cookie", store.SessionCookie+"="+c.Value)
	if signedIn.Body != anon.Body || signedIn.Header.Get("ETag") != anon.Header.Get("ETag") {
		t.Fatal("a signed-in visitor got other page bytes than a guest")
	}
}

func TestStateSurvivesARestart(t *testing.T) {
	t.Parallel()
	db := t.TempDir() + "/atoll.db"
	keys := testConfig().Keys
	opts := []atolltest.Option{atolltest.WithDB(db), atolltest.WithConfig(func(c *config.Config) { c.Keys = keys })}
	first := atolltest.Start(t, atoll.Demo(), opts...)
	c := sessionCookie(first.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}}))
	first.Post(t, "/actions/cart/add", url.Values{"product": {"tide-stickers"}, "qty": {"4"}}, "Cookie", store.SessionCookie+"="+c.Value)
	first.Stop()

	second := atolltest.Start(t, atoll.Demo(), opts...)
	if got := greetingFor(t, second, c.Value); got != "Hello, Ada!" {
		t.Fatalf("after a restart the greeting is %q", got)
	}
	if got := cartFor(t, second, c.Value); got != "4" {
		t.Fatalf("after a restart the cart holds %q, want 4", got)
	}
}

func TestDashboardShowsLiveFigures(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	c := sessionCookie(site.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}}))
	site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"3"}}, "Cookie", store.SessionCookie+"="+c.Value)
	site.Post(t, "/actions/cart/add", url.Values{"product": {"lagoon-tee"}})
	for range 3 {
		site.Island(t, "server-info")
	}
	site.Island(t, "fault-error")
	r := site.Get(t, "/dashboard")
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("ETag") != "" {
		t.Fatalf("dashboard: %d, Cache-Control %q, ETag %q", r.Status, r.Header.Get("Cache-Control"), r.Header.Get("ETag"))
	}
	doc := parse(t, r.Body)
	for f, want := range map[string]string{"users": "1", "sessions": "2", "cart-items": "4"} {
		if got := field(t, doc, f); got != want {
			t.Errorf("%s = %q, want %q", f, got, want)
		}
	}
	rows := map[string]string{}
	for _, tr := range findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "data-island-renders"); return ok }) {
		name, _ := attr(tr, "data-island-renders")
		var cells []string
		for _, td := range findAll(tr, func(n *html.Node) bool { return n.Data == "td" }) {
			cells = append(cells, strings.TrimSpace(text(td)))
		}
		rows[name] = strings.Join(cells, " ")
	}
	if rows["server-info"] != "server-info 3 0" || rows["fault-error"] != "fault-error 0 1" {
		t.Fatalf("render counts %v", rows)
	}
}
