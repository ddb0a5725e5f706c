package atolltest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

// A site's tests start the real site, here the demo, on a loopback port
// and check pages, islands and actions against the caching contract. In
// a site, t is the test's *testing.T; here a small stand-in (exampleT,
// below) lets the example run.
func Example() {
	t := &exampleT{}
	defer t.done()

	site := atolltest.Start(t, atoll.Demo())
	atolltest.ExpectPage(t, site.Get(t, "/about"), 24*time.Hour)

	r := site.Island(t, "user-greeting")
	atolltest.ExpectIsland(t, r, http.StatusOK)
	fmt.Println("before sign-in:", strings.Contains(r.Body, "Guest"))

	r = site.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}})
	fmt.Println("sign-in:", r.Status)
	for _, line := range r.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == store.SessionCookie {
			r = site.Island(t, "user-greeting", "Cookie", store.SessionCookie+"="+c.Value)
		}
	}
	fmt.Println("after sign-in:", strings.Contains(r.Body, "Ada"))
	// Output:
	// before sign-in: true
	// sign-in: 200
	// after sign-in: true
}

// exampleT stands in for a *testing.T: a failure panics, and clean-ups
// run, last first, when the example ends.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                        {}
func (t *exampleT) Errorf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (t *exampleT) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (t *exampleT) Cleanup(f func())               { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) TempDir() string {
	dir, err := os.MkdirTemp("", "atolltest-example-")
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
