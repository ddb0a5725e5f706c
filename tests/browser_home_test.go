//go:build !race

package tests

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

// TestHomePageTellsTheWholeStory checks the home page carries the points
// of the original demo: islands need a server, they combine with
// regeneration (linked), and step 3 shows the greeting island whole, its
// registration, its template and the render function that reads the
// session cookie and falls back to Guest, quoted from the real files.
func TestHomePageTellsTheWholeStory(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	body := site.Get(t, "/").Body
	for _, want := range []string{
		"Islands need a server", `href="/regenerated"`, "render: 10s",
		"island.Register(island.Island{", `TemplateFile: &#34;user_greeting.html&#34;`,
		`&lt;p class=&#34;greeting&#34;&gt;Hello,`,
		"func renderGreeting(r *island.Request) (any, error) {", "r.Cookie(store.SessionCookie)", `greeting{Name: &#34;Guest&#34;}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the home page lacks %q", want)
		}
	}
	// The greeting and the account island do not both say the name.
	ada, err := site.Store.SignIn(t.Context(), "Ada", "")
	if err != nil {
		t.Fatal(err)
	}
	cookie := []string{"Cookie", store.SessionCookie + "=" + ada.ID}
	text := site.Island(t, "user-greeting", cookie...).Body + site.Island(t, "account", cookie...).Body
	if n := strings.Count(stripTags(text), "Ada"); n != 1 {
		t.Errorf("signed in, the greeting and account islands name Ada %d times, want once: %s", n, text)
	}
}

// stripTags drops markup, attributes included, leaving the text a
// visitor reads.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
