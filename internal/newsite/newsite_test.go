package newsite

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestNewSiteFromACheckoutBuilds generates a site from this checkout, as
// `go run ./cmd/atoll new` would: its go.mod requires the checkout, go mod
// tidy fills go.sum, and it builds.
func TestNewSiteFromACheckoutBuilds(t *testing.T) {
	checkout, err := FindCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "my-site")
	var out bytes.Buffer
	o := Options{Dir: dir, Source: Source{Version: "v0.0.0", Replace: checkout}, Tidy: true}
	if err := Create(ctx, o, &out, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "cd "+dir+" && go run ./cmd/server") {
		t.Errorf("the next steps are missing: %q", out.String())
	}
	mod := readFile(t, dir, "go.mod")
	for _, want := range []string{"module example.com/my-site\n", "require github.com/atollhq/atoll v0.0.0\n", "replace github.com/atollhq/atoll => " + checkout + "\n"} {
		if !strings.Contains(mod, want) {
			t.Errorf("go.mod lacks %q:\n%s", want, mod)
		}
	}
	if sum := readFile(t, dir, "go.sum"); !strings.Contains(sum, "github.com/gofiber/fiber/v2 ") {
		t.Errorf("go mod tidy wrote no go.sum with Atoll's dependencies:\n%.500s", sum)
	}
	for _, name := range []string{"package.json", "Makefile", "public/vendor"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("the site has %s: it should need Go alone", name)
		}
	}
	if main := readFile(t, dir, "cmd/server/main.go"); !strings.Contains(main, "func main() { server.Main(mysite.Site()) }") {
		t.Errorf("cmd/server/main.go is not one line of logic:\n%s", main)
	}

	// The site builds against this checkout; that it vets, passes its
	// own tests and serves a page and an island is proved once, for the
	// published path, by TestGoInstallAndAtollNewWithGoAlone in tests/.
	goCmd(t, ctx, dir, "build", "./...")
}

func goCmd(t *testing.T, ctx context.Context, dir string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in the new site: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGenerateRefuses(t *testing.T) {
	t.Parallel()
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := Source{Version: "v1.0.0"}
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"a directory that holds files", Options{Dir: full, Source: src}, "is not empty"},
		{"no directory", Options{Source: src}, "need a directory"},
		{"a module path with a space", Options{Dir: filepath.Join(t.TempDir(), "x"), Module: "example.com/my site", Source: src}, "not a module path"},
		{"a module path with a leading slash", Options{Dir: filepath.Join(t.TempDir(), "x"), Module: "/x", Source: src}, "not a module path"},
		{"a directory name that is no module path", Options{Dir: filepath.Join(t.TempDir(), "my site"), Source: src}, "not a module path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Generate(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Generate = %v, want an error saying %q", err, tc.want)
			}
			if tc.o.Dir != "" && tc.o.Dir != full {
				if _, err := os.Stat(tc.o.Dir); err == nil {
					t.Errorf("a refused run made %s", tc.o.Dir)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Errorf("a refused run wrote into %s: %d entries", full, len(entries))
	}
}

func TestGenerateWritesAPublishedVersionWithoutReplace(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "shop")
	module, err := Generate(Options{Dir: dir, Source: Source{Version: "v1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	if module != "example.com/shop" {
		t.Errorf("module = %q, want example.com/shop from the directory's name", module)
	}
	mod := readFile(t, dir, "go.mod")
	want := "module example.com/shop\n\ngo " + GoVersion + "\n\nrequire github.com/atollhq/atoll v1.2.3\n\ntool github.com/atollhq/atoll/cmd/atoll\n"
	if mod != want {
		t.Errorf("go.mod =\n%s\nwant\n%s", mod, want)
	}
	for _, name := range []string{"site.go", "cmd/server/main.go", "pages/index.html", "pages/404.html", "layouts/main.html",
		"public/css/site.css", "fragments/greeting.go", "actions/sign_in.go", "tests/site_test.go", "README.md", ".gitignore"} {
		body := readFile(t, dir, name)
		if strings.Contains(body, "__") {
			t.Errorf("%s keeps a placeholder: %q", name, regexp.MustCompile(`__\w+__`).FindString(body))
		}
	}
	if layout := readFile(t, dir, "layouts/main.html"); !strings.Contains(layout, "{{ runtime }}") || strings.Contains(layout, "bundle.js") {
		t.Errorf("the layout does not place the runtime, or still inlines a bundle:\n%s", layout)
	}
	if ignore := readFile(t, dir, ".gitignore"); !strings.Contains(ignore, "/data/") {
		t.Errorf(".gitignore leaves data/ in: %q", ignore)
	}
}

func TestSourceFor(t *testing.T) {
	t.Parallel()
	checkout, err := FindCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	built := func(path, version string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Path: path, Version: version}}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	cases := []struct {
		name      string
		info      func() (*debug.BuildInfo, bool)
		replace   string
		dir       string
		want      Source
		wantError string
	}{
		{"a published version", built(Module, "v1.2.3"), "", outside, Source{Version: "v1.2.3"}, ""},
		{"go run in a checkout", built(Module, "(devel)"), "", ".", Source{Version: "v0.0.0", Replace: checkout}, ""},
		{"go build of an edited checkout", built(Module, "v0.0.0-20260101000000-abcdefabcdef+dirty"), "", ".", Source{Version: "v0.0.0", Replace: checkout}, ""},
		{"no build information", none, "", ".", Source{Version: "v0.0.0", Replace: checkout}, ""},
		{"another main module", built("example.com/other", "v9.0.0"), "", ".", Source{Version: "v0.0.0", Replace: checkout}, ""},
		{"-replace wins over a version", built(Module, "v1.2.3"), checkout, outside, Source{Version: "v0.0.0", Replace: checkout}, ""},
		{"go run outside a checkout", built(Module, "(devel)"), "", outside, Source{}, "pass -replace DIR"},
		{"-replace naming no checkout", built(Module, "(devel)"), outside, ".", Source{}, "-replace " + outside},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SourceFor(tc.info, tc.replace, tc.dir)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("SourceFor = %+v, %v; want an error saying %q", got, err, tc.wantError)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("SourceFor = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestPackageName(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"mysite":  "mysite",
		"my-site": "mysite",
		"MySite":  "mysite",
		"v2":      "v2",
		"2site":   "site",
		"---":     "site",
	}
	for in, want := range cases {
		if got := packageName(in); got != want {
			t.Errorf("packageName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGoModQuotesAPathWithASpace(t *testing.T) {
	t.Parallel()
	mod := string(goMod("example.com/x", Source{Version: "v0.0.0", Replace: "/home/me/my atoll"}))
	if !strings.Contains(mod, "replace github.com/atollhq/atoll => \"/home/me/my atoll\"\n") {
		t.Errorf("go.mod =\n%s", mod)
	}
	mod = string(goMod("example.com/x", Source{Version: "v0.0.0", Replace: "/src/atoll"}))
	if !strings.Contains(mod, "replace github.com/atollhq/atoll => /src/atoll\n") {
		t.Errorf("go.mod =\n%s", mod)
	}
}
