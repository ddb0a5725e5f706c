//go:build !race

package tests

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAtollDevServesANewSite runs atoll dev on a site that atoll new wrote
// (requiring this checkout through a replace line): its pages carry the
// dev script, a page edit is served at once without a Go build, the
// stylesheet the tabs swap in is the file as it is on disk, the
// terminal shows page views rather than a request log, and a Go edit in
// an island is a quick build.
func TestAtollDevServesANewSite(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(t.TempDir(), "mysite")
	newSite := exec.Command("go", "run", "./cmd/atoll", "new", site, "-module", "example.com/mysite", "-replace", root)
	newSite.Dir = root
	if out, err := newSite.CombinedOutput(); err != nil {
		t.Fatalf("atoll new: %v\n%s", err, out)
	}
	dev := startDevToolIn(t, root, site)
	home := dev.out.waitFor(t, devServing, 5*time.Minute)[1]

	get := func(path string) (int, string) {
		t.Helper()
		r, err := http.Get(strings.TrimSuffix(home, "/") + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	status, body := get("/")
	if status != 200 || !strings.Contains(body, `src="/_atoll/dev.js"`) || !regexp.MustCompile(`data-atoll-asset="css/[^"]+\.css"`).MatchString(body) {
		t.Fatalf("the new site's home page in dev: %d, want the dev script and its stylesheet marked:\n%s", status, body)
	}

	builds := dev.out.count(devBuilding)
	devEdit(t, site, "pages/index.html", "</h1>", " in dev</h1>")
	dev.out.waitFor(t, regexp.MustCompile(`pages/index\.html changed: reloading the tabs`), 10*time.Second)
	if _, body := get("/"); !strings.Contains(body, " in dev</h1>") {
		t.Errorf("the page edit is not served at once:\n%s", body)
	}
	css, err := filepath.Glob(filepath.Join(site, "public/css/*.css"))
	if err != nil || len(css) == 0 {
		t.Fatalf("the new site has no stylesheet: %v", err)
	}
	name := strings.TrimPrefix(filepath.ToSlash(css[0]), filepath.ToSlash(site)+"/public/")
	devEdit(t, site, "public/"+name, "", "\n.dev-edit-marker { color: rebeccapurple; }\n")
	dev.out.waitFor(t, regexp.MustCompile(`public/`+regexp.QuoteMeta(name)+` changed: swapped in place`), 10*time.Second)
	if status, body := get("/_atoll/dev/style/" + name); status != 200 || !strings.Contains(body, "dev-edit-marker") {
		t.Errorf("the stylesheet to swap in: %d %q", status, body)
	}
	if n := dev.out.count(devBuilding); n != builds {
		t.Errorf("a page and a stylesheet edit started %d Go builds, want none", n-builds)
	}
	if n := dev.out.count(devPageView); n != 2 {
		t.Errorf("two page views wrote %d page view lines:\n%s", n, strings.Join(dev.out.all(), "\n"))
	}

	// A Go edit inside the site's island is a quick build: the compiler
	// and the linker run without the go command, and only the island's
	// package compiles (the site's root package embeds the edited page,
	// which dev mode reads from disk).
	devEdit(t, site, "fragments/greeting.go", `<p class="greeting">Hello, `, `<p class="greeting">Hi there, `)
	switched := dev.out.waitFor(t, devServing, 2*time.Minute)
	if !strings.Contains(switched[3], "quick: compiled fragments)") {
		t.Errorf("the Go edit's build: %s, want a quick build that compiled fragments alone", switched[3])
	}
	if _, body := get("/"); !strings.Contains(body, `<p class="greeting">Hi there, `) {
		t.Errorf("the island's edited fallback is not on the page after the switch:\n%s", body)
	}
	dev.stop(t)
}

// startDevToolIn is startDevTool for a site other than this checkout:
// the tool is built from atoll and run in site.
func startDevToolIn(t *testing.T, atoll, site string) *devTool {
	t.Helper()
	if _, err := os.Stat(filepath.Join(site, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return startDevToolFrom(t, atoll, site)
}
