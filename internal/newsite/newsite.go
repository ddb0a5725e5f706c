// Package newsite is `atoll new`: it writes a new site on Atoll, a Go
// module of its own that requires github.com/atollhq/atoll, with the
// demo's shape: a one-line cmd/server, site.go embedding pages/, layouts/
// and public/, one page with an island and a form, one island, one
// action, and a test that starts the site with atolltest. The site needs
// Go alone: the page's script comes with the Atoll module.
//
//	src, err := newsite.SourceFor(debug.ReadBuildInfo, "", ".")
//	err = newsite.Create(ctx, newsite.Options{Dir: "../mysite", Source: src}, os.Stdout, os.Stderr)
package newsite

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
)

// skeleton holds the new site's files. Files whose names end in .tmpl
// (the Go files, so this module does not compile them) lose the suffix;
// in every file __MODULE__, __PACKAGE__ and __NAME__ become the module
// path, the root package's name and the site's name. "gitignore" becomes
// ".gitignore", so it does not apply to this repository.
//
//go:embed skeleton
var skeleton embed.FS

// Module is Atoll's module path.
const Module = "github.com/atollhq/atoll"

// GoVersion is the go line of the new go.mod; go mod tidy raises it when
// Atoll needs a later patch release.
const GoVersion = "1.26"

// Options says what to write where.
type Options struct {
	// Dir is the directory to write; it must not exist or be empty.
	Dir string
	// Module is the new module's path; "example.com/" and Dir's base
	// name when empty.
	Module string
	// Source is the Atoll the site requires.
	Source Source
	// Tidy runs go mod tidy in Dir after writing, which writes go.sum.
	Tidy bool
}

// Source is the Atoll a new site requires: a published version, or a
// local checkout the go.mod replaces it with.
type Source struct {
	// Version is the version required; v0.0.0 with Replace.
	Version string
	// Replace is the absolute path of an Atoll checkout, or empty.
	Replace string
}

// SourceFor decides which Atoll a new site requires. With replace (a
// checkout's directory) it is that checkout. Otherwise it is the version
// the running command was built from, when that is a version the go
// command can fetch: `go install github.com/atollhq/atoll/cmd/atoll@v1.2.3`
// gives v1.2.3. A command run from a checkout (go run reports "(devel)";
// go build a version ending "+dirty" when the tree has edits) uses the
// checkout found by walking up from dir.
func SourceFor(buildInfo func() (*debug.BuildInfo, bool), replace, dir string) (Source, error) {
	if replace != "" {
		return checkoutSource(replace)
	}
	if info, ok := buildInfo(); ok && info.Main.Path == Module {
		v := info.Main.Version
		if v != "" && v != "(devel)" && !strings.Contains(v, "+") {
			return Source{Version: v}, nil
		}
	}
	root, err := FindCheckout(dir)
	if err != nil {
		return Source{}, err
	}
	return Source{Version: "v0.0.0", Replace: root}, nil
}

// checkoutSource checks that dir holds Atoll's module.
func checkoutSource(dir string) (Source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Source{}, err
	}
	mod, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return Source{}, fmt.Errorf("-replace %s: %w", dir, err)
	}
	if m := modulePathOf(mod); m != Module {
		return Source{}, fmt.Errorf("-replace %s holds module %q, not %s", dir, m, Module)
	}
	return Source{Version: "v0.0.0", Replace: abs}, nil
}

// FindCheckout walks up from dir to the directory whose go.mod is
// Atoll's.
func FindCheckout(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if mod, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modulePathOf(mod) == Module {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("this atoll was built from a checkout (not a published version) and %s is not inside one: pass -replace DIR, DIR an Atoll checkout", abs)
		}
	}
}

// modulePathOf is the path on go.mod's module line.
func modulePathOf(mod []byte) string {
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// Create writes the site, runs go mod tidy in it when o.Tidy is set (the
// go command on PATH, with this environment), and tells out what to do
// next.
func Create(ctx context.Context, o Options, out, errOut io.Writer) error {
	module, err := Generate(o)
	if err != nil {
		return err
	}
	if o.Tidy {
		cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
		cmd.Dir, cmd.Stdout, cmd.Stderr = o.Dir, out, errOut
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go mod tidy in %s: %w", o.Dir, err)
		}
	}
	fmt.Fprintf(out, `made %s (module %s). Next:

  cd %s && go run ./cmd/server   serve it on http://127.0.0.1:8080
  go test ./...                  start it on a loopback port and check it
  go tool atoll dev              serve it in dev mode, rebuilding on every edit
`, o.Dir, module, o.Dir)
	return nil
}

// modulePath is what Generate accepts as a module path: slash-separated
// elements of letters, digits and ._~-, none starting with a dot. The go
// command's own check is stricter in corners; this one catches typos.
var modulePath = regexp.MustCompile(`^[A-Za-z0-9_~-][A-Za-z0-9._~-]*(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$`)

// Generate writes the site into o.Dir and returns its module path. It
// writes nothing when it refuses.
func Generate(o Options) (module string, err error) {
	if o.Dir == "" {
		return "", errors.New("need a directory, such as: atoll new ../mysite")
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return "", err
	}
	module = o.Module
	if module == "" {
		module = "example.com/" + filepath.Base(abs)
	}
	if !modulePath.MatchString(module) {
		return "", fmt.Errorf("-module %q is not a module path such as example.com/mysite", module)
	}
	if o.Source.Version == "" {
		return "", errors.New("no Atoll version to require")
	}
	if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%s is not empty", o.Dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}

	name := path.Base(module)
	replace := strings.NewReplacer("__MODULE__", module, "__PACKAGE__", packageName(name), "__NAME__", name)
	files := map[string][]byte{"go.mod": goMod(module, o.Source)}
	err = fs.WalkDir(skeleton, "skeleton", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := skeleton.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "skeleton/"), ".tmpl")
		if name == "gitignore" {
			name = ".gitignore"
		}
		files[name] = []byte(replace.Replace(string(body)))
		return nil
	})
	if err != nil {
		return "", err
	}
	for name, body := range files {
		p := filepath.Join(o.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return "", err
		}
	}
	return module, nil
}

// goMod is the new go.mod: Atoll required at src.Version and, for a
// checkout, replaced by it; its atoll command is a tool of the site, so
// `go tool atoll dev` runs the dev loop of the very engine the site uses.
func goMod(module string, src Source) []byte {
	b := fmt.Appendf(nil, "module %s\n\ngo %s\n\nrequire %s %s\n\ntool %s/cmd/atoll\n", module, GoVersion, Module, src.Version, Module)
	if src.Replace != "" {
		b = fmt.Appendf(b, `
// This site uses the Atoll checkout atoll new ran from. To use a
// published version instead, drop this line and run:
// go get %s@latest
replace %s => %s
`, Module, Module, goModPath(src.Replace))
	}
	return b
}

// goModPath quotes a directory go.mod could not read bare.
func goModPath(dir string) string {
	if strings.ContainsAny(dir, " \t\"'`\\") {
		return strconv.Quote(dir)
	}
	return dir
}

// packageName turns the module's last element into a Go package name:
// its lowercase letters and digits, or "site" when none lead.
func packageName(name string) string {
	var b bytes.Buffer
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || b.Bytes()[0] <= '9' {
		return "site"
	}
	return b.String()
}
