//go:build !race

package tests

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/server"
)

func TestStartupRefusesABrokenSite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		break_ func(fstest.MapFS)
		want   []string
	}{
		{"a page that places an unregistered island", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte(`<p>{{ island "no-such-island" }}</p>`)}
		}, []string{"pages/broken.html:1: ", `"no-such-island"`}},
		{"a template that does not parse", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("<p>\n{{ if }}</p>")}
		}, []string{"pages/broken.html:2: missing value for if"}},
		{"a page that links a missing asset", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte(`<link href="{{ asset "css/missing.css" }}">`)}
		}, []string{"pages/broken.html", "css/missing.css"}},
		{"a public file takes the engine's runtime's name", func(m fstest.MapFS) {
			m["public/atoll/runtime.js"] = &fstest.MapFile{Data: []byte("alert(1)")}
		}, []string{"public/atoll/runtime.js", "engine's own"}},
		{"a page that refreshes an island on an event nothing announces", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("<p>\n{{ island \"cart\" (on \"cart-update\") }}</p>")}
		}, []string{`pages/broken.html:2: island "cart": (on "cart-update"): no action announces event "cart-update"`,
			"announced: cart-updated, islands-refresh, session-changed", "Site.Events"}},
		{"a form that posts to an action the site does not serve", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("<h1>Broken</h1>\n<form method=\"post\" action=\"{{ url \"/actions/cart/ad\" }}\"></form>")}
		}, []string{`pages/broken.html:2: the page sends action "cart/ad" (/actions/cart/ad), which the site does not serve`,
			"actions: cart/add, cart/remove, refresh, sign-in, sign-out"}},
		{"an hx-post to an action the site does not serve, from a partial", func(m fstest.MapFS) {
			m["layouts/partials/broken.html"] = &fstest.MapFile{Data: []byte("<div>\n\n<button hx-post='/actions/refresh-all'>Refresh</button></div>")}
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte(`{{ template "layouts/partials/broken" . }}`)}
		}, []string{`layouts/partials/broken.html:3 (rendering pages/broken.html): the page sends action "refresh-all"`}},
		{"a quoted snippet no longer matches its source", func(m fstest.MapFS) {
			m["fragments/user_greeting.go"] = &fstest.MapFile{Data: []byte("package fragments\n")}
		}, []string{"fragments/user_greeting.go", "snippet"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := siteFiles(t)
			if _, err := server.New(server.Options{Config: testConfig(), Log: zerolog.Nop(), Store: testStore(t), Site: demoWith(files)}); err != nil {
				t.Fatalf("the unbroken copy does not start: %v", err)
			}
			tc.break_(files)
			_, err := server.New(server.Options{Config: testConfig(), Log: zerolog.Nop(), Store: testStore(t), Site: demoWith(files)})
			if err == nil {
				t.Fatal("the server started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

// TestStartupRefusesAPageThatMisplacesProps breaks a copy of the site with
// placements whose props do not match what the island declares, and wants
// the error to start with the file and line of the placement.
func TestStartupRefusesAPageThatMisplacesProps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		break_ func(fstest.MapFS)
		want   string
	}{
		{"a page that leaves out a required prop", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("<h1>Broken</h1>\n<div>\n  {{ island \"latency\" (props \"n\" 1) }}\n</div>\n")}
		}, `pages/broken.html:3: island "latency": missing required prop "ms"`},
		{"a page that places an island with no props at all", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("{{ island \"latency\" visible }}")}
		}, `pages/broken.html:1: island "latency": missing required prop "ms"`},
		{"a page that passes a prop the island does not take", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("<p>\n{{ island \"latency\" (props \"ms\" 5 \"colour\" \"red\") }}</p>")}
		}, `pages/broken.html:2: island "latency": prop "colour" is not declared: the island takes ms, n`},
		{"a page that passes props to an island that takes none", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("\n\n\n{{ island \"user-greeting\" (props \"name\" \"Ada\") }}")}
		}, `pages/broken.html:4: island "user-greeting": prop "name" is not declared: the island takes no props`},
		{"a page that passes a prop twice", func(m fstest.MapFS) {
			m["pages/broken.html"] = &fstest.MapFile{Data: []byte("{{ island \"latency\" (props \"ms\" 5 \"ms\" 6) }}")}
		}, `pages/broken.html:1: island "latency": prop "ms" given twice`},
		{"a partial that leaves out a required prop", func(m fstest.MapFS) {
			b := strings.Replace(string(m["layouts/partials/many.html"].Data), `(props "n" 4 "ms" 5)`, `(props "n" 4)`, 1)
			m["layouts/partials/many.html"] = &fstest.MapFile{Data: []byte(b)}
		}, `layouts/partials/many.html:5: island "latency": missing required prop "ms" (rendering pages/many`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := siteFiles(t)
			tc.break_(files)
			_, err := server.New(server.Options{Config: testConfig(), Log: zerolog.Nop(), Store: testStore(t), Site: demoWith(files)})
			if err == nil {
				t.Fatal("the server started")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %q\n want one starting %q", err, tc.want)
			}
		})
	}
}
