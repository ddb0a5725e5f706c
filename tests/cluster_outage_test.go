//go:build !race

package tests

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/pgtest"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/store"
	"github.com/atollhq/atoll/tests/internal/cluster"
)

// TestClusterStoreOutage stops the PostgreSQL that two replicas behind
// nginx share for ten seconds, under a steady load: every static page
// stays 200, /readyz stays 200 on both replicas throughout, the islands
// and actions that need the store answer 503 with Retry-After and never
// anything else, and from two seconds after PostgreSQL is back not one
// request fails. The replicas log the outage once each, with no error
// line.
func TestClusterStoreOutage(t *testing.T) {
	if _, err := cluster.NginxPath(); err != nil {
		t.Fatalf("the cluster test needs nginx: %v", err)
	}
	pg, err := pgtest.Start()
	if err != nil {
		t.Fatalf("the cluster test needs PostgreSQL's server programs (apt-get install postgresql): %v", err)
	}
	t.Cleanup(func() { pg.Stop() })
	dir := t.TempDir()
	logPath := filepath.Join(dir, "replicas.log")
	logs, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Start(cluster.Options{Server: serverBinary(t), DB: pg.URL, Keys: seal.GenerateKey(),
		Dir: dir, Env: clusterEnv, Output: logs})
	if err != nil {
		logs.Close()
		t.Fatalf("start the cluster: %v", err)
	}
	t.Cleanup(func() {
		c.Stop()
		logs.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("replicas' logs (last 8 KiB):\n%s", lastBytes(string(b), 8<<10))
		}
	})
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, u string, form url.Values, cookie string) (int, string, http.Header, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, u, body)
		if err != nil {
			return 0, "", nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header, err
	}
	add := url.Values{"product": {"reef-mug"}, "qty": {"1"}}
	status, _, h, err := do("POST", c.URL+"/actions/cart/add", add, "")
	if err != nil || status != 200 {
		t.Fatalf("cart/add before the outage: %d %v", status, err)
	}
	var session string
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == store.SessionCookie {
			session = ck.Name + "=" + ck.Value
		}
	}

	// The load: one worker per kind of request, each recording what it
	// got in the phase it was sent in.
	type tally struct {
		mu   sync.Mutex
		got  map[string]int // "phase kind status"
		odd  []string
		stop bool
	}
	tl := &tally{got: map[string]int{}}
	var phase sync.Mutex
	current := "before"
	phaseOf := func() string { phase.Lock(); defer phase.Unlock(); return current }
	setPhase := func(p string) { phase.Lock(); current = p; phase.Unlock() }
	type kind struct {
		name, method, url string
		form              url.Values
		store             bool // 503 with Retry-After is its answer in the outage
	}
	kinds := []kind{
		{name: "page /", method: "GET", url: c.URL + "/"},
		{name: "page /about", method: "GET", url: c.URL + "/about"},
		{name: "island server-info", method: "GET", url: c.URL + "/_islands/server-info"},
		{name: "island cart-count", method: "GET", url: c.URL + "/_islands/cart-count", store: true},
		{name: "action cart/add", method: "POST", url: c.URL + "/actions/cart/add", form: add, store: true},
	}
	for _, r := range c.Replicas {
		kinds = append(kinds, kind{name: "readyz " + r.Name, method: "GET", url: r.URL() + "/readyz"})
	}
	var wg sync.WaitGroup
	for _, k := range kinds {
		wg.Go(func() {
			for n := 0; n < 100000; n++ { // bounded; the test stops it long before
				tl.mu.Lock()
				stop := tl.stop
				tl.mu.Unlock()
				if stop {
					return
				}
				p := phaseOf()
				cookie := session
				if k.form != nil {
					cookie = "" // a guest session per add, so no cart fills up
				}
				status, body, h, err := do(k.method, k.url, k.form, cookie)
				tl.mu.Lock()
				tl.got[fmt.Sprintf("%s\t%s\t%d", p, k.name, status)]++
				ok := err == nil && (status == 200 || k.store && p != "after" && status == 503 && h.Get("Retry-After") != "" &&
					strings.Contains(body, "temporarily unavailable"))
				if !ok && len(tl.odd) < 20 {
					tl.odd = append(tl.odd, fmt.Sprintf("%s %s: %d %v %.200s", p, k.name, status, err, body))
				}
				tl.mu.Unlock()
				time.Sleep(20 * time.Millisecond) // pace: about 50 requests a second per kind
			}
		})
	}
	wait := func(d time.Duration) { <-time.After(d) } // the scenario's own durations
	wait(2 * time.Second)
	setPhase("outage")
	if err := pg.Halt(); err != nil {
		t.Fatal(err)
	}
	wait(10 * time.Second)
	setPhase("recovering")
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	wait(2 * time.Second)
	setPhase("after")
	wait(3 * time.Second)
	tl.mu.Lock()
	tl.stop = true
	tl.mu.Unlock()
	wg.Wait()

	var lines []string
	for k, n := range tl.got {
		lines = append(lines, fmt.Sprintf("%s\t%d", k, n))
	}
	slices.Sort(lines)
	t.Logf("phase, request, status, count:\n%s", strings.Join(lines, "\n"))
	for _, o := range tl.odd {
		t.Errorf("unexpected: %s", o)
	}
	for _, k := range kinds {
		if k.store && tl.got["outage\t"+k.name+"\t503"] == 0 {
			t.Errorf("%s never answered 503 during the outage", k.name)
		}
	}
	b, _ := os.ReadFile(logPath)
	var starts, ends int
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"level":"error"`) {
			t.Errorf("an error line: %s", line)
		}
		if strings.Contains(line, `"message":"store unavailable`) {
			starts++
		}
		if strings.Contains(line, `"message":"store available again"`) {
			ends++
		}
	}
	if starts != len(c.Replicas) || ends != len(c.Replicas) {
		t.Errorf("%d outage warnings and %d recoveries logged, want one of each per replica (%d)", starts, ends, len(c.Replicas))
	}
}
