package newsite

import (
	"bytes"
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNewSiteBuildsTestsAndServes generates a site from this checkout, as
// `go run ./cmd/atoll new` would, and treats it as its owner would: vet,
// its own tests, a build, then the built server started on a loopback
// port and asked for its home page and the island that page places.
func TestNewSiteBuildsTestsAndServes(t *testing.T) {
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

	goCmd(t, ctx, dir, "vet", "./...")
	goCmd(t, ctx, dir, "test", "-count=1", "./...")
	bin := filepath.Join(t.TempDir(), "server")
	goCmd(t, ctx, dir, "build", "-o", bin, "./cmd/server")

	key, err := exec.CommandContext(ctx, bin, "-genkey").Output()
	if err != nil {
		t.Fatalf("server -genkey: %v", err)
	}
	base := serve(t, bin, strings.TrimSpace(string(key)))
	page := get(t, base+"/")
	if !strings.Contains(page, `data-island="greeting"`) {
		t.Fatalf("the home page has no greeting island:\n%.1000s", page)
	}
	m := regexp.MustCompile(`data-island="greeting"[^>]*hx-get="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the greeting island has no URL:\n%.1000s", page)
	}
	if island := get(t, base+html.UnescapeString(m[1])); !strings.Contains(island, "Hello, Guest!") {
		t.Errorf("the greeting island = %q, want Hello, Guest!", island)
	}
}

// serve starts bin on a free loopback port with its database in a
// temporary directory, waits for /readyz and stops it when the test ends.
func serve(t *testing.T, bin, key string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command(bin, "-addr", addr)
	cmd.Env = append(os.Environ(), "ATOLL_KEYS="+key, "ATOLL_DB="+filepath.Join(t.TempDir(), "atoll.db"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the server's exit after SIGTERM: %v\n%s", err, log.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("the server did not stop within 20s of SIGTERM:\n%s", log.String())
		}
	})
	base := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r, err := client.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer /readyz within 30s:\n%s", log.String())
		}
		tick := time.NewTimer(20 * time.Millisecond)
		select {
		case err := <-exited:
			tick.Stop()
			exited <- err // for the cleanup
			t.Fatalf("the server exited as it started (%v):\n%s", err, log.String())
		case <-tick.C:
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	r, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d:\n%.1000s", url, r.StatusCode, body)
	}
	return string(body)
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
