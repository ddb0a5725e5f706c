package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewSiteBuilds generates a site from this checkout and builds and
// vets it as its owner would. When this checkout has built its script
// bundle (make assets), the same bundle is copied in and the site's own
// tests run too: they start its server.
func TestNewSiteBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own")
	}
	dir := filepath.Join(t.TempDir(), "mysite")
	if err := run(dir, "example.com/my-site", "../..", true); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	atoll, _ := filepath.Abs("../..")
	for _, want := range []string{"module example.com/my-site\n", "\tgithub.com/atollhq/atoll v0.0.0\n", "replace github.com/atollhq/atoll => " + atoll + "\n"} {
		if !strings.Contains(string(mod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, mod)
		}
	}
	goCmd(t, dir, "build", "./...")
	goCmd(t, dir, "vet", "./...")

	bundle, err := os.ReadFile("../../public/vendor/bundle.js")
	if err != nil {
		t.Logf("the site's tests did not run: %v (make assets builds it)", err)
		return
	}
	if err := os.MkdirAll(filepath.Join(dir, "public/vendor"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "public/vendor/bundle.js"), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd(t, dir, "test", "-count=1", "./...")
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in the new site: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestNewSiteRefuses(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, dir, module, atoll, want string
	}{
		{"a directory that holds files", full, "example.com/x", "../..", "is not empty"},
		{"a module path with a space", filepath.Join(t.TempDir(), "x"), "example.com/my site", "../..", "not a module path"},
		{"a module path with a leading slash", filepath.Join(t.TempDir(), "x"), "/x", "../..", "not a module path"},
		{"a directory that is not Atoll", filepath.Join(t.TempDir(), "x"), "example.com/x", ".", "go.mod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := generate(tc.dir, tc.module, tc.atoll)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("generate = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Errorf("a refused run wrote into %s: %d entries", full, len(entries))
	}
}

func TestPackageName(t *testing.T) {
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
