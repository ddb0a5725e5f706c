package tests

import (
	"net/http"
	"strings"
	"testing"

	"atoll/atolltest"
)

// TestBadInput lists requests that must get a clear answer, and what must
// and must not come back.
func TestBadInput(t *testing.T) {
	site := atolltest.Start(t)
	cases := []struct {
		name     string
		method   string
		path     string
		status   int
		header   map[string]string
		contains []string
		absent   []string
	}{
		{name: "an unknown island is a 404 fragment", method: "GET", path: "/_islands/no-such-island", status: 404,
			header:   map[string]string{"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
			contains: []string{`role="alert"`, "does not exist"}, absent: []string{"<html", "no-such-island"}},
		{name: "an island name with markup is a 404 that echoes nothing", method: "GET", path: "/_islands/%3Cscript%3E", status: 404,
			absent: []string{"<script"}},
		{name: "a POST to an island is a 405 with Allow", method: "POST", path: "/_islands/server-info", status: 405,
			header: map[string]string{"Allow": "GET, HEAD"}, absent: []string{"<html"}},
		{name: "a DELETE to an island is a 405", method: "DELETE", path: "/_islands/user-greeting", status: 405,
			header: map[string]string{"Allow": "GET, HEAD"}},
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := site.Do(t, tc.method, tc.path, nil)
			if r.Status != tc.status {
				t.Fatalf("%s %s: status %d, want %d; body %q", tc.method, tc.path, r.Status, tc.status, r.Body)
			}
			for k, v := range tc.header {
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
			if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("error response set a cookie: %q", sc)
			}
		})
	}
	if r := site.Get(t, "/"); r.Status != http.StatusOK {
		t.Fatalf("after the bad input the home page answers %d", r.Status)
	}
}
