package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

func TestServerInfoIsFreshOnEveryRequest(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	a := site.Island(t, "server-info")
	b := site.Island(t, "server-info")
	atolltest.ExpectIsland(t, a, http.StatusOK)
	atolltest.ExpectIsland(t, b, http.StatusOK)

	docA, docB := parse(t, a.Body), parse(t, b.Body)
	if ta, tb := field(t, docA, "token"), field(t, docB, "token"); ta == tb || !strings.HasPrefix(ta, "#") {
		t.Errorf("random tokens %q and %q: want two different #N,NNN values", ta, tb)
	}
	stamp := field(t, docA, "date") + " " + field(t, docA, "time")
	shown, err := time.Parse("2006-01-02 15:04:05 UTC", stamp)
	if err != nil {
		t.Fatalf("server date and time %q: %v", stamp, err)
	}
	if d := time.Since(shown); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("server time %s is %s away from now", stamp, d)
	}
}

func TestUserGreeting(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	ada, err := site.Store.SignIn(context.Background(), "Ada", "")
	if err != nil {
		t.Fatal(err)
	}
	evil, err := site.Store.SignIn(context.Background(), `<script>alert(1)</script>`, "")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		cookie string
		want   string
	}{
		{"no cookie greets a guest", "", "Hello, Guest!"},
		{"a known session greets its user", store.SessionCookie + "=" + ada.ID, "Hello, Ada!"},
		{"an unknown session greets a guest", store.SessionCookie + "=" + store.NewSessionID(), "Hello, Guest!"},
		{"a malformed session greets a guest", store.SessionCookie + "=s-nobody", "Hello, Guest!"},
		{"a name is escaped, never markup", store.SessionCookie + "=" + evil.ID, "Hello, <script>alert(1)</script>!"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.cookie != "" {
				header = []string{"Cookie", tc.cookie}
			}
			r := site.Island(t, "user-greeting", header...)
			atolltest.ExpectIsland(t, r, http.StatusOK)
			doc := parse(t, r.Body)
			if got := strings.TrimSpace(text(doc)); got != tc.want {
				t.Fatalf("greeting = %q, want %q", got, tc.want)
			}
			if n := findAll(doc, func(n *html.Node) bool { return n.Data == "script" }); len(n) > 0 {
				t.Fatalf("the greeting carries a script element: %q", r.Body)
			}
		})
	}
}

// islandProps are the props an island needs to render; the rest need none.
var islandProps = map[string]map[string]string{
	"latency": {"n": "1", "ms": "5"},
}

// failsOnPurpose are the /faults islands and the status each must answer.
var failsOnPurpose = map[string]int{"fault-error": 500, "fault-panic": 500, "fault-timeout": 504, "test-undeclared-cookie": 500}

// TestEveryRegisteredIslandRenders renders each island the tests' site
// serves, the demo's and the tests' own, and checks that its fragment's
// root carries no load trigger, which would make htmx fetch it again
// forever.
func TestEveryRegisteredIslandRenders(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, testSite())
	names := testIslands.Names()
	if len(names) < 2 || !slices.Contains(names, "server-info") || !slices.Contains(names, "test-gated") {
		t.Fatalf("the tests' set holds %v, want the demo islands and the tests'", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r := site.IslandWith(t, name, islandProps[name])
			if status, ok := failsOnPurpose[name]; ok {
				atolltest.ExpectIsland(t, r, status)
				if !strings.Contains(r.Body, `role="alert"`) || !strings.Contains(r.Body, `class="retry"`) {
					t.Fatalf("%s: want an error state with Retry, got %q", name, r.Body)
				}
				return
			}
			atolltest.ExpectIsland(t, r, http.StatusOK)
			frag, err := html.ParseFragment(strings.NewReader(r.Body), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
			if err != nil || len(frag) != 1 {
				t.Fatalf("want one root element, got %d (%v): %q", len(frag), err, r.Body)
			}
			root := frag[0]
			if v, _ := attr(root, "data-island"); v != name || !hasClass(root, "island") {
				t.Errorf("root element lacks class island and data-island=%q: %q", name, r.Body)
			}
			if trig, _ := attr(root, "hx-trigger"); strings.Contains(trig, "load") {
				t.Errorf("root element carries hx-trigger=%q: htmx would loop", trig)
			}
			if _, busy := attr(root, "aria-busy"); busy {
				t.Errorf("a rendered island still says aria-busy")
			}
		})
	}
}

func TestIslandRendersAreLogged(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	r := site.Island(t, "server-info")
	id := r.Header.Get("X-Request-ID")
	if len(id) != 36 {
		t.Fatalf("X-Request-ID = %q, want a uuid", id)
	}
	var line string
	for _, l := range strings.Split(site.Logs.String(), "\n") {
		if strings.Contains(l, id) {
			line = l
		}
	}
	for _, want := range []string{`"island":"server-info"`, `"render":`, `"status":200`, `"method":"GET"`, `"path":"/_islands/server-info"`, `"latency":`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line for request %s lacks %s: %s", id, want, line)
		}
	}
}
