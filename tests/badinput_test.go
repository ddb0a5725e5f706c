package tests

import (
	"github.com/atollhq/atoll"

	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/internal/seal"
)

// badCase is one request that must get a clear answer, and what must and
// must not come back.
type badCase struct {
	name     string
	method   string
	path     string
	body     string
	status   int
	header   map[string]string
	contains []string
	absent   []string
	log      []string // what the request's log line must hold
}

func sealWith(t *testing.T, key []byte, purpose string, v any) string {
	t.Helper()
	k, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return k.Seal(purpose, b)
}

// TestBadInput walks the bad-input cases of the caching contract: each
// tampered, oversized or malformed request gets a clear 4xx and the
// server and the other islands carry on.
func TestBadInput(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	key := site.Config.Keys[0]
	foreign, _ := seal.ParseKeys(seal.GenerateKey())
	good := sealWith(t, key, "island:latency", map[string]string{"n": "1", "ms": "1"})
	flipped := []byte(good)
	flipped[len(flipped)/2] ^= 0x01
	if flipped[len(flipped)/2] == '_' || flipped[len(flipped)/2] == '-' {
		flipped[len(flipped)/2] = 'A'
	}
	isl := "/_islands/latency?page=%2F&p="
	badProps := []string{`role="alert"`, "invalid link"}
	noRetry := []string{"<html", `class="retry"`}

	cases := []badCase{
		{name: "an unknown island is a 404 fragment", method: "GET", path: "/_islands/no-such-island", status: 404,
			header:   map[string]string{"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
			contains: []string{`role="alert"`, "does not exist"}, absent: []string{"<html", "no-such-island"}},
		{name: "an island name with markup is a 404 that echoes nothing", method: "GET", path: "/_islands/%3Cscript%3E", status: 404,
			absent: []string{"<script"}},
		{name: "tampered props are a 400 fragment", method: "GET", path: isl + string(flipped), status: 400,
			contains: badProps, absent: noRetry, log: []string{`"level":"warn"`, `"outcome":"bad_props"`, `"island":"latency"`}},
		{name: "truncated props are a 400 fragment", method: "GET", path: isl + good[:len(good)-5], status: 400, contains: badProps, absent: noRetry},
		{name: "props sealed with a foreign key are a 400", method: "GET", path: isl + sealWith(t, foreign[0], "island:latency", map[string]string{"ms": "1"}), status: 400, contains: badProps},
		{name: "props sealed for another island are a 400", method: "GET", path: isl + sealWith(t, key, "island:ticker", map[string]string{"ms": "1"}), status: 400, contains: badProps},
		{name: "garbage props are a 400", method: "GET", path: isl + "%00%ff<script>", status: 400, contains: badProps, absent: []string{"<script"}},
		{name: "sealed props that are not a map are a 400", method: "GET", path: isl + sealWith(t, key, "island:latency", []int{1, 2}), status: 400, contains: badProps},
		{name: "a poll interval under a second is a 400", method: "GET", path: "/_islands/server-info?page=%2F&every=1ms", status: 400, contains: badProps},
		{name: "an event name with a space is a 400", method: "GET", path: "/_islands/server-info?page=%2F&on=a+b", status: 400, contains: badProps},
		{name: "an island URL too long is a 414", method: "GET", path: "/_islands/server-info?page=%2F&x=" + strings.Repeat("a", 9000), status: 414,
			contains: []string{`role="alert"`}},
		{name: "a POST body over the limit is a 413", method: "POST", path: "/_islands/server-info?page=%2F", body: "p=" + strings.Repeat("a", 70<<10), status: 413,
			contains: []string{`role="alert"`}},
		{name: "props in a POST body open", method: "POST", path: "/_islands/latency?page=%2F", body: "p=" + good, status: 200,
			contains: []string{`data-field="n"`}},
		{name: "a PUT to an island is a 405 with Allow", method: "PUT", path: "/_islands/server-info", status: 405,
			header: map[string]string{"Allow": "GET, HEAD, POST"}, absent: []string{"<html"}},
		{name: "a DELETE to an island is a 405", method: "DELETE", path: "/_islands/user-greeting", status: 405,
			header: map[string]string{"Allow": "GET, HEAD, POST"}},
		{name: "an island whose handler errs is a 500 with Retry", method: "GET", path: "/_islands/fault-error?page=%2Ffaults", status: 500,
			contains: []string{`role="alert"`, `class="retry"`, `hx-get="/_islands/fault-error?page=%2Ffaults"`}, absent: []string{"on purpose"},
			log: []string{`"level":"error"`, `"island":"fault-error"`, `"outcome":"error"`, "on purpose"}},
		{name: "an island that panics is a 500 with Retry", method: "GET", path: "/_islands/fault-panic?page=%2Ffaults", status: 500,
			contains: []string{`role="alert"`, `class="retry"`}, absent: []string{"nil map", "runtime error"},
			log: []string{`"outcome":"panic"`, `"stack":`, "assignment to entry in nil map"}},
		{name: "an island past its deadline is a 504 with Retry", method: "GET", path: "/_islands/fault-timeout?page=%2Ffaults", status: 504,
			contains: []string{`role="alert"`, `class="retry"`}, log: []string{`"outcome":"timeout"`, `"island":"fault-timeout"`}},
		{name: "a tampered batch list is a 400", method: "GET", path: "/_islands?b=" + good, status: 400, contains: []string{`role="alert"`}},
		{name: "a missing batch list is a 400", method: "GET", path: "/_islands", status: 400, contains: []string{`role="alert"`}},
		{name: "an unknown page is a 404 page in the site layout", method: "GET", path: "/no/such/page", status: 404,
			header:   map[string]string{"Cache-Control": "no-store"},
			contains: []string{"<!doctype html>", "Page not found", "site-header"}},
		{name: "a POST to a page is a 405 with Allow", method: "POST", path: "/", status: 405,
			header: map[string]string{"Allow": "GET, HEAD"}, contains: []string{"Method Not Allowed"}},
		{name: "traversal out of the assets path is a 404", method: "GET", path: "/public/../../etc/passwd", status: 404,
			absent: []string{"root:"}},
		{name: "encoded traversal is a 404", method: "GET", path: "/public/..%2f..%2fgo.mod", status: 404,
			absent: []string{"module atoll"}},
		{name: "a dot-dot asset path is a 404", method: "GET", path: "/public/css/../../site.go", status: 404,
			absent: []string{"package atoll"}},
		{name: "a source file outside public is a 404", method: "GET", path: "/public/fragments/registry.go", status: 404},
		{name: "a trailing slash redirects to the page", method: "GET", path: "/about/", status: 301,
			header: map[string]string{"Location": "/about"}},
		{name: "a trailing slash redirect keeps the query", method: "GET", path: "/about/?ref=mail", status: 301,
			header: map[string]string{"Location": "/about?ref=mail"}},
		{name: "a cross-site POST to an action is a 403", method: "POST", path: "/actions/refresh", status: 403,
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}, absent: []string{"HX-Trigger"}},
		{name: "an unknown action is a 404", method: "POST", path: "/actions/nope", status: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.body != "" {
				hdr = append(hdr, "Content-Type", "application/x-www-form-urlencoded")
			}
			if v, ok := tc.header["Sec-Fetch-Site"]; ok {
				hdr = append(hdr, "Sec-Fetch-Site", v)
			}
			r := site.Do(t, tc.method, tc.path, strings.NewReader(tc.body), hdr...)
			if r.Status != tc.status {
				t.Fatalf("%s %.80s: status %d, want %d; body %.300q", tc.method, tc.path, r.Status, tc.status, r.Body)
			}
			for k, v := range tc.header {
				if k == "Sec-Fetch-Site" {
					continue
				}
				if got := r.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, s := range tc.contains {
				if !strings.Contains(r.Body, s) {
					t.Errorf("body lacks %q: %q", s, r.Body)
				}
			}
			for _, s := range append(tc.absent, "goroutine ", ".go:") {
				if strings.Contains(r.Body, s) {
					t.Errorf("body holds %q: %q", s, r.Body)
				}
			}
			if r.Header.Get("HX-Trigger") != "" && r.Status >= 400 {
				t.Errorf("a refused request still announced %q", r.Header.Get("HX-Trigger"))
			}
			if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("error response set a cookie: %q", sc)
			}
			if len(tc.log) > 0 {
				line := logLine(t, site, r.Header.Get("X-Request-ID"))
				for _, want := range tc.log {
					if !strings.Contains(line, want) {
						t.Errorf("log line lacks %s: %s", want, line)
					}
				}
			}
		})
	}
	if r := site.Get(t, "/"); r.Status != http.StatusOK {
		t.Fatalf("after the bad input the home page answers %d", r.Status)
	}
	if r := site.Island(t, "server-info"); r.Status != http.StatusOK {
		t.Fatalf("after the bad input an island answers %d", r.Status)
	}
}

