//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/server"
	"github.com/atollhq/atoll/tests/internal/cluster"
)

// edgeFront starts nginx on the configuration `atoll nginx` prints
// (internal/nginxconf) in front of site, and stops it when the test ends.
// It fails, never skips, when nginx is not installed.
func edgeFront(t *testing.T, site *atolltest.Site) *cluster.Nginx {
	t.Helper()
	bin, err := cluster.NginxPath()
	if err != nil {
		t.Fatalf("the edge tests need nginx: %v", err)
	}
	listen, err := cluster.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	n, err := cluster.StartNginx(bin, t.TempDir(), listen, []string{strings.TrimPrefix(site.URL, "http://")})
	if err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx error.log:\n%s", lastBytes(n.ErrorLog(), 4<<10))
		}
		_ = n.Stop()
	})
	return n
}

// trustLoopback makes the site believe proxy headers from 127.0.0.1 only,
// where nginx connects from.
func trustLoopback(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} }

// stitched checks what every page that left the edge with its islands
// filled in must be: whole, personal, with no instruction or marker of
// the edge left in it and no island still to fetch.
func stitched(t *testing.T, what string, r proxied) *html.Node {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("%s: %d", what, r.status)
	}
	if cc := r.header.Get("Cache-Control"); cc != "private, no-store" {
		t.Fatalf("%s: Cache-Control %q, want private, no-store: a shared cache in front could keep one visitor's islands for another", what, cc)
	}
	for _, h := range []string{"ETag", "Last-Modified", server.StitchedHeader, "Set-Cookie"} {
		if v := r.header.Get(h); v != "" {
			t.Fatalf("%s: %s %q left the edge", what, h, v)
		}
	}
	for _, bad := range []string{"<!--#", "<!--atoll:", "/_edge/", `id="islands-batch"`, `rel="preload" as="fetch"`} {
		if strings.Contains(r.body, bad) {
			t.Fatalf("%s: the page still holds %q", what, bad)
		}
	}
	doc := parse(t, r.body)
	if p := waiting(doc); len(p) > 0 {
		t.Fatalf("%s: %d islands left to fetch", what, len(p))
	}
	return doc
}

