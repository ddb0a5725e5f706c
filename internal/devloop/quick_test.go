package devloop

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestQuickBuilds builds a small module once with the go command, then
// quickly after each edit, and runs what each build made: an edit inside a
// function compiles only its package; one that changes what a package
// exports compiles its importers too; an embedded file's edit compiles the
// package that embeds it, unless dev mode reads that file from disk (a
// page); a compile error reads as the go command's; an
// edit a quick build cannot follow (an import, a new file) asks for a full
// build.
func TestQuickBuilds(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	root := t.TempDir()
	lang := strings.Join(strings.SplitN(strings.TrimPrefix(runtime.Version(), "go"), ".", 3)[:2], ".")
	write := func(name, text string) {
		t.Helper()
		file := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/quick\n\ngo "+lang+"\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n")
	write("dep/go.mod", "module example.com/dep\n\ngo "+lang+"\n")
	write("dep/dep.go", "package dep\n\nfunc Name() string { return \"dep\" }\n")
	write("main.go", `package main

import (
	"embed"
	"fmt"

	"example.com/dep"
	"example.com/quick/lib"
)

var _ = dep.Name

//go:embed pages
var pages embed.FS

func main() {
	page, _ := pages.ReadFile("pages/index.html")
	fmt.Println(lib.Greet(), lib.Word(), lib.Data, string(page))
}
`)
	write("pages/index.html", "p1")
	lib := `package lib

import "embed"

//go:embed data.txt
var Data string

//go:embed static
var static embed.FS

var word = "one"

// Word is not inlined into main with the variable's value: an edit to
// the value changes nothing lib exports.
func Word() string { return word }

// Greet is inlined into main: an edit to its text changes what lib
// exports.
func Greet() string { return "hello" }
`
	write("lib/lib.go", lib)
	write("lib/data.txt", "first")
	write("lib/static/a.txt", "a")
	if err := os.MkdirAll(filepath.Join(root, "lib", "static", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Files written just before a full build began count as changed since;
	// these were written long before.
	for _, f := range []string{"go.mod", "main.go", "lib/lib.go", "lib/data.txt", "lib/static/a.txt", "pages/index.html", "dep/go.mod", "dep/dep.go"} {
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(filepath.Join(root, f), old, old); err != nil {
			t.Fatal(err)
		}
	}

	d := &Dev{root: root, Pkg: ".", Env: os.Environ(), Out: io.Discard}
	if err := os.MkdirAll(filepath.Join(root, planDir), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if failed, _, quick := d.build(t.Context(), "bin/site"); failed != "" || quick {
		t.Fatalf("the full build: quick %v, failed: %s", quick, failed)
	}
	d.replan(t.Context(), start)
	if d.plan == nil {
		t.Fatal("no plan was made of the full build")
	}
	if d.work != "" {
		t.Errorf("the full build's work directory %s was left", d.work)
	}
	run := func(want string) {
		t.Helper()
		out, err := exec.Command(filepath.Join(root, "bin", "site")).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != want {
			t.Errorf("the server built printed %q (%v), want %q", got, err, want)
		}
	}
	run("hello one first p1")

	quick := func(what string, compiled ...string) {
		t.Helper()
		q, err := d.plan.build(t.Context(), filepath.Join(root, "bin", "site"))
		if err != nil || q.output != "" {
			t.Fatalf("%s: the quick build failed: %v %s", what, err, q.output)
		}
		if !slices.Equal(q.compiled, compiled) {
			t.Errorf("%s: the quick build compiled %q, want %q", what, q.compiled, compiled)
		}
	}
	lib = strings.Replace(lib, `"one"`, `"two"`, 1)
	write("lib/lib.go", lib)
	quick("an edit inside lib", "example.com/quick/lib")
	run("hello two first p1")

	lib = strings.Replace(lib, `"hello"`, `"hi"`, 1)
	write("lib/lib.go", lib)
	quick("an edit to what lib exports", "example.com/quick/lib", "example.com/quick")
	run("hi two first p1")

	// Both packages changed, and what lib exports with them: main, compiled
	// beside lib against what lib exported before, compiles again.
	lib = strings.Replace(lib, `"hi"`, `"hey"`, 1)
	write("lib/lib.go", lib)
	write("main.go", strings.Replace(readFile(t, filepath.Join(root, "main.go")), "lib.Word(),", "lib.Word()+\"!\",", 1))
	quick("an edit to main and to what lib exports", "example.com/quick/lib", "example.com/quick")
	run("hey two! first p1")

	write("lib/data.txt", "second")
	quick("an edit to an embedded file", "example.com/quick/lib")
	run("hey two! second p1")

	if _, err := d.plan.build(t.Context(), filepath.Join(root, "bin", "site")); !isFull(err) {
		t.Errorf("a quick build with nothing changed: %v, want it to ask for a full build", err)
	}

	// A page, which dev mode reads from disk, is embedded again only when
	// its package compiles for an edit to its Go code.
	write("pages/index.html", "p2")
	lib = strings.Replace(lib, `"two"`, `"three"`, 1)
	write("lib/lib.go", lib)
	quick("an edit to a page and inside lib", "example.com/quick/lib")
	run("hey three! second p1")
	write("main.go", strings.Replace(readFile(t, filepath.Join(root, "main.go")), `"!"`, `"?"`, 1))
	quick("an edit to main", "example.com/quick")
	run("hey three? second p2")

	write("lib/lib.go", lib+"\nfunc broken() int { return \"x\" }\n")
	q, err := d.plan.build(t.Context(), filepath.Join(root, "bin", "site"))
	if err != nil || !strings.HasPrefix(q.output, "# example.com/quick/lib\nlib/lib.go:21:28: cannot use") {
		t.Errorf("a compile error: %v, output %q; want the go command's form", err, q.output)
	}
	write("lib/lib.go", lib)
	quick("the compile error fixed", "example.com/quick/lib")
	run("hey three? second p2")

	for _, tc := range []struct{ what, file, text, want string }{
		{"an import", "lib/lib.go", strings.Replace(lib, "import \"embed\"", "import (\n\t\"embed\"\n\t_ \"strings\"\n)", 1), "lib/lib.go changed its package clause, imports"},
		{"a new file", "lib/more.go", "package lib\n", "a file was added to or removed from lib"},
		{"a new file in an empty embedded directory", "lib/static/empty/new.txt", "new", "a file was added to or removed from lib/static/empty"},
		{"an edit to a replaced module", "dep/dep.go", "package dep\n\nfunc Name() string { return \"dep2\" }\n", "dep/dep.go changed, in a package from outside the module"},
	} {
		before := readFile(t, filepath.Join(root, tc.file))
		write(tc.file, tc.text)
		if _, err := d.plan.build(t.Context(), filepath.Join(root, "bin", "site")); !isFull(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a full build asked for: %s", tc.what, err, tc.want)
		}
		if before == "" {
			os.Remove(filepath.Join(root, tc.file))
		} else {
			write(tc.file, before)
		}
	}
}

// TestQuickBuildsAfterAFailedFullBuild: an import being typed needs a full
// build, which fails; the save that undoes it builds quickly again.
func TestQuickBuildsAfterAFailedFullBuild(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	lang := strings.Join(strings.SplitN(strings.TrimPrefix(runtime.Version(), "go"), ".", 3)[:2], ".")
	files := map[string]string{
		"go.mod":  "module example.com/typing\n\ngo " + lang + "\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"one\") }\n",
	}
	for name, text := range files {
		file := filepath.Join(root, name)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(file, old, old); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	d := &Dev{root: root, Pkg: ".", Env: os.Environ(), Out: &out}
	if err := os.MkdirAll(filepath.Join(root, planDir), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if failed, _, _ := d.build(t.Context(), "bin/site"); failed != "" {
		t.Fatalf("the first build failed: %s", failed)
	}
	d.replan(t.Context(), start)
	if d.plan == nil {
		t.Fatalf("no plan was made of the full build: %s", out.String())
	}

	edit := func(old, new string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, "main.go"), []byte(strings.Replace(files["main.go"], old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit(`"fmt"`, `"fm"`)
	failed, _, quick := d.build(t.Context(), "bin/site")
	if quick || !strings.Contains(failed, "fm") {
		t.Errorf("an import of a package that does not exist: quick %v, failed %q; want a full build that fails", quick, failed)
	}
	edit(`"one"`, `"two"`)
	failed, steps, quick := d.build(t.Context(), "bin/site")
	if failed != "" || !quick {
		t.Errorf("the import undone: quick %v (%s), failed %q; want a quick build", quick, steps, failed)
	}
	if got, err := exec.Command(filepath.Join(root, "bin", "site")).Output(); strings.TrimSpace(string(got)) != "two" {
		t.Errorf("the server built printed %q (%v), want two", got, err)
	}
}

func isFull(err error) bool {
	var f errFull
	return errors.As(err, &f)
}

func readFile(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestEmbedMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		glob, file string
		all, want  bool
	}{
		{"*.html", "a.html", false, true},
		{"*.html", "sub/a.html", false, false},
		{"pages", "pages/index.html", false, true},
		{"pages", "pages/blog/post.html", false, true},
		{"pages", "pages/_draft.html", false, false},
		{"pages", "pages/.hidden/x.html", false, false},
		{"pages", "pages/_draft.html", true, true},
		{"pages/_draft.html", "pages/_draft.html", false, true},
		{"p*", "public/css/site.css", false, true},
		{"pages", "layouts/main.html", false, false},
	} {
		if got := embedMatch(tc.glob, tc.file, tc.all); got != tc.want {
			t.Errorf("embedMatch(%q, %q, all %v) = %v, want %v", tc.glob, tc.file, tc.all, got, tc.want)
		}
	}
}

func TestSplitCmd(t *testing.T) {
	t.Parallel()
	got, err := splitCmd(`/go/pkg/tool/link -o /tmp/b001/exe/a.out "-X=main.v=a b" -s -w main.a`)
	want := []string{"/go/pkg/tool/link", "-o", "/tmp/b001/exe/a.out", "-X=main.v=a b", "-s", "-w", "main.a"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("splitCmd = %q, %v; want %q", got, err, want)
	}
}

func TestShortNames(t *testing.T) {
	t.Parallel()
	p := &plan{module: "example.com/site"}
	for pkg, want := range map[string]string{
		"example.com/site":            "site",
		"example.com/site/cmd/server": "cmd/server",
		"example.com/site/server":     "server",
	} {
		if got := p.short(pkg); got != want {
			t.Errorf("short(%q) = %q, want %q", pkg, got, want)
		}
	}
}
