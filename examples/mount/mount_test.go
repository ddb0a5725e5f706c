package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/html"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

// site is the running app and a client for it.
type site struct {
	base   string
	client *http.Client
}

// start serves the app main serves, on a fresh loopback port, with a
// database in the test's directory, and stops it when the test ends.
func start(t *testing.T) *site {
	t.Helper()
	cfg, err := loadConfig(func(name string) (string, bool) {
		if name == "ATOLL_DB" {
			return filepath.Join(t.TempDir(), "atoll.db"), true
		}
		return "", false
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	app, err := newApp(cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln, 5*time.Second) }()
	s := &site{
		base: "http://" + ln.Addr().String(),
		client: &http.Client{
			Timeout:       10 * time.Second,
			Transport:     &http.Transport{DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	t.Cleanup(func() {
		s.client.CloseIdleConnections()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// fetch sends one request; header holds name, value pairs.
func (s *site) fetch(t *testing.T, method, path string, body io.Reader, header ...string) *atolltest.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return &atolltest.Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// The parent runs helmet, which sets most of the security headers Atoll
// sets, with other values: the parent's responses carry helmet's, the
// shop's carry Atoll's, each once.
var (
	parentHeaders = map[string]string{"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer", "Content-Security-Policy": ""}
	shopHeaders   = map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin"}
)

// expectHeaders checks that each header in want is sent once with its
// value, or not at all when the value is empty.
func expectHeaders(t *testing.T, what string, r *atolltest.Response, want map[string]string) {
	t.Helper()
	for name, v := range want {
		got := r.Header.Values(name)
		if v == "" && len(got) > 0 || v != "" && (len(got) != 1 || got[0] != v) {
			t.Errorf("%s: %s = %q, want %q", what, name, got, v)
		}
	}
}

// TestMount starts the app once (the demo renders and compresses every
// page at start, which takes seconds under the race detector) and checks
// both sides of the mount.
func TestMount(t *testing.T) {
	s := start(t)
	t.Run("the parent's routes are the parent's", func(t *testing.T) { parentRoutes(t, s) })
	t.Run("the shop is served under /shop", func(t *testing.T) { shopPages(t, s) })
	t.Run("the shop's actions set cookies scoped to /shop/", func(t *testing.T) { shopActions(t, s) })
}

func parentRoutes(t *testing.T, s *site) {
	cases := []struct {
		name, path string
		status     int
		body       string
	}{
		{"the parent's home page answers", "/", http.StatusOK, "The parent app"},
		{"the parent's API answers", "/api/hello", http.StatusOK, `{"hello":"world"}`},
		{"a path that only starts like the base path is the parent's 404", "/shopping", http.StatusNotFound, "Cannot GET /shopping"},
		{"a base path in another case is the parent's 404", "/SHOP/", http.StatusNotFound, "Cannot GET /SHOP/"},
		{"the site's health check is not mounted", "/livez", http.StatusNotFound, "Cannot GET /livez"},
		{"the site's metrics are not mounted", "/metrics", http.StatusNotFound, "Cannot GET /metrics"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.fetch(t, http.MethodGet, tc.path, nil)
			if r.Status != tc.status || !strings.Contains(r.Body, tc.body) {
				t.Fatalf("GET %s = %d %.200q, want %d with %q", tc.path, r.Status, r.Body, tc.status, tc.body)
			}
			expectHeaders(t, "GET "+tc.path, r, parentHeaders)
		})
	}
	var hello map[string]string
	if r := s.fetch(t, http.MethodGet, "/api/hello", nil); json.Unmarshal([]byte(r.Body), &hello) != nil || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/api/hello = %q, %q, want JSON", r.Header.Get("Content-Type"), r.Body)
	}
}

func shopPages(t *testing.T, s *site) {
	page := s.fetch(t, http.MethodGet, "/shop/", nil)
	atolltest.ExpectPage(t, page, 24*time.Hour)
	expectHeaders(t, "GET /shop/", page, shopHeaders)
	if csp := page.Header.Values("Content-Security-Policy"); len(csp) != 1 || !strings.Contains(csp[0], "script-src 'self'") {
		t.Errorf("GET /shop/: Content-Security-Policy = %q, want Atoll's, once", csp)
	}
	if etag := page.Header.Get("ETag"); s.fetch(t, http.MethodGet, "/shop/", nil, "If-None-Match", etag).Status != http.StatusNotModified {
		t.Errorf("GET /shop/ with If-None-Match %s is not 304", etag)
	}

	r := s.fetch(t, http.MethodGet, islandURL(t, page.Body), nil, "HX-Request", "true")
	atolltest.ExpectIsland(t, r, http.StatusOK)
	expectHeaders(t, "an island", r, shopHeaders)

	r = s.fetch(t, http.MethodGet, "/shop/no-such-page", nil)
	if r.Status != http.StatusNotFound || !strings.Contains(r.Body, "site-header") || r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /shop/no-such-page = %d %.200q, want the shop's own 404 page", r.Status, r.Body)
	}
}

func shopActions(t *testing.T, s *site) {
	form := url.Values{"name": {"Ada"}}.Encode()
	r := s.fetch(t, http.MethodPost, "/shop/actions/sign-in", strings.NewReader(form),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin", "HX-Request", "true")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Welcome, Ada.") {
		t.Fatalf("sign-in = %d %q, want 200 and a welcome", r.Status, r.Body)
	}
	var session *http.Cookie
	for _, line := range r.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == store.SessionCookie {
			session = c
		}
	}
	if session == nil || session.Value == "" || session.Path != "/shop/" || !session.HttpOnly {
		t.Fatalf("sign-in Set-Cookie = %q, want an HttpOnly session cookie with Path=/shop/", r.Header.Values("Set-Cookie"))
	}

	r = s.fetch(t, http.MethodPost, "/shop/actions/sign-in", strings.NewReader(form),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
	if r.Status != http.StatusForbidden || len(r.Header.Values("Set-Cookie")) > 0 {
		t.Errorf("a cross-site sign-in = %d with Set-Cookie %q, want 403 and no cookie", r.Status, r.Header.Values("Set-Cookie"))
	}
}

// islandURL returns the first island URL a placeholder on the page
// fetches (an hx-get under /shop/_islands/).
func islandURL(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		for _, a := range n.Attr {
			if a.Key == "hx-get" && strings.HasPrefix(a.Val, "/shop/_islands/") {
				return a.Val
			}
		}
	}
	t.Fatal("the shop's home page has no hx-get under /shop/_islands/")
	return ""
}
