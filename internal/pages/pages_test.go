package pages

import (
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	cases := []struct {
		name, file, body string
		want             Source
		err              string
	}{
		{"index is the root", "pages/index.html", "<p>x</p>", Source{Route: "/", File: "pages/index.html", Title: "Atoll", Layout: "main"}, ""},
		{"a file is its own route", "pages/about.html", "", Source{Route: "/about", File: "pages/about.html", Title: "Atoll", Layout: "main"}, ""},
		{"folders nest", "pages/blog/first-post.html", "", Source{Route: "/blog/first-post", File: "pages/blog/first-post.html", Title: "Atoll", Layout: "main"}, ""},
		{"a folder index is the folder", "pages/blog/index.html", "", Source{Route: "/blog", File: "pages/blog/index.html", Title: "Atoll", Layout: "main"}, ""},
		{"front matter sets the title and layout", "pages/x.html", "{{/*\ntitle: Hello · Atoll\nlayout: none\n*/}}\n<p>x</p>",
			Source{Route: "/x", File: "pages/x.html", Title: "Hello · Atoll"}, ""},
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
