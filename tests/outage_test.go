package tests

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/pgtest"
	"github.com/atollhq/atoll/store"
)

var batchGet = regexp.MustCompile(`id="islands-batch"[^>]*hx-get="([^"]+)"`)

// A PostgreSQL outage dims the islands and actions that need the store
// and nothing else: pages and store-free islands stay 200, /readyz stays
// 200, the store's islands and actions answer 503 with Retry-After and a
// visible "temporarily unavailable" state, a batch stream carries that
// state for the affected island only, the log has one warning and one
// info line for the outage and no error line, and everything recovers
// without a restart.
func TestStoreOutageDimsIslandsAndActionsOnly(t *testing.T) {
	pg, err := pgtest.Start()
	if err != nil {
		t.Fatalf("this test needs PostgreSQL's server programs (apt-get install postgresql): %v", err)
	}
	t.Cleanup(func() { pg.Stop() })
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.DB = pg.URL }))

	var session string
	add := func() *atolltest.Response {
		return site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"1"}}, "Sec-Fetch-Site", "same-origin", "Cookie", session)
	}
	r := add()
	if r.Status != 200 {
		t.Fatalf("cart/add before the outage: %d %s", r.Status, r.Body)
	}
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == store.SessionCookie {
			session = c.Name + "=" + c.Value
		}
	}
	if session == "" {
		t.Fatalf("cart/add set no session cookie: %v", r.Header)
	}
	home := site.Get(t, "/")
	m := batchGet.FindStringSubmatch(home.Body)
	if m == nil {
		t.Fatalf("the home page has no batch stream element:\n%s", home.Body)
	}
	batch := strings.ReplaceAll(m[1], "&amp;", "&")

	if err := pg.Halt(); err != nil {
		t.Fatal(err)
	}
	waitStore(t, site, false)

	check := func(what string, r *atolltest.Response, status int, body ...string) {
		t.Helper()
		if r.Status != status {
			t.Errorf("%s: %d, want %d: %s", what, r.Status, status, r.Body)
		}
		for _, b := range body {
			if !strings.Contains(r.Body, b) {
				t.Errorf("%s: body lacks %q:\n%s", what, b, r.Body)
			}
		}
	}
	for range 3 {
		check("/", site.Get(t, "/"), 200)
		check("/about", site.Get(t, "/about"), 200)
		check("/readyz", site.Get(t, "/readyz"), 200)
		check("server-info", site.Island(t, "server-info"), 200, `data-island="server-info"`)
		r = site.Island(t, "cart-count", "Cookie", session)
		check("cart-count", r, 503, "island--unavailable", `role="alert"`, "temporarily unavailable", ">Retry</button>")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("cart-count 503 without Retry-After")
		}
		r = add()
		check("cart/add", r, 503, `role="alert"`, "temporarily unavailable")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("cart/add 503 without Retry-After")
		}
	}
	stream := site.Get(t, batch, "Cookie", session)
	check("batch stream", stream, 200, "island--cart-count island--error island--unavailable", `<div class="island island--server-info" data-island="server-info"`)
	if strings.Contains(stream.Body, "island--server-info island--error") {
		t.Errorf("the batch stream failed a store-free island:\n%s", stream.Body)
	}
	if r := site.Get(t, "/healthz/store"); r.Status != 503 || !strings.Contains(r.Body, `"up":false`) {
		t.Errorf("/healthz/store during the outage: %d %s", r.Status, r.Body)
	}

	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	waitStore(t, site, true)
	check("cart-count after", site.Island(t, "cart-count", "Cookie", session), 200, `data-field="cart-count">1<`)
	check("cart/add after", add(), 200, "Added 1 × Reef mug.")
	check("cart-count after the add", site.Island(t, "cart-count", "Cookie", session), 200, `data-field="cart-count">2<`)

	var warns, infos, errs int
	for _, line := range strings.Split(strings.TrimSpace(site.Logs.String()), "\n") {
		var e struct {
			Level, Message string
			Refused        int
		}
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		switch {
		case e.Level == "error":
			errs++
			t.Errorf("an error line: %s", line)
		case e.Message == "store unavailable: islands and actions that need it answer 503 until it returns; pages and readiness are unaffected":
			warns++
		case e.Message == "store available again":
			infos++
			if e.Refused < 6 {
				t.Errorf("the outage's end counts %d refused requests, want at least 6: %s", e.Refused, line)
			}
		}
	}
	if warns != 1 || infos != 1 {
		t.Errorf("the outage was logged with %d warnings and %d recoveries, want one each", warns, infos)
	}
}

// waitStore polls /healthz/store until it reports the store up (or
// down), for at most 15 s.
func waitStore(t *testing.T, site *atolltest.Site, up bool) {
	t.Helper()
	want := `"up":` + map[bool]string{true: "true", false: "false"}[up]
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := site.Get(t, "/healthz/store")
		if strings.Contains(r.Body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz/store never said %s: %d %s", want, r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}
