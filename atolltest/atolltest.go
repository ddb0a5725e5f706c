// Package atolltest starts a real Atoll site on 127.0.0.1:0 for HTTP
// integration tests, through server.App as cmd/server does, and checks
// responses against the caching contract.
//
//	func TestGreetingIsland(t *testing.T) {
//		site := atolltest.Start(t, atoll.Demo()) // or your site's server.Site
//		r := site.Island(t, "user-greeting")
//		atolltest.ExpectIsland(t, r, http.StatusOK)
//		if !strings.Contains(r.Body, "Guest") {
//			t.Fatalf("greeting = %q", r.Body)
//		}
//	}
package atolltest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/islands"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/server"
	"github.com/atollhq/atoll/store"
)

// TB is the part of testing.TB the package uses: a *testing.T or
// *testing.B is one.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Site is a running server and a client for it.
type Site struct {
	// URL is the base URL, such as http://127.0.0.1:41234.
	URL string
	// Config is the configuration the server was started with.
	Config config.Config
	// Store is the server's store: a real SQLite file in the test's
	// temporary directory unless WithDB names another.
	Store store.Store
	// MetricsURL is the metrics listener's base URL when the config set
	// MetricsAddr (such as "127.0.0.1:0"), else empty.
	MetricsURL string
	// Services are what the site's Open made, for tests that look at the
	// site's own state.
	Services any
	// Logs holds everything the server logged, one JSON object a line.
	Logs *Logs
	// Server is the running server.
	Server   *server.Server
	app      *server.App
	client   *http.Client
	stopOnce sync.Once
	t        TB
}

// Option changes the app before it starts.
type Option func(*server.App)

// WithConfig edits the configuration, which starts as config.Default
// with a fresh key, a loopback address and a database in the test's
// temporary directory.
func WithConfig(edit func(*config.Config)) Option {
	return func(a *server.App) { edit(&a.Config) }
}

// WithFiles serves pages, layouts and public files from fsys instead of
// the site's own, for tests of pages that exist only in the test.
func WithFiles(fsys fs.FS) Option {
	return func(a *server.App) { a.Site.Files = fsys }
}

// WithLog sends the server's log to w instead of Site.Logs, for runs
// that log more than a test should keep in memory.
func WithLog(w io.Writer) Option {
	return func(a *server.App) { a.Log = zerolog.New(w) }
}

// WithDB uses the SQLite file at path, so a test can restart the site on
// the same state.
func WithDB(path string) Option {
	return func(a *server.App) { a.Config.DB = path }
}

// WithClock pins the server's clock.
func WithClock(now func() time.Time) Option {
	return func(a *server.App) { a.Now = now }
}

