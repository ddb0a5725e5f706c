package server_test

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll/server"
)

// TestEveryResponseCarriesTheSecurityHeaders: headers.go's headers are on
// pages, islands, errors and 404s alike, and the CSP allows scripts only
// from the site and by hash, never 'unsafe-inline'.
func TestEveryResponseCarriesTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := inProcess(t)
	urls := islandURLs(t, app)
	for _, target := range []string{"/", "/plain", "/no-such-page", urls["clock"], urls["broken"]} {
		r := get(t, app, target)
		for _, h := range server.SecurityHeaders() {
			if got := r.Header.Get(h[0]); got != h[1] {
				t.Errorf("%s: %s = %q, want %q", target, h[0], got, h[1])
			}
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", target, csp)
		}
	}
	if len(server.SecurityHeaders()) == 0 {
		t.Fatal("no security headers to check")
	}
}

// TestContentSecurityPolicyListsItsHashes: each hash is allowed for its
// own kind of element only.
func TestContentSecurityPolicyListsItsHashes(t *testing.T) {
	t.Parallel()
	csp := server.ContentSecurityPolicy([]string{"'sha256-script'"}, []string{"'sha256-style'"})
	for _, want := range []string{"script-src 'self' 'sha256-script';", "style-src 'self' 'sha256-style';", "object-src 'none'", "base-uri 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src 'self' 'sha256-style'") {
		t.Errorf("a style hash allows scripts: %q", csp)
	}
}
