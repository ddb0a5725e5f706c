// Command newsite starts a new site on Atoll: a Go module of its own that
// requires github.com/atollhq/atoll, with the skeleton the demo has (a
// thin cmd/server, site.go embedding pages/, layouts/ and public/, one
// page, one island, one action, a test using atolltest) and a Makefile
// that builds the htmx bundle from the same pinned htmx.org as Atoll.
//
//	go run ./tools/newsite -dir ../mysite -module example.com/mysite
//
// Run it from an Atoll checkout (or name one with -atoll): Atoll is not
// published yet, so the new go.mod replaces it with that checkout's
// absolute path. Once it is published the replace line can go.
package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
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

const atollModule = "github.com/atollhq/atoll"

func main() {
	dir := flag.String("dir", "", "directory to create, such as ../mysite (must not exist or be empty)")
	module := flag.String("module", "", "the new site's module path, such as example.com/mysite")
	atoll := flag.String("atoll", ".", "the Atoll checkout the site uses")
	tidy := flag.Bool("tidy", true, "run go mod tidy in the new site, which fills in go.sum")
	flag.Parse()
	if err := run(*dir, *module, *atoll, *tidy); err != nil {
		fmt.Fprintln(os.Stderr, "newsite:", err)
		os.Exit(1)
	}
}

func run(dir, module, atoll string, tidy bool) error {
	if dir == "" || module == "" {
		return errors.New("need -dir and -module, such as: -dir ../mysite -module example.com/mysite")
	}
	if err := generate(dir, module, atoll); err != nil {
		return err
	}
	if tidy {
		cmd := exec.Command("go", "mod", "tidy")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go mod tidy in %s: %w", dir, err)
		}
	}
	fmt.Printf("newsite: made %s (module %s); next: cd %s && make run\n", dir, module, dir)
	return nil
}

// modulePath is what newsite accepts as a module path: slash-separated
// elements of letters, digits and ._~-, none starting with a dot. The go
// command's own check is stricter in corners; this one catches typos.
var modulePath = regexp.MustCompile(`^[A-Za-z0-9_~-][A-Za-z0-9._~-]*(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$`)

// generate writes the new site into dir, which must not exist or be
// empty, for the Atoll checkout at atoll.
func generate(dir, module, atoll string) error {
	if !modulePath.MatchString(module) {
		return fmt.Errorf("-module %q is not a module path such as example.com/mysite", module)
	}
	atollDir, err := filepath.Abs(atoll)
	if err != nil {
		return err
	}
	goVersion, err := checkout(atollDir)
	if err != nil {
		return err
	}
	lock, err := os.ReadFile(filepath.Join(atollDir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("the Atoll checkout's npm lock: %w", err)
	}
	pkgJSON, lockJSON, err := npmFiles(lock, path.Base(module))
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	name := path.Base(module)
	replace := strings.NewReplacer("__MODULE__", module, "__PACKAGE__", packageName(name), "__NAME__", name)
	files := map[string][]byte{
		"go.mod":            goMod(module, goVersion, atollDir),
		"package.json":      pkgJSON,
		"package-lock.json": lockJSON,
	}
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
		return err
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkout checks that dir is an Atoll checkout and returns the Go
// version its go.mod names, which the new site needs too.
func checkout(dir string) (goVersion string, err error) {
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("-atoll %s: %w", dir, err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "module" && f[1] != atollModule:
			return "", fmt.Errorf("-atoll %s holds module %s, not %s", dir, f[1], atollModule)
		case len(f) == 2 && f[0] == "go":
			goVersion = f[1]
		}
	}
	if goVersion == "" {
		return "", fmt.Errorf("-atoll %s: go.mod names no Go version", dir)
	}
	return goVersion, nil
}

func goMod(module, goVersion, atollDir string) []byte {
	return fmt.Appendf(nil, `module %s

go %s

require %s v0.0.0

// Atoll is not published yet, so this site uses a local checkout. Once it
// is, drop this line and run: go get %s@latest
replace %s => %s
`, module, goVersion, atollModule, atollModule, atollModule, atollDir)
}

// npmFiles returns the new site's package.json and package-lock.json:
// htmx.org alone, at the version and with the integrity hash Atoll's own
// lock pins, so `npm ci` installs exactly what Atoll is tested with.
func npmFiles(atollLock []byte, name string) (pkg, lock []byte, err error) {
	var l struct {
		Packages map[string]json.RawMessage `json:"packages"`
	}
	if err := json.Unmarshal(atollLock, &l); err != nil {
		return nil, nil, fmt.Errorf("the Atoll checkout's package-lock.json: %w", err)
	}
	raw, ok := l.Packages["node_modules/htmx.org"]
	var htmx struct {
		Version string `json:"version"`
	}
	if !ok || json.Unmarshal(raw, &htmx) != nil || htmx.Version == "" {
		return nil, nil, errors.New("the Atoll checkout's package-lock.json pins no htmx.org")
	}
	type project struct {
		Name         string            `json:"name"`
		Version      string            `json:"version"`
		Private      bool              `json:"private,omitempty"`
		Dependencies map[string]string `json:"dependencies"`
	}
	root := project{Name: name, Version: "0.1.0", Private: true, Dependencies: map[string]string{"htmx.org": htmx.Version}}
	if pkg, err = json.MarshalIndent(root, "", "  "); err != nil {
		return nil, nil, err
	}
	root.Private = false
	lockFile := struct {
		Name            string `json:"name"`
		Version         string `json:"version"`
		LockfileVersion int    `json:"lockfileVersion"`
		Requires        bool   `json:"requires"`
		// Packages marshals sorted: the project ("") first.
		Packages map[string]any `json:"packages"`
	}{Name: name, Version: "0.1.0", LockfileVersion: 3, Requires: true,
		Packages: map[string]any{"": root, "node_modules/htmx.org": raw}}
	if lock, err = json.MarshalIndent(lockFile, "", "  "); err != nil {
		return nil, nil, err
	}
	return append(pkg, '\n'), append(lock, '\n'), nil
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
