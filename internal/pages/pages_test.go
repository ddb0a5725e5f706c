package pages

import (
	"errors"
	"html/template"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestParseSource(t *testing.T) {
	cases := []struct {
		name, file, body string
		want             Source
		err              string
	}{
		{"index is the root", "pages/index.html", "<p>x</p>", Source{Route: "/", File: "pages/index.html", Title: "Atoll", Layout: "main", Mode: Static, Batch: true, Edge: "position"}, ""},
		{"a file is its own route", "pages/about.html", "", Source{Route: "/about", File: "pages/about.html", Title: "Atoll", Layout: "main", Mode: Static, Batch: true, Edge: "position"}, ""},
		{"folders nest", "pages/blog/first-post.html", "", Source{Route: "/blog/first-post", File: "pages/blog/first-post.html", Title: "Atoll", Layout: "main", Mode: Static, Batch: true, Edge: "position"}, ""},
		{"a folder index is the folder", "pages/blog/index.html", "", Source{Route: "/blog", File: "pages/blog/index.html", Title: "Atoll", Layout: "main", Mode: Static, Batch: true, Edge: "position"}, ""},
		{"front matter sets the title and layout", "pages/x.html", "{{/*\ntitle: Hello · Atoll\nlayout: none\n*/}}\n<p>x</p>",
			Source{Route: "/x", File: "pages/x.html", Title: "Hello · Atoll", layoutSet: true, Mode: Static, Batch: true, Edge: "position"}, ""},
		{"render ssr", "pages/d.html", "{{/*\nrender: ssr\n*/}}", Source{Route: "/d", File: "pages/d.html", Title: "Atoll", Layout: "main", Mode: SSR, Batch: true, Edge: "position"}, ""},
		{"render every 30s with batched islands", "pages/i.html", "{{/*\nrender: 30s\nislands: batch\n*/}}",
			Source{Route: "/i", File: "pages/i.html", Title: "Atoll", Layout: "main", Mode: Revalidate, Every: 30 * time.Second, Batch: true, Edge: "position"}, ""},
		{"islands load separately when the page says so", "pages/s.html", "{{/*\nislands: separate\n*/}}",
			Source{Route: "/s", File: "pages/s.html", Title: "Atoll", Layout: "main", Mode: Static, Edge: "position"}, ""},
		{"islands go at the end of the body when the page says so", "pages/e.html", "{{/*\nedge: end\n*/}}",
			Source{Route: "/e", File: "pages/e.html", Title: "Atoll", Layout: "main", Mode: Static, Batch: true, Edge: "end"}, ""},
		{"an unknown edge placement is refused", "pages/f.html", "{{/*\nedge: middle\n*/}}", Source{}, "pages/f.html: edge"},
		{"a render interval under a second is refused", "pages/r.html", "{{/*\nrender: 10ms\n*/}}", Source{}, "pages/r.html: render"},
		{"an unknown islands mode is refused", "pages/b.html", "{{/*\nislands: some\n*/}}", Source{}, "pages/b.html: islands"},
		{"an unknown key names the file", "pages/y.html", "{{/*\ncolour: blue\n*/}}", Source{}, `pages/y.html: unknown front matter key "colour"`},
		{"unclosed front matter names the file", "pages/z.html", "{{/*\ntitle: x\n", Source{}, "pages/z.html: front matter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSource(tc.file, []byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestErrorsNameFileAndLine wants a page that fails to parse or to render
// to stop the build with an error that starts with the file and line at
// fault, as a compiler's does, and keeps only the failing function's own
// message.
func TestErrorsNameFileAndLine(t *testing.T) {
	base := fstest.MapFS{
		"pages/404.html":          {Data: []byte("<p>not found</p>")},
		"layouts/main.html":       {Data: []byte("<main>\n{{ embed }}\n</main>")},
		"layouts/partials/x.html": {Data: []byte("<ul>\n  <li>{{ fail }}</li>\n</ul>")},
	}
	cases := []struct {
		name, page, want string
	}{
		{"a function that fails", "<h1>x</h1>\n<p>\n  {{ fail }}\n</p>", "pages/a.html:3: it broke"},
		{"a function that fails in a partial", `{{ template "layouts/partials/x" . }}`, "layouts/partials/x.html:2: it broke (rendering pages/a.html)"},
		{"a field the data lacks", "\n{{ .Nope }}", "pages/a.html:2: at <.Nope>: can't evaluate field Nope in type pages.Data"},
		{"a template that does not parse", "<p>\n{{ if }}</p>", "pages: parse templates: pages/a.html:2: missing value for if"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := fstest.MapFS{"pages/a.html": {Data: []byte(tc.page)}}
			for k, v := range base {
				files[k] = v
			}
			r := Renderer{FS: files, Funcs: func(Source) (template.FuncMap, Finish) {
				return template.FuncMap{"fail": func() (string, error) { return "", errors.New("it broke") }}, nil
			}}
			_, err := r.Build()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Build() error = %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestRenderParsesItsPageAlone wants a render after startup (dev mode, a
// regenerated or per-request page) to read the layouts and its own page
// only: another page that does not parse leaves it rendering.
func TestRenderParsesItsPageAlone(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"layouts/main.html": {Data: []byte("<main>{{ embed }}</main>")},
		"pages/a.html":      {Data: []byte("<p>{{ .Path }}</p>")},
		"pages/b.html":      {Data: []byte("<p>{{ if }}</p>")},
	}
	r := Renderer{FS: files}
	if _, err := r.Build(); err == nil || !strings.Contains(err.Error(), "pages/b.html:1") {
		t.Fatalf("Build() error = %v, want the page that does not parse", err)
	}
	p, ok, err := r.Render("/a")
	if err != nil || !ok || string(p.Body) != "<main><p>/a</p></main>" {
		t.Fatalf("Render(/a) = %v, %v, %v", p, ok, err)
	}
	if _, ok, err := r.Render("/b"); !ok || err == nil {
		t.Fatalf("Render(/b) = %v, %v, want the parse error", ok, err)
	}
}

// TestConcurrentRendersShareNothing renders one page with a layout from
// many goroutines at once, each with its own counting function, as
// per-request pages are: under -race this fails if the renders share
// template state, and each must count its own islands from one.
func TestConcurrentRendersShareNothing(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"layouts/main.html":       {Data: []byte("<main>{{ next }}{{ embed }}{{ template \"layouts/partials/f\" . }}</main>")},
		"layouts/partials/f.html": {Data: []byte("<footer>{{ next }}</footer>")},
		"pages/a.html":            {Data: []byte("{{/*\nrender: ssr\n*/}}<p>{{ next }} {{ next }}</p>")},
	}
	r := Renderer{FS: files, Funcs: func(Source) (template.FuncMap, Finish) {
		n := 0
		return template.FuncMap{"next": func() int { n++; return n }}, nil
	}}
	const want = "<main>1<p>2 3</p><footer>4</footer></main>"
	errs := make(chan error, 16)
	for range cap(errs) {
		go func() {
			p, _, err := r.Render("/a")
			if err == nil && string(p.Body) != want {
				err = errors.New("body " + string(p.Body) + ", want " + want)
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
