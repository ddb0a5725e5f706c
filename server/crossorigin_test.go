package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCrossSitePostsAreRefusedBeforeRouting: crossorigin.go answers 403
// to a POST a browser sent for another site, whatever the path, and lets
// same-origin posts and posts from outside a browser through to routing
// (here an unknown action: 404).
func TestCrossSitePostsAreRefusedBeforeRouting(t *testing.T) {
	t.Parallel()
	app := inProcess(t)
	cases := []struct {
		name   string
		header []string
		status int
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"Sec-Fetch-Site same-origin", []string{"Sec-Fetch-Site", "same-origin"}, 404},
		{"a foreign Origin from an older browser", []string{"Origin", "https://evil.example"}, 403},
		{"an unparsable Origin", []string{"Origin", "http://[::1"}, 403},
		{"the site's own Origin", []string{"Origin", "http://example.com"}, 404},
		{"no browser headers at all", nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/actions/nothing-here", nil)
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			if r := do(t, app, req); r.StatusCode != tc.status {
				t.Fatalf("POST with %v = %d %q, want %d", tc.header, r.StatusCode, r.Body, tc.status)
			}
		})
	}
}
