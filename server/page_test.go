package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPagesFollowTheCachingContract: page.go serves prerendered bytes with
// a long public Cache-Control and a strong ETag, answers a revalidation
// with 304, refuses other methods with 405 and Allow, and answers an
// unknown path with a 404 nobody caches.
func TestPagesFollowTheCachingContract(t *testing.T) {
	t.Parallel()
	app := inProcess(t)
	page := get(t, app, "/plain")
	etag := page.Header.Get("ETag")
	if page.StatusCode != 200 || !strings.Contains(page.Body, "No islands.") {
		t.Fatalf("GET /plain = %d %q", page.StatusCode, page.Body)
	}
	if cc := page.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control %q, want public with a max-age", cc)
	}
	if !strings.HasPrefix(etag, `"`) {
		t.Errorf("ETag %q, want a strong one", etag)
	}
	if page.Header.Get("Set-Cookie") != "" {
		t.Errorf("a static page sets a cookie: %q", page.Header.Get("Set-Cookie"))
	}
	cases := []struct {
		name, method, target string
		header               []string
		status               int
		want, notWant        string
	}{
		{"a revalidation with the ETag", http.MethodGet, "/plain", []string{"If-None-Match", etag}, 304, "", "No islands."},
		{"a revalidation with another ETag", http.MethodGet, "/plain", []string{"If-None-Match", `"other"`}, 200, "No islands.", ""},
		{"a HEAD", http.MethodHead, "/plain", nil, 200, "", "No islands."},
		{"a POST to a page", http.MethodPost, "/plain", nil, 405, "", "No islands."},
		{"an unknown page", http.MethodGet, "/no-such-page", nil, 404, "Not found", ""},
		{"a path out of the public files", http.MethodGet, "/public/../../etc/passwd", nil, 404, "", "root:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			r := do(t, app, req)
			if r.StatusCode != tc.status || !strings.Contains(r.Body, tc.want) || (tc.notWant != "" && strings.Contains(r.Body, tc.notWant)) {
				t.Fatalf("%s %s = %d %q, want %d with %q and without %q", tc.method, tc.target, r.StatusCode, r.Body, tc.status, tc.want, tc.notWant)
			}
			if tc.status == 405 && r.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q, want GET, HEAD", r.Header.Get("Allow"))
			}
			if tc.status == 404 && r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("a 404 with Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
			}
		})
	}
}