// TestEdgeFillsIslandsIntoTheCachedShell runs nginx on the configuration
// `atoll nginx` prints in front of the demo: the page's shell is cached,
// every response carries the visitor's own islands, filled in by SSI.
func TestEdgeFillsIslandsIntoTheCachedShell(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithLog(io.Discard), atolltest.WithConfig(trustLoopback))
	front := edgeFront(t, site).URL
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}

	t.Run("the shell is cached and every response fills in fresh islands", func(t *testing.T) {
		first := via(t, client, "GET", front+"/compare", nil)
		second := via(t, client, "GET", front+"/compare", nil)
		if first.header.Get("X-Cache-Status") != "MISS" || second.header.Get("X-Cache-Status") != "HIT" {
			t.Fatalf("shell: %s then %s, want MISS then HIT", first.header.Get("X-Cache-Status"), second.header.Get("X-Cache-Status"))
		}
		a, b := tokens(stitched(t, "first", first)), tokens(stitched(t, "second", second))
		if len(a) != 10 || len(b) != 10 {
			t.Fatalf("%d and %d server-info islands filled in, want 10 each", len(a), len(b))
		}
		for i := range a {
			if a[i] == b[i] {
				t.Fatalf("island %d has the same token in two responses: it was cached", i+1)
			}
		}
		gz := via(t, client, "GET", front+"/compare", nil, "Accept-Encoding", "gzip")
		if gz.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("stitched page with Accept-Encoding gzip: Content-Encoding %q", gz.header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(strings.NewReader(gz.body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		gz.body = string(plain)
		if n := len(tokens(stitched(t, "gzipped", gz))); n != 10 {
			t.Fatalf("gzipped: %d islands filled in", n)
		}
	})

	t.Run("two visitors with different cookies never see each other's islands", func(t *testing.T) {
		users := shoppers(t, client, front)
		users = append(users, &shopper{name: "", cart: "0"}) // a visitor without a cookie
		hits := 0
		for i := range 90 {
			u := users[i%3]
			var r proxied
			if u.cookie == "" {
				r = via(t, client, "GET", front+"/", nil)
			} else {
				r = via(t, client, "GET", front+"/", nil, "Cookie", u.cookie)
			}
			if r.header.Get("X-Cache-Status") == "HIT" {
				hits++
			}
			doc := stitched(t, fmt.Sprintf("request %d (%q)", i, u.name), r)
			greeting := findAll(doc, func(n *html.Node) bool { return hasClass(n, "greeting") })
			if len(greeting) != 1 {
				t.Fatalf("request %d: %d greetings in the page", i, len(greeting))
			}
			got := strings.TrimSpace(text(greeting[0]))
			if u.name != "" && got != "Hello, "+u.name+"!" || u.name == "" && (strings.Contains(got, "Ada") || strings.Contains(got, "Bob")) {
				t.Fatalf("request %d: %q's page greets %q", i, u.name, got)
			}
			if c := field(t, doc, "cart-count"); c != u.cart {
				t.Fatalf("request %d: %q's cart shows %s, want %s", i, u.name, c, u.cart)
			}
		}
		if hits < 85 {
			t.Fatalf("%d of 90 pages came from the cached shell, want all but the first few", hits)
		}
	})

	t.Run("a failing island leaves its error state and the page whole", func(t *testing.T) {
		doc := stitched(t, "/faults", via(t, client, "GET", front+"/faults", nil))
		alerts := findAll(doc, func(n *html.Node) bool { return hasClass(n, "island--error") })
		if len(alerts) != 3 {
			t.Fatalf("%d error states, want 3 (error, panic, timeout)", len(alerts))
		}
		for _, a := range alerts {
			if len(findAll(a, func(n *html.Node) bool { return hasClass(n, "retry") })) != 1 {
				t.Fatalf("an error state without its Retry: %s", text(a))
			}
		}
		if len(tokens(doc)) != 1 {
			t.Fatal("the healthy island beside the failing ones is missing")
		}
	})

	t.Run("the shell goes out before a slow island has rendered", func(t *testing.T) {
		// /many-batched places islands that take up to 380 ms.
		req, _ := http.NewRequestWithContext(context.Background(), "GET", front+"/many-batched", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(zr)
		var head strings.Builder
		for !strings.Contains(head.String(), "</head>") {
			line, err := br.ReadString('\n')
			head.WriteString(line)
			if err != nil {
				t.Fatalf("the page ended before </head>: %v", err)
			}
		}
		atHead := time.Since(start)
		rest, err := io.ReadAll(br)
		if err != nil {
			t.Fatal(err)
		}
		atEnd := time.Since(start)
		if atEnd-atHead < 200*time.Millisecond || !strings.Contains(string(rest), "</html>") {
			t.Fatalf("the head arrived after %s and the page after %s: the shell waited for its islands", atHead, atEnd)
		}
	})

	t.Run("when no replica answers, each island shows its error state", func(t *testing.T) {
		via(t, client, "GET", front+"/about", nil) // the shell is cached
		site.Stop()
		r := via(t, client, "GET", front+"/about", nil)
		doc := stitched(t, "/about, no replica", r)
		if r.header.Get("X-Cache-Status") != "HIT" {
			t.Fatalf("X-Cache-Status %s, want the cached shell", r.header.Get("X-Cache-Status"))
		}
		alerts := findAll(doc, func(n *html.Node) bool { return hasClass(n, "island--error") })
		if len(alerts) == 0 || strings.Contains(strings.ToLower(r.body), "bad gateway") {
			t.Fatalf("%d error states, and nginx's own error page in the body: %v", len(alerts), strings.Contains(strings.ToLower(r.body), "bad gateway"))
		}
	})
}

// TestEdgeShellRevalidatesAsThePageDoes: once the shell's max-age has
// passed, nginx asks with its ETag and the replica answers 304.
func TestEdgeShellRevalidatesAsThePageDoes(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithLog(io.Discard), atolltest.WithConfig(func(c *config.Config) {
		trustLoopback(c)
		c.PageMaxAge = time.Second
	}))
	front := edgeFront(t, site).URL
	client := &http.Client{Timeout: 10 * time.Second}
	if r := via(t, client, "GET", front+"/about", nil); r.header.Get("X-Cache-Status") != "MISS" {
		t.Fatalf("first: %s", r.header.Get("X-Cache-Status"))
	}
	direct := site.Get(t, "/about", server.EdgeHeader, server.EdgeSSI)
	etag := direct.Header.Get("ETag")
	if r := site.Get(t, "/about", server.EdgeHeader, server.EdgeSSI, "If-None-Match", etag); r.Status != 304 {
		t.Fatalf("the shell's ETag %s: %d, want 304", etag, r.Status)
	}
	var last proxied
	eventually(t, 10*time.Second, "nginx to revalidate the shell", func() bool {
		last = via(t, client, "GET", front+"/about", nil)
		return last.header.Get("X-Cache-Status") == "REVALIDATED"
	})
	stitched(t, "revalidated", last)
}

// TestEdgeHeaderIsBelievedFromTrustedProxiesOnly: a request that forges the
// edge's header straight to Atoll gets the ordinary page.
func TestEdgeHeaderIsBelievedFromTrustedProxiesOnly(t *testing.T) {
	t.Parallel()
	trusting := atolltest.Start(t, atoll.Demo(), atolltest.WithLog(io.Discard), atolltest.WithConfig(trustLoopback))
	plain := atolltest.Start(t, atoll.Demo(), atolltest.WithLog(io.Discard))
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true}}
	}
	cases := []struct {
		name   string
		site   *atolltest.Site
		client *http.Client
		shell  bool
	}{
		{"a trusted proxy gets the shell", trusting, from("127.0.0.1"), true},
		{"another address gets the ordinary page", trusting, from("127.0.0.2"), false},
		{"a site that trusts no proxy serves the ordinary page", plain, from("127.0.0.1"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/", "/compare", "/regenerated"} {
				ordinary := via(t, tc.client, "GET", tc.site.URL+path, nil)
				forged := via(t, tc.client, "GET", tc.site.URL+path, nil, server.EdgeHeader, server.EdgeSSI)
				for _, r := range []proxied{ordinary, forged} {
					if !strings.Contains(r.header.Get("Vary"), server.EdgeHeader) {
						t.Fatalf("%s: Vary %q does not name %s", path, r.header.Get("Vary"), server.EdgeHeader)
					}
				}
				isShell := strings.Contains(forged.body, `<!--# include virtual="/_edge/_islands/`)
				if isShell != tc.shell {
					t.Fatalf("%s: shell %v, want %v", path, isShell, tc.shell)
				}
				if !tc.shell && (forged.body != ordinary.body || forged.header.Get("ETag") != ordinary.header.Get("ETag") || forged.header.Get(server.StitchedHeader) != "") {
					t.Fatalf("%s: the forged request got another page than the ordinary one", path)
				}
				if tc.shell && (forged.header.Get("ETag") == ordinary.header.Get("ETag") || forged.header.Get("Content-Encoding") != "") {
					t.Fatalf("%s: the shell shares the page's ETag or is compressed (%q)", path, forged.header.Get("Content-Encoding"))
				}
				if strings.Contains(ordinary.body, "<!--#") || len(waiting(parse(t, ordinary.body))) == 0 {
					t.Fatalf("%s: the ordinary page changed", path)
				}
			}
		})
	}
}
