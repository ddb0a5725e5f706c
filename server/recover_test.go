package server_test

import (
	"strings"
	"testing"
)

// TestFailingIslandsAnswerWithAnErrorStateAndNoDetail: an island whose
// render returns an error, and one that panics (recover.go), answer 500
// with an error-state fragment and a Retry, without the error's text or
// a stack; the server keeps serving, and a healthy island beside them
// answers 200.
func TestFailingIslandsAnswerWithAnErrorStateAndNoDetail(t *testing.T) {
	t.Parallel()
	app := inProcess(t)
	urls := islandURLs(t, app)
	for _, name := range []string{"broken", "panics"} {
		r := get(t, app, urls[name])
		if r.StatusCode != 500 || !strings.Contains(r.Body, "island--error") || !strings.Contains(r.Body, "Retry") {
			t.Errorf("%s: %d %q, want 500 with an error state and a Retry", name, r.StatusCode, r.Body)
		}
		for _, leak := range []string{"secret", "goroutine", ".go:", "<html", "<!doctype"} {
			if strings.Contains(strings.ToLower(r.Body), leak) {
				t.Errorf("%s: the answer contains %q: %s", name, leak, r.Body)
			}
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, cc)
		}
	}
	if r := get(t, app, urls["clock"]); r.StatusCode != 200 || !strings.Contains(r.Body, `<p class="clock">12:00</p>`) || r.Header.Get("X-Robots-Tag") != "noindex" {
		t.Fatalf("the healthy island after the failures: %d %q, X-Robots-Tag %q", r.StatusCode, r.Body, r.Header.Get("X-Robots-Tag"))
	}
}