// Start starts site exactly as cmd/server starts the demo (server.App),
// serves it on a fresh loopback port and stops it when the test ends. It
// fails the test if the server refuses to start.
func Start(t TB, site server.Site, opts ...Option) *Site {
	t.Helper()
	logs := &Logs{}
	app := &server.App{Config: config.Default(), Log: zerolog.New(logs), Now: time.Now, Site: site}
	app.Config.Addr = "127.0.0.1:0"
	app.Config.Keys, _ = seal.ParseKeys(seal.GenerateKey())
	app.Config.DB = filepath.Join(t.TempDir(), "atoll.db")
	for _, opt := range opts {
		opt(app)
	}
	if err := app.Start(); err != nil {
		t.Fatalf("atolltest: server refused to start: %v", err)
	}
	s := &Site{
		URL:      "http://" + app.Addr,
		Config:   app.Config,
		Store:    app.Store,
		Services: app.Server.Services(),
		Logs:     logs,
		Server:   app.Server,
		app:      app,
		t:        t,
		client: &http.Client{
			Timeout: 15 * time.Second,
			// No transparent gzip: tests see exactly the bytes and headers sent.
			Transport:     &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if app.MetricsAddr != "" {
		s.MetricsURL = "http://" + app.MetricsAddr
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down and closes its store, as at the end of the
// test; later calls do nothing. Tests of what a visitor sees when the server goes away use it.
func (s *Site) Stop() {
	s.stopOnce.Do(func() {
		s.client.CloseIdleConnections()
		// fasthttp counts a connection that never sent a request (a
		// browser's preconnect) as idle only after 5s, so allow more.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.app.Stop(ctx); err != nil {
			s.t.Errorf("atolltest: %v", err)
		}
	})
}

// Response is a fetched response with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request. header holds name, value pairs.
func (s *Site) Do(t TB, method, path string, body io.Reader, header ...string) *Response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatalf("atolltest: %s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("atolltest: %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("atolltest: %s %s: read body: %v", method, path, err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// Post sends form values to path as a same-origin browser form would
// (Sec-Fetch-Site: same-origin). header holds more name, value pairs.
func (s *Site) Post(t TB, path string, form url.Values, header ...string) *Response {
	t.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin", "HX-Request", "true"}, header...)
	return s.Do(t, http.MethodPost, path, strings.NewReader(form.Encode()), h...)
}

// Get fetches path. header holds name, value pairs.
func (s *Site) Get(t TB, path string, header ...string) *Response {
	t.Helper()
	return s.Do(t, http.MethodGet, path, nil, header...)
}

// Island fetches the named island the way its placeholder on the home
// page does. header holds name, value pairs, such as "Cookie",
// "atoll_session=…".
func (s *Site) Island(t TB, name string, header ...string) *Response {
	t.Helper()
	return s.IslandWith(t, name, nil, header...)
}

// IslandWith fetches the named island with props, sealed with the site's
// key as a page would seal them.
func (s *Site) IslandWith(t TB, name string, props map[string]string, header ...string) *Response {
	t.Helper()
	return s.Get(t, s.IslandURL(t, name, props), append([]string{"HX-Request", "true"}, header...)...)
}

// IslandURL is the path a placeholder on the home page would fetch for
// the named island with props (nil for none).
func (s *Site) IslandURL(t TB, name string, props map[string]string) string {
	t.Helper()
	u := s.Config.BasePath + islands.Path + "/" + name + "?page=%2F"
	if props != nil {
		keys, err := seal.New(s.Config.Keys...)
		if err != nil {
			t.Fatalf("atolltest: %v", err)
		}
		b, _ := json.Marshal(props)
		u += "&p=" + keys.Seal("island:"+name, b)
	}
	return u
}

// Client is the HTTP client the helpers use; it does not follow redirects.
func (s *Site) Client() *http.Client { return s.client }

// ExpectPage checks a static page against the caching contract: 200,
// HTML, "public, max-age" of at least the configured page max-age, a
// strong ETag and no Set-Cookie.
func ExpectPage(t TB, r *Response, minMaxAge time.Duration) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200", r.Status)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", ct)
	}
	cc := r.Header.Get("Cache-Control")
	if !strings.HasPrefix(cc, "public, max-age=") {
		t.Errorf("Cache-Control = %q, want public, max-age=N", cc)
	} else if n, err := strconv.Atoi(strings.TrimPrefix(cc, "public, max-age=")); err != nil || time.Duration(n)*time.Second < minMaxAge {
		t.Errorf("Cache-Control = %q, want a max-age of at least %d", cc, int(minMaxAge.Seconds()))
	}
	if et := r.Header.Get("ETag"); !strings.HasPrefix(et, `"`) || !strings.HasSuffix(et, `"`) || len(et) < 10 {
		t.Errorf("ETag = %q, want a strong ETag", et)
	}
	if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("a cacheable page set a cookie: %q", sc)
	}
}

// ExpectIsland checks an island response: the given status, a
// Cache-Control no shared cache may keep ("no-store", or "private, …" for
// an island that declares it), "noindex", a Server-Timing entry and a
// fragment with no document or layout around it.
func ExpectIsland(t TB, r *Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %q", r.Status, status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" && !strings.HasPrefix(cc, "private, ") {
		t.Errorf("Cache-Control = %q, want no-store or private", cc)
	}
	if xr := r.Header.Get("X-Robots-Tag"); xr != "noindex" {
		t.Errorf("X-Robots-Tag = %q, want noindex", xr)
	}
	if st := r.Header.Get("Server-Timing"); status == http.StatusOK && !strings.HasPrefix(st, "render;dur=") {
		t.Errorf("Server-Timing = %q, want render;dur=…", st)
	}
	low := strings.ToLower(r.Body)
	for _, bad := range []string{"<!doctype", "<html", "<head", "<body", "site-header", "site-footer"} {
		if strings.Contains(low, bad) {
			t.Errorf("island body holds %q, want a bare fragment: %q", bad, r.Body)
		}
	}
}

// Requests counts the requests the server logged whose path starts with
// prefix; a prefix ending in "$" must match the whole path.
func (s *Site) Requests(prefix string) int {
	want := `"path":"` + prefix
	if strings.HasSuffix(prefix, "$") {
		want = `"path":"` + strings.TrimSuffix(prefix, "$") + `"`
	}
	n := 0
	for _, l := range strings.Split(s.Logs.String(), "\n") {
		if strings.Contains(l, `"message":"request"`) && strings.Contains(l, want) {
			n++
		}
	}
	return n
}

// Renders counts, by island name, the island renders the server logged:
// one per island request that reached its handler's render and one per
// island a batch stream rendered (renders cancelled because the visitor
// left are not counted).
func (s *Site) Renders() map[string]int {
	n := map[string]int{}
	for _, l := range strings.Split(s.Logs.String(), "\n") {
		var e struct {
			Message string          `json:"message"`
			Island  string          `json:"island"`
			Outcome string          `json:"outcome"`
			Render  json.RawMessage `json:"render"`
		}
		if l == "" || json.Unmarshal([]byte(l), &e) != nil || e.Island == "" {
			continue
		}
		switch {
		case e.Message == "batch island" && e.Outcome != string(islands.OutcomeCanceled):
			n[e.Island]++
		case e.Message == "request" && e.Render != nil:
			n[e.Island]++
		}
	}
	return n
}

// Clock is a clock a test moves by hand; pass its Now to WithClock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Logs collects the server's log lines. It is safe for concurrent use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
