//go:build !race

package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"

	"github.com/atollhq/atoll/internal/seal"
)

// atollModule is the engine's module path.
const atollModule = "github.com/atollhq/atoll"

// TestGoInstallAndAtollNewWithGoAlone is what a Go developer does with a
// published Atoll, on a machine with Go and nothing else: the tree is
// served as a pre-release version from a file:// module proxy, node, npm
// and make are taken off PATH, and then
//
//   - go install …/cmd/server@V serves the demo from an empty directory;
//   - go run …/cmd/atoll@V new writes a site that passes its own tests,
//     builds, and serves a page and an island.
//
// Every step is a real go command against the real module zip.
func TestGoInstallAndAtollNewWithGoAlone(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// A version of the module's content: the module cache is shared with
	// the rest of the build (so dependencies are compiled once), the same
	// tree is the same version (so a second run at one commit finds the
	// engine compiled), and the version leaves the cache after the test.
	files := moduleFiles(t, root)
	version := contentVersion(t, files)
	proxy := filepath.Join(tmp, "proxy")
	publish(t, root, proxy, version, files)
	t.Cleanup(func() { forgetVersion(t, version) })

	env := goAloneEnv(t, tmp, proxy)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
		}
		t.Logf("%s %s: %s", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		return string(out)
	}

	// go install the demo's server and serve it from an empty directory.
	gobin := filepath.Join(tmp, "gobin")
	empty := filepath.Join(tmp, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	// -pgo=off: cmd/server's profile changes how fast the server runs, not
	// what it does, and with it every dependency would be compiled a third
	// time (besides plain and under the race detector) in a cold run.
	run(empty, "go", "install", "-pgo=off", atollModule+"/cmd/server@"+version)
	demo := exec.Command(filepath.Join(gobin, "server"))
	demo.Dir = empty
	demo.Env = append(env, "ATOLL_KEYS="+seal.GenerateKey(), "ATOLL_ADDR=127.0.0.1:0", "ATOLL_DRAIN_DELAY=0s")
	expectPageAndIsland(t, demo, "/")
	if _, err := os.Stat(filepath.Join(empty, "data", "atoll.db")); err != nil {
		t.Errorf("the installed demo kept no database in its working directory: %v", err)
	}

	// go run …/cmd/atoll@V new: a site that tests, builds and serves.
	sites := filepath.Join(tmp, "sites")
	if err := os.MkdirAll(sites, 0o755); err != nil {
		t.Fatal(err)
	}
	run(sites, "go", "run", atollModule+"/cmd/atoll@"+version, "new", "mysite")
	site := filepath.Join(sites, "mysite")
	mod, err := os.ReadFile(filepath.Join(site, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), atollModule+" "+version) || strings.Contains(string(mod), "replace") {
		t.Fatalf("the new site's go.mod does not require %s %s alone:\n%s", atollModule, version, mod)
	}
	for _, f := range []string{"package.json", "Makefile", "node_modules"} {
		if _, err := os.Stat(filepath.Join(site, f)); err == nil {
			t.Errorf("the new site has %s", f)
		}
	}
	run(site, "go", "vet", "./...")
	run(site, "go", "test", "./...")
	out := strings.Fields(run(site, "go", "tool", "atoll", "genkey")) // after any "go: downloading" lines
	if key := out[len(out)-1]; len(key) != 44 {
		t.Errorf("go tool atoll genkey in the new site printed %q, want a base64 32-byte key", key)
	}
	run(site, "go", "build", "-o", filepath.Join(tmp, "mysite-server"), "./cmd/server")
	srv := exec.Command(filepath.Join(tmp, "mysite-server"))
	srv.Dir = site
	srv.Env = append(env, "ATOLL_KEYS="+seal.GenerateKey(), "ATOLL_ADDR=127.0.0.1:0", "ATOLL_DRAIN_DELAY=0s")
	expectPageAndIsland(t, srv, "/")

	// The README's site of twenty lines, written from the README alone:
	// go mod init, go get, go run . (here go build, then the binary, so
	// the test can stop it), with no key and no other file.
	hello := filepath.Join(tmp, "hello")
	for name, body := range readmeFiles(t, filepath.Join(root, "README.md")) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(hello, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(hello, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(hello, "go", "mod", "init", "example.com/hello")
	run(hello, "go", "get", atollModule+"@"+version)
	run(hello, "go", "build", "-o", filepath.Join(tmp, "hello-server"), ".")
	h := exec.Command(filepath.Join(tmp, "hello-server"))
	h.Dir = hello
	h.Env = append(env, "ATOLL_ADDR=127.0.0.1:0", "ATOLL_DRAIN_DELAY=0s")
	expectPageAndIsland(t, h, "/")
}

// readmeFiles returns the files the README spells out whole: each code
// block right after a line <!-- readme:hello/PATH -->, by PATH.
func readmeFiles(t *testing.T, readme string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, m := range readmeBlock.FindAllStringSubmatch(string(b), -1) {
		files[m[1]] = m[2]
	}
	if files["main.go"] == "" || files["pages/index.html"] == "" {
		t.Fatalf("README.md does not spell out hello/main.go and hello/pages/index.html (found %d files)", len(files))
	}
	return files
}

// readmeBlock is a README code block marked as a file of the example site.
var readmeBlock = regexp.MustCompile("(?s)<!-- readme:hello/(\\S+) -->\n```\\w*\n(.*?)```")

// moduleFiles are the files of the module at root that its zip holds:
// no nested modules, dependencies, build output or hidden files.
func moduleFiles(t *testing.T, root string) []zip.File {
	t.Helper()
	var files []zip.File
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			switch d.Name() {
			case "node_modules", "bin", "data":
				if filepath.Dir(rel) == "." {
					return filepath.SkipDir
				}
			}
			if strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") || strings.Contains(d.Name(), ".db") {
			return nil
		}
		files = append(files, dirFile{rel: filepath.ToSlash(rel), path: p})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// contentVersion is a pseudo-version named by a hash of the files' names
// and contents.
func contentVersion(t *testing.T, files []zip.File) string {
	t.Helper()
	h := sha256.New()
	for _, f := range files {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\x00", f.Path())
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return "v0.0.0-proof.h" + hex.EncodeToString(h.Sum(nil)[:8]) // a letter first: an all-digit identifier may not start with 0
}

// publish writes version of the module at root, made of files, into a
// file:// module proxy: the list, .info, .mod and the zip the go command
// would fetch.
func publish(t *testing.T, root, proxy, version string, files []zip.File) {
	t.Helper()
	dir := filepath.Join(proxy, atollModule, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	z, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := zip.Create(z, module.Version{Path: atollModule, Version: version}, files); err != nil {
		t.Fatalf("module zip: %v", err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info := fmt.Sprintf(`{"Version":%q,"Time":%q}`, version, time.Now().UTC().Format(time.RFC3339))
	for name, body := range map[string][]byte{version + ".mod": mod, version + ".info": []byte(info), "list": []byte(version + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// dirFile is one file of the module zip.
type dirFile struct{ rel, path string }

func (f dirFile) Path() string                 { return f.rel }
func (f dirFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.path) }
func (f dirFile) Open() (io.ReadCloser, error) { return os.Open(f.path) }

// goAloneEnv is an environment with Go and without node, npm and make:
// PATH is a directory of links to every program on today's PATH but
// those; the proxy serves the engine, and the usual proxy the rest
// (whose modules the shared module cache already holds).
func goAloneEnv(t *testing.T, tmp, proxy string) []string {
	t.Helper()
	bin := filepath.Join(tmp, "path")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	stripped := map[string]bool{"node": true, "nodejs": true, "npm": true, "npx": true, "corepack": true, "make": true, "gmake": true}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if stripped[e.Name()] {
				continue
			}
			link := filepath.Join(bin, e.Name())
			if _, err := os.Lstat(link); err == nil {
				continue // the first on PATH wins, as in a shell
			}
			_ = os.Symlink(filepath.Join(dir, e.Name()), link)
		}
	}
	for name := range stripped {
		if _, err := exec.LookPath(filepath.Join(bin, name)); err == nil {
			t.Fatalf("%s is still on the proof's PATH", name)
		}
	}
	upstream := "off"
	if out, err := exec.Command("go", "env", "GOPROXY").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		upstream = strings.TrimSpace(string(out))
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH", k == "GOPROXY", k == "GONOSUMDB", k == "GOFLAGS", k == "GOBIN", strings.HasPrefix(k, "ATOLL_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH="+bin, "GOPROXY=file://"+filepath.ToSlash(proxy)+","+upstream,
		"GONOSUMDB="+atollModule, "GOBIN="+filepath.Join(tmp, "gobin"))
}

// forgetVersion removes the proof's version from the shared module cache.
func forgetVersion(t *testing.T, version string) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return
	}
	cache := strings.TrimSpace(string(out))
	for _, p := range []string{
		filepath.Join(cache, atollModule+"@"+version),
		filepath.Join(cache, "cache", "download", atollModule, "@v"),
	} {
		filepath.WalkDir(p, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755) // the go command makes the cache read-only
			}
			return nil
		})
	}
	os.RemoveAll(filepath.Join(cache, atollModule+"@"+version))
	matches, _ := filepath.Glob(filepath.Join(cache, "cache", "download", atollModule, "@v", version+".*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

// islandURL finds the first island URL a page places.
var islandURL = regexp.MustCompile(`hx-get="([^"]*/_islands/[^"]+)"`)

// expectPageAndIsland starts cmd, then checks that path answers 200 with
// an island placeholder and that the island it places answers 200.
func expectPageAndIsland(t *testing.T, cmd *exec.Cmd, path string) {
	t.Helper()
	base, logs := started(t, cmd)
	go func() {
		for logs.Scan() {
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get(base + path)
	m := islandURL.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET %s = %d, want 200 with an island placeholder:\n%s", path, status, body)
	}
	if status, body := get(base + html.UnescapeString(m[1])); status != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200:\n%s", m[1], status, body)
	}
}
