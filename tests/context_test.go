package tests

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll/atolltest"
)

func TestIslandSeesItsPageAndDeclaredCookiesOnly(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, testSite())
	cases := []struct{ page, want string }{
		{"%2Fabout", "/about"},
		{"%2Fblog%2F..%2Fabout%3Fq%3D1", "/about"},
		{"https%3A%2F%2Fevil.example%2Fx", "/"},
		{"%2F%2Fevil.example", "/"},
		{"", "/"},
	}
	for _, tc := range cases {
		r := site.Get(t, "/_islands/test-context?page="+tc.page, "Cookie", "flavour=mint; secret=s3", "Referer", "http://127.0.0.1/other", "HX-Current-URL", "http://127.0.0.1/other")
		atolltest.ExpectIsland(t, r, 200)
		doc := parse(t, r.Body)
		if got := field(t, doc, "page"); got != tc.want {
			t.Errorf("page=%s: the island saw %q, want %q", tc.page, got, tc.want)
		}
		if got := field(t, doc, "cookie"); got != "mint" {
			t.Errorf("declared cookie: %q", got)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "private, max-age=60" || r.Header.Get("Vary") != "Accept-Encoding, Cookie" {
			t.Errorf("declared cache lifetime: Cache-Control %q, Vary %q; a private copy must vary by cookie", cc, r.Header.Get("Vary"))
		}
	}
	r := site.Get(t, "/_islands/test-undeclared-cookie?page=%2F", "Cookie", "secret=s3")
	atolltest.ExpectIsland(t, r, 500)
	if strings.Contains(r.Body, "s3") || !strings.Contains(r.Body, `role="alert"`) {
		t.Fatalf("an island reading an undeclared cookie: %q", r.Body)
	}
	if line := logLine(t, site, r.Header.Get("X-Request-ID")); !strings.Contains(line, "without listing it in Island.Cookies") {
		t.Fatalf("the log does not say why: %s", line)
	}
}
