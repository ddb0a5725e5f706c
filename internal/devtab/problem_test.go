package devtab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func site(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"fragments/clock.go":      "package fragments\n\nfunc a() {}\n\nfunc broken() { return 1 }\n\nfunc b() {}\n",
		"pages/about.html":        "<h1>About</h1>\n<p>{{ .NoSuchField.Deeper }}</p>\n",
		"fragments/greeting.html": "<p>\n{{ .Name </p>\n",
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestParseBuild(t *testing.T) {
	t.Parallel()
	root := site(t)
	out := "# example.com/site/fragments\n" +
		"fragments/clock.go:5:24: too many return values\n" +
		"\thave (number)\n" +
		"./fragments/clock.go:7:1: missing return\n"
	p := ParseBuild(root, out)
	if p.Kind != KindBuild || p.File != "fragments/clock.go" || p.Line != 5 || p.Column != 24 || p.Message != "too many return values" {
		t.Fatalf("ParseBuild = %+v", p)
	}
	if len(p.Frame) != 7 || p.Frame[0].N != 2 || p.Frame[3].Text != "func broken() { return 1 }" {
		t.Errorf("frame = %+v, want lines 2 to 8 with line 5 in the middle", p.Frame)
	}
	if len(p.More) != 1 || p.More[0] != "fragments/clock.go:7:1: missing return" {
		t.Errorf("more = %q", p.More)
	}

	odd := ParseBuild(root, "go: updates to go.mod needed\n")
	if odd.File != "" || odd.Frame != nil || !strings.Contains(odd.Message, "go.mod needed") {
		t.Errorf("a build error without a place: %+v", odd)
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	root := site(t)
	cases := []struct {
		name, message, file string
		line, column        int
	}{
		{"a template error", `pages/about.html:2:12: executing "pages/about" at <.NoSuchField.Deeper>: can't evaluate field NoSuchField`, "pages/about.html", 2, 12},
		{"a panic's stack trace names the file by its absolute path",
			"panic: boom\n\ngoroutine 1 [running]:\nruntime/debug.Stack()\n\t/usr/lib/go/src/runtime/debug/stack.go:26 +0x5e\nexample.com/site/fragments.init.0()\n\t" +
				filepath.Join(root, "fragments/clock.go") + ":3 +0x25\n", "fragments/clock.go", 3, 0},
		{"a template error names the template it called last", `pages/about.html:2: error calling island: island "greeting": fragments/greeting.html:2: unclosed action`, "fragments/greeting.html", 2, 0},
		{"a file that is not the site's is passed over", "elsewhere/x.go:3: nope, then pages/about.html:1: here", "pages/about.html", 1, 0},
		{"no place at all", "listen tcp: address in use", "", 0, 0},
	}
	for _, tc := range cases {
		kind := KindStartup
		if strings.HasPrefix(tc.name, "a template") {
			kind = KindTemplate
		}
		p := Locate(root, kind, "t", tc.message)
		if p.File != tc.file || p.Line != tc.line || p.Column != tc.column {
			t.Errorf("%s: Locate = %s:%d:%d, want %s:%d:%d", tc.name, p.File, p.Line, p.Column, tc.file, tc.line, tc.column)
		}
		if tc.file != "" && len(p.Frame) == 0 {
			t.Errorf("%s: no frame", tc.name)
		}
	}
}