// logLine returns the one log line of the request with the given id.
func logLine(t *testing.T, site *atolltest.Site, id string) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(site.Logs.String(), "\n") {
		if id != "" && strings.Contains(l, `"request_id":"`+id+`"`) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one log line for request %q, found %d", id, len(found))
	}
	return found[0]
}

func TestIslandAnswersTheSameWhateverTheHeaders(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	path := site.IslandURL(t, "latency", map[string]string{"n": "7", "ms": "0"})
	plain := site.Get(t, path)
	htmx := site.Get(t, path, "HX-Request", "true", "HX-Current-URL", "http://elsewhere.example/x", "Accept", "text/html, text/event-stream")
	for _, r := range []*atolltest.Response{plain, htmx} {
		atolltest.ExpectIsland(t, r, http.StatusOK)
		if !strings.Contains(r.Body, `<strong data-field="n">#7</strong>`) {
			t.Fatalf("body %q", r.Body)
		}
	}
	if plain.Header.Get("Content-Type") != htmx.Header.Get("Content-Type") {
		t.Fatalf("content types differ: %q and %q", plain.Header.Get("Content-Type"), htmx.Header.Get("Content-Type"))
	}
	u, _ := url.Parse(path)
	if q := u.Query(); len(q) != 2 || q.Get("p") == "" || q.Get("page") != "/" {
		t.Fatalf("props do not travel sealed, as p alone: %s", path)
	}
}
