//go:build !race

package tests

import (
	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/store"

	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/atollhq/atoll/atolltest"
)

// nginxFront starts nginx with testdata/nginx.conf.tmpl in front of the
// site and returns its base URL; nginx stops when the test ends. It fails,
// never skips, when nginx is not installed.
func nginxFront(t *testing.T, site *atolltest.Site) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nginx"); statErr != nil {
			t.Fatalf("nginx is not installed, and the caching test needs it: run `apt-get install -y nginx` (.ci/run does this): %v", err)
		}
		bin = "/usr/sbin/nginx"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	tmpl := template.Must(template.ParseFiles("testdata/nginx.conf.tmpl"))
	conf := filepath.Join(dir, "nginx.conf")
	f, err := os.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	err = tmpl.Execute(f, map[string]string{"Dir": dir, "Listen": listen, "Upstream": strings.TrimPrefix(site.URL, "http://")})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	out, _ := os.Create(filepath.Join(dir, "nginx.out"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	for range 500 { // wait for nginx to listen, bounded at about 5s
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			o, _ := os.ReadFile(filepath.Join(dir, "nginx.out"))
			t.Fatalf("nginx exited (%v):\n%s%s", err, o, log)
		default:
		}
		if c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond); err == nil {
			c.Close()
			return "http://" + listen
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("nginx did not listen within 5s")
	return ""
}

type proxied struct {
	status int
	header http.Header
	body   string
}

func via(t *testing.T, c *http.Client, method, u string, form url.Values, header ...string) proxied {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return proxied{res.StatusCode, res.Header, string(b)}
}

func TestCachingContractBehindNginx(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithLog(io.Discard))
	front := nginxFront(t, site)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}

	t.Run("pages become cache hits, per encoding", func(t *testing.T) {
		for _, enc := range []string{"", "br"} {
			first := via(t, client, "GET", front+"/about", nil, "Accept-Encoding", enc)
			second := via(t, client, "GET", front+"/about", nil, "Accept-Encoding", enc)
			if first.status != 200 || second.status != 200 || first.header.Get("X-Cache-Status") != "MISS" || second.header.Get("X-Cache-Status") != "HIT" {
				t.Fatalf("encoding %q: %d %s then %d %s, want MISS then HIT", enc, first.status, first.header.Get("X-Cache-Status"), second.status, second.header.Get("X-Cache-Status"))
			}
			if first.body != second.body || second.header.Get("Content-Encoding") != enc {
				t.Fatalf("encoding %q: the cached copy differs or has Content-Encoding %q", enc, second.header.Get("Content-Encoding"))
			}
		}
	})

	t.Run("islands, the batch stream and actions are never served from the cache", func(t *testing.T) {
		m := batchURL.FindStringSubmatch(via(t, client, "GET", front+"/many-batched", nil).body)
		batch := front + strings.ReplaceAll(m[1], "&amp;", "&")
		tokens := map[string]bool{}
		for range 3 {
			r := via(t, client, "GET", front+"/_islands/server-info?page=%2F", nil)
			if s := r.header.Get("X-Cache-Status"); s == "HIT" || s == "STALE" || r.status != 200 {
				t.Fatalf("island: %d, X-Cache-Status %s", r.status, s)
			}
			tokens[field(t, parse(t, r.body), "token")] = true
			if b := via(t, client, "GET", batch, nil); b.header.Get("X-Cache-Status") == "HIT" || b.header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("batch stream: X-Cache-Status %s, Content-Type %s", b.header.Get("X-Cache-Status"), b.header.Get("Content-Type"))
			}
			if a := via(t, client, "POST", front+"/actions/refresh", url.Values{}); a.header.Get("X-Cache-Status") == "HIT" || a.status != 204 {
				t.Fatalf("action: %d, X-Cache-Status %s", a.status, a.header.Get("X-Cache-Status"))
			}
		}
		if len(tokens) != 3 {
			t.Fatalf("three island fetches through the cache got %d distinct tokens", len(tokens))
		}
	})

	t.Run("two users interleaved never see each other's greeting or cart", func(t *testing.T) {
		users := shoppers(t, client, front)
		for i := range 300 {
			u := users[i%2]
			var r proxied
			switch i % 3 {
			case 0:
				r = via(t, client, "GET", front+"/_islands/user-greeting?page=%2F", nil, "Cookie", u.cookie)
				if got := strings.TrimSpace(text(parse(t, r.body))); got != "Hello, "+u.name+"!" {
					t.Fatalf("request %d: %s got %q", i, u.name, got)
				}
			case 1:
				r = via(t, client, "GET", front+"/_islands/cart-count?page=%2F", nil, "Cookie", u.cookie)
				if got := field(t, parse(t, r.body), "cart-count"); got != u.cart {
					t.Fatalf("request %d: %s's cart shows %s, want %s", i, u.name, got, u.cart)
				}
			case 2:
				r = via(t, client, "GET", front+"/products", nil, "Cookie", u.cookie)
				if page := text(parse(t, r.body)); strings.Contains(page, "Ada") || strings.Contains(page, "Bob") || r.header.Get("X-Cache-Status") == "MISS" && i > 2 {
					t.Fatalf("request %d: the products page is personal or was not cached (%s)", i, r.header.Get("X-Cache-Status"))
				}
			}
			if len(r.header.Values("Set-Cookie")) > 0 {
				t.Fatalf("request %d (%s) set a cookie: %q", i, u.name, r.header.Values("Set-Cookie"))
			}
		}
	})

	t.Run("no page response carries Set-Cookie, before or after sign-in", func(t *testing.T) {
		paths := []string{"/", "/about", "/products", "/faults", "/many", "/many-batched", "/regenerated", "/dashboard", "/nope"}
		check := func(cookie string) {
			for _, p := range paths {
				for range 2 { // a miss and then (for cacheable pages) a hit
					r := via(t, client, "GET", front+p, nil, "Cookie", cookie)
					if len(r.header.Values("Set-Cookie")) > 0 {
						t.Fatalf("%s (%s) set a cookie", p, r.header.Get("X-Cache-Status"))
					}
				}
			}
		}
		check("")
		c := setCookie(via(t, client, "POST", front+"/actions/sign-in", url.Values{"name": {"Cy"}}).header)
		check(store.SessionCookie + "=" + c)
	})
}

func setCookie(h http.Header) string {
	for _, line := range h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == store.SessionCookie {
			return c.Value
		}
	}
	return ""
}

// shopper is a visitor signed in through the front, with a cart of its own.
type shopper struct{ name, cart, cookie string }

// shoppers signs Ada and Bob in through front and puts two and three mugs
// in their carts.
func shoppers(t *testing.T, client *http.Client, front string) []*shopper {
	t.Helper()
	var users []*shopper
	for i, name := range []string{"Ada", "Bob"} {
		in := via(t, client, "POST", front+"/actions/sign-in", url.Values{"name": {name}})
		c := setCookie(in.header)
		if in.status != 200 || c == "" {
			t.Fatalf("sign-in through nginx: %d, cookie %q", in.status, c)
		}
		u := &shopper{name: name, cart: fmt.Sprint(i + 2), cookie: store.SessionCookie + "=" + c}
		if r := via(t, client, "POST", front+"/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {u.cart}}, "Cookie", u.cookie); r.status != 200 {
			t.Fatalf("add to cart through nginx: %d %q", r.status, r.body)
		}
		users = append(users, u)
	}
	return users
}
