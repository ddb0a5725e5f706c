package atolltest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

// A site's tests start the real site, here the demo, and check pages,
// islands and actions against the caching contract. The test function is
// declared inside the example so that it compiles with the package's
// tests; in a site it is a TestXxx function of its own.
func Example() {
	TestGreetingIsland := func(t *testing.T) {
		site := atolltest.Start(t, atoll.Demo())

		atolltest.ExpectPage(t, site.Get(t, "/about"), 24*time.Hour)

		r := site.Island(t, "user-greeting")
		atolltest.ExpectIsland(t, r, http.StatusOK)
		if !strings.Contains(r.Body, "Guest") {
			t.Fatalf("greeting = %q", r.Body)
		}

		r = site.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}})
		if r.Status != http.StatusOK {
			t.Fatalf("sign-in = %d %q", r.Status, r.Body)
		}
		for _, line := range r.Header.Values("Set-Cookie") {
			if c, err := http.ParseSetCookie(line); err == nil && c.Name == store.SessionCookie {
				r = site.Island(t, "user-greeting", "Cookie", store.SessionCookie+"="+c.Value)
			}
		}
		if !strings.Contains(r.Body, "Ada") {
			t.Fatalf("greeting after sign-in = %q", r.Body)
		}
	}
	_ = TestGreetingIsland
}
