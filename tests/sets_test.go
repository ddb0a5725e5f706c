//go:build !race

package tests

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/server"
)

// letterSite is a one-page site serving one island and one action, both
// named after letter: island letter, placed on the home page refreshed by
// the event letter-done, which action letter/do announces; the page's
// form posts to that action.
func letterSite(letter string) server.Site {
	islands, actions := island.NewSet(), action.NewSet()
	islands.Register(island.Island{
		Name:     letter,
		Template: `<p class="letter">{{.}}</p>`,
		Render:   func(*island.Request) (any, error) { return "island " + letter, nil },
	})
	actions.Register(action.Action{
		Name:      letter + "/do",
		Announces: []string{letter + "-done"},
		Handle:    func(*action.Request) (template.HTML, error) { return action.OK("did " + letter), nil },
	})
	files := fstest.MapFS{
		"layouts/main.html":       {Data: []byte(`<!doctype html><title>{{.Title}}</title>{{embed}}`)},
		"pages/404.html":          {Data: []byte(`<h1>Not found</h1>`)},
		"public/vendor/bundle.js": {Data: []byte(`// the islands' runtime is not needed here`)},
		"pages/index.html": {Data: []byte(`<h1>` + letter + `</h1>
{{ island "` + letter + `" (on "` + letter + `-done") }}
<form method="post" hx-post="{{ url "/actions/` + letter + `/do" }}"><button>Do</button></form>
`)},
	}
	return server.Site{Files: files, Islands: islands, Actions: actions}
}

// TestTwoSitesInOneProcessServeTheirOwnIslandsAndActions starts two sites
// side by side, each carrying its own sets, and wants each to serve its
// own island and action and 404 the other's and the demo's, which the
// process has registered in the default sets.
func TestTwoSitesInOneProcessServeTheirOwnIslandsAndActions(t *testing.T) {
	t.Parallel()
	if len(island.Names()) == 0 || len(action.Names()) == 0 {
		t.Fatal("the demo's islands and actions are not in the default sets; the test would prove nothing")
	}
	sites := map[string]*atolltest.Site{
		"alpha": atolltest.Start(t, letterSite("alpha")),
		"beta":  atolltest.Start(t, letterSite("beta")),
	}
	for letter, site := range sites {
		other := "beta"
		if letter == "beta" {
			other = "alpha"
		}
		t.Run(letter, func(t *testing.T) {
			r := site.Island(t, letter)
			atolltest.ExpectIsland(t, r, http.StatusOK)
			if !strings.Contains(r.Body, "island "+letter) {
				t.Fatalf("island %s: %q", letter, r.Body)
			}
			for _, name := range []string{other, "server-info"} {
				if r := site.Island(t, name); r.Status != http.StatusNotFound {
					t.Errorf("island %s, which the site does not carry: %d, want 404; body %q", name, r.Status, r.Body)
				}
			}

			r = site.Post(t, "/actions/"+letter+"/do", url.Values{})
			if r.Status != http.StatusOK || !strings.Contains(r.Body, "did "+letter) || r.Header.Get("HX-Trigger") != letter+"-done" {
				t.Fatalf("action %s/do: %d, HX-Trigger %q, body %q", letter, r.Status, r.Header.Get("HX-Trigger"), r.Body)
			}
			for _, name := range []string{other + "/do", "sign-in"} {
				if r := site.Post(t, "/actions/"+name, url.Values{"name": {"Ada"}}); r.Status != http.StatusNotFound {
					t.Errorf("action %s, which the site does not carry: %d, want 404; body %q", name, r.Status, r.Body)
				}
			}

			listening := ""
			for _, l := range strings.Split(site.Logs.String(), "\n") {
				if strings.Contains(l, `"message":"listening"`) {
					listening = l
				}
			}
			if !strings.Contains(listening, `"islands":["`+letter+`"]`) || !strings.Contains(listening, `"actions":["`+letter+`/do"]`) {
				t.Errorf("the listening line does not list exactly the site's islands and actions: %s", listening)
			}
		})
	}
}

// TestSiteEventsAnnounceEventsOutsideActions places an island refreshed
// by an event no action announces: startup stops until the site lists
// the event in Site.Events.
func TestSiteEventsAnnounceEventsOutsideActions(t *testing.T) {
	t.Parallel()
	site := letterSite("gamma")
	site.Files.(fstest.MapFS)["pages/client.html"] = &fstest.MapFile{Data: []byte(`{{ island "gamma" (on "clock-tick") }}`)}
	_, err := server.New(server.Options{Config: testConfig(), Log: zerolog.Nop(), Store: testStore(t), Site: site})
	if err == nil || !strings.Contains(err.Error(), `pages/client.html:1: island "gamma": (on "clock-tick"): no action announces event "clock-tick"`) ||
		!strings.Contains(err.Error(), "(announced: gamma-done)") {
		t.Fatalf("startup error %v, want one naming the page, the island and the event, and what is announced", err)
	}
	site.Events = []string{"clock-tick"}
	if _, err := server.New(server.Options{Config: testConfig(), Log: zerolog.Nop(), Store: testStore(t), Site: site}); err != nil {
		t.Fatalf("with the event in Site.Events: %v", err)
	}
}

// TestStartupChecksActionsUnderTheBasePath serves the demo under /shop:
// a form posting to /shop/actions/NAME is checked, one posting to a path
// outside the site is not.
func TestStartupChecksActionsUnderTheBasePath(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.BasePath = "/shop"
	cases := []struct {
		name, page string
		want       string // "" when the site starts
	}{
		{"an action of the site under the base path", `<form action="{{ url "/actions/sign-in" }}" method="post"></form>`, ""},
		{"an action the site does not serve under the base path", "<p>\n<form action=\"{{ url \"/actions/sign-up\" }}\" method=\"post\"></form>",
			`pages/broken.html:2: the page sends action "sign-up" (/shop/actions/sign-up)`},
		{"a path outside the site", `<form action="/other/actions/sign-up" method="post"></form>`, ""},
		{"an action with a query", `<button hx-post="/shop/actions/refresh?from=button">Go</button>`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := siteFiles(t)
			files["pages/broken.html"] = &fstest.MapFile{Data: []byte(tc.page)}
			_, err := server.New(server.Options{Config: cfg, Log: zerolog.Nop(), Store: testStore(t), Site: demoWith(files)})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("the server did not start: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("startup error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
