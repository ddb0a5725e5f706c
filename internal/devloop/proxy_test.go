package devloop

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/devtab"
)

// proxied is a Dev whose proxy runs on a test server, with no site server
// behind it until one is swapped in.
func proxied(t *testing.T) (*Dev, *httptest.Server) {
	t.Helper()
	d := &Dev{root: t.TempDir(), Out: io.Discard, Err: io.Discard, hub: newHub()}
	srv := httptest.NewServer(d)
	t.Cleanup(func() { d.hub.close(); srv.Close() })
	return d, srv
}

// backendAt makes a process that sends requests to a test server
// answering with body.
func backendAt(t *testing.T, d *Dev, body string) *process {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body+" "+r.Header.Get(VersionHeader))
	}))
	t.Cleanup(site.Close)
	u, _ := url.Parse(site.URL)
	p := &process{addr: u.Host, exited: make(chan struct{})}
	p.tr = &http.Transport{}
	p.proxy = newProxy(d, p, u)
	return p
}

func TestProxySendsEachRequestToTheCurrentServer(t *testing.T) {
	t.Parallel()
	d, srv := proxied(t)
	get := func() (int, string) {
		r, err := http.Get(srv.URL + "/about")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if status, body := get(); status != http.StatusServiceUnavailable || !strings.Contains(body, `src="/_atoll/dev.js"`) || !strings.Contains(body, `data-version="`+d.hub.current()+`"`) {
		t.Fatalf("with no server: %d %s, want 503 and the dev script at the current version", status, body)
	}
	d.swap(backendAt(t, d, "first"))
	if _, body := get(); !strings.HasPrefix(body, "first "+d.hub.current()) {
		t.Fatalf("got %q, want the first server's answer, told the version", body)
	}
	d.swap(backendAt(t, d, "second"))
	if _, body := get(); !strings.HasPrefix(body, "second ") {
		t.Fatalf("after the switch: %q, want the second server's answer", body)
	}
}

func TestEventStreamSaysHelloThenEachChange(t *testing.T) {
	t.Parallel()
	d, srv := proxied(t)
	d.hub.problem(&devtab.Problem{Kind: devtab.KindBuild, Message: "undefined: x"})
	r, err := http.Get(srv.URL + "/_atoll/dev/events")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if ct := r.Header.Get("Content-Type"); ct != "text/event-stream" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Content-Type %q, Cache-Control %q", ct, r.Header.Get("Cache-Control"))
	}
	lines := make(chan string, 64)
	go func() {
		s := bufio.NewScanner(r.Body)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q within 5s", prefix)
			}
		}
	}
	next("retry: 200")
	next("event: hello")
	if l := next("data: "); !strings.Contains(l, `"message":"undefined: x"`) {
		t.Errorf("hello does not carry the problem: %s", l)
	}
	d.hub.style("css/site.css")
	next("event: style")
	if l := next("data: "); !strings.Contains(l, `"file":"css/site.css"`) {
		t.Errorf("style: %s", l)
	}
	d.hub.problem(nil)
	next("event: problem")
	if l := next("data: "); l != "data: null" {
		t.Errorf("a cleared problem: %s", l)
	}
	d.hub.reload()
	next("event: reload")
	if l := next("data: "); !strings.Contains(l, d.hub.current()) {
		t.Errorf("reload does not carry the version %s: %s", d.hub.current(), l)
	}
}
