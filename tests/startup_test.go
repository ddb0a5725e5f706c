package tests

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/server"
)

// siteFiles copies the repository's site files into memory so a test can
// break one of them.
func siteFiles(t testing.TB) fstest.MapFS {
	t.Helper()
	root := os.DirFS("..")
	m := fstest.MapFS{}
	for _, dir := range []string{"pages", "layouts", "public", "fragments"} {
		err := fs.WalkDir(root, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(root, p)
			m[p] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}

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
