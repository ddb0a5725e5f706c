package devloop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"go/version"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A quick build is how atoll dev builds after an edit that changes only
// the insides of the site's own packages. It compiles the packages whose
// files changed with the Go compiler itself, compiles a package that
// imports one of them again only when what that one exports changed, and
// links with the link command of the last full build. The go command
// would spend about 0.4 s of every build loading and hashing the build's
// 300-odd packages, and it compiles every package above an edited one again
// even when the edit changed nothing they see (for the demo, its root
// package: 0.3 s for any island's edit).
//
// What dev mode reads from disk (pages, layouts, public files, island
// templates) a quick build does not embed again when only it changed:
// see readFromDisk.
//
// The plan a quick build follows comes from the last full build: the link
// command and the lines of its import config that are not archives (the
// build information) from go build's action graph, and each package's
// archive, files, imports and embedded files from go list. An edit the
// plan cannot follow makes the next build a full one: a Go file added or
// removed, a changed import, build constraint, package clause, //go:embed
// or //go:debug line, a file added or removed where files are embedded,
// go.mod, go.sum or the workspace file, a package with cgo or assembly,
// a file of a package from outside the module that is not in the module
// cache (a replace with a directory, vendor/). So does anything a
// quick build fails at other than a compile error in the site's code (the
// linker refuses archives that do not fit together, so a mistake in the
// plan costs a full build, not a wrong server).

// planDir is where quick builds keep the archives they compile and the
// link's import config, under the root.
const planDir = "bin/dev-quick"

// actionGraph is where a full build writes go build's action graph
// (-debug-actiongraph), under the root: the link command is read from it.
const actionGraph = "bin/dev-quick/actions.json"

// errFull says why a build cannot be a quick one.
type errFull struct{ why string }

func (e errFull) Error() string { return e.why }

func full(format string, args ...any) error { return errFull{fmt.Sprintf(format, args...)} }

// plan is what quick builds know of the server's build.
type plan struct {
	root, dir string   // the module's root and planDir, absolute
	tools     string   // GOTOOLDIR
	version   string   // GOVERSION, which the compiler checks
	env       []string // the compiler's and the linker's environment
	linkFlags []string // the link's flags other than -o and -importcfg
	cfgLines  []string // the link's import config lines other than packagefile
	archives  map[string]string
	main      string     // the main package's import path
	module    string     // the module's path
	pkgs      []*sitePkg // the module's packages the server is built of, dependencies first
	stamps    map[string]stamp
	made      int // archives compiled

	modCache string   // GOMODCACHE, whose files never change
	modFiles []string // go.mod and go.sum, and the workspace's files when there is one
	// outside are the files of packages from outside the module that are
	// not in the module cache (a replace with a directory, vendor/), and
	// outsideDirs their directories' Go files: a change to one needs a full
	// build.
	outside     []string
	outsideDirs map[string][]string
}

// sitePkg is one of the module's packages the server is built of.
type sitePkg struct {
	path, name, dir, lang string
	goFiles               []string          // absolute
	ignored               []string          // Go files its build constraints leave out, absolute
	imports               []string          // resolved import paths
	importMap             map[string]string // import path in the source → resolved
	embedPatterns         []string
	embedFiles            []string            // relative to dir
	listings              map[string][]string // directory → the names a change of which needs a full build
	headers               map[string]string   // Go file → header
	stale                 bool                // compiled against an export of an import that has changed since
}

// stamp is what says a file changed: its size and modification time.
type stamp struct {
	size  int64
	mtime time.Time
}

func stampOf(file string) (stamp, bool) {
	fi, err := os.Stat(file)
	if err != nil {
		return stamp{}, false
	}
	return stamp{fi.Size(), fi.ModTime()}, true
}

// listPkg is what go list -json says of a package, in part.
type listPkg struct {
	ImportPath, Dir, Name, Export      string
	Standard                           bool
	GoFiles, IgnoredGoFiles, Imports   []string
	CgoFiles, CFiles, CXXFiles, HFiles []string
	SFiles, SysoFiles, MFiles, FFiles  []string
	EmbedPatterns, EmbedFiles          []string
	ImportMap                          map[string]string
	Module                             *struct {
		Path, GoVersion string
		Main            bool
	}
	Error *struct{ Err string }
}

// makePlan makes the plan of the server that a full build has just built:
// graph is its action graph, flags its build flags, since when it began.
// Files changed since then are taken as changed, whatever go list saw.
func makePlan(ctx context.Context, root string, env, flags []string, pkg, graph string, since time.Time) (*plan, error) {
	p := &plan{root: root, dir: filepath.Join(root, planDir), archives: map[string]string{}, stamps: map[string]stamp{}, outsideDirs: map[string][]string{}}
	if err := p.readEnv(ctx, env); err != nil {
		return nil, err
	}
	cfg, err := p.readGraph(graph)
	if err != nil {
		return nil, err
	}
	list := exec.CommandContext(ctx, "go", append(append([]string{"list", "-deps", "-export", "-json"}, flags...), pkg)...)
	list.Dir, list.Env = root, env
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	linked := map[string]bool{}
	for _, l := range cfg {
		if path, _, ok := strings.Cut(strings.TrimPrefix(l, "packagefile "), "="); ok && strings.HasPrefix(l, "packagefile ") {
			linked[path] = true
		} else {
			p.cfgLines = append(p.cfgLines, l)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var lp listPkg
		if err := dec.Decode(&lp); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		if lp.Error != nil {
			return nil, fmt.Errorf("go list: %s", lp.Error.Err)
		}
		if lp.Export != "" {
			p.archives[lp.ImportPath] = lp.Export
		}
		if lp.Name == "main" {
			p.main = lp.ImportPath
		}
		if lp.Standard {
			continue
		}
		if lp.Module == nil || !lp.Module.Main {
			if err := p.outsidePkg(&lp, since); err != nil {
				return nil, err
			}
			continue
		}
		p.module = lp.Module.Path
		sp, err := p.sitePkg(&lp, since)
		if err != nil {
			return nil, err
		}
		p.pkgs = append(p.pkgs, sp)
	}
	if len(linked) != len(p.archives) {
		return nil, fmt.Errorf("go list lists %d archives, the link %d", len(p.archives), len(linked))
	}
	for path := range linked {
		if p.archives[path] == "" {
			return nil, fmt.Errorf("go list has no archive of %s, which the link has", path)
		}
	}
	for _, f := range p.modFiles {
		p.stampFile(f, since)
	}
	return p, nil
}

// outsidePkg records the files of a package from outside the module when
// they are not in the module cache, where nothing changes: a module
// replaced by a directory (Atoll's own checkout beside a site's), or
// vendor/.
func (p *plan) outsidePkg(lp *listPkg, since time.Time) error {
	if p.modCache != "" && strings.HasPrefix(lp.Dir, p.modCache+string(filepath.Separator)) {
		return nil
	}
	for _, list := range [][]string{lp.GoFiles, lp.IgnoredGoFiles, lp.EmbedFiles} {
		for _, f := range list {
			file := filepath.Join(lp.Dir, filepath.FromSlash(f))
			p.outside = append(p.outside, file)
			p.stampFile(file, since)
		}
	}
	names, err := listing(lp.Dir, false)
	if err != nil {
		return err
	}
	p.outsideDirs[lp.Dir] = names
	return nil
}

// readEnv reads what the go command would give the compiler and linker:
// their directory, the toolchain's version and its settings. A GOFLAGS
// that changes how packages compile or link turns quick builds off.
func (p *plan) readEnv(ctx context.Context, env []string) error {
	cmd := exec.CommandContext(ctx, "go", "env", "-json")
	cmd.Dir, cmd.Env = p.root, env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go env: %w", err)
	}
	var goenv map[string]string
	if err := json.Unmarshal(out, &goenv); err != nil {
		return fmt.Errorf("go env: %w", err)
	}
	for _, f := range strings.Fields(goenv["GOFLAGS"]) {
		for _, word := range []string{"gcflags", "asmflags", "race", "msan", "asan", "cover", "trimpath", "buildmode", "compiler", "toolexec", "linkshared", "overlay"} {
			if strings.Contains(f, word) {
				return fmt.Errorf("GOFLAGS has %s", f)
			}
		}
	}
	p.tools, p.version, p.modCache = goenv["GOTOOLDIR"], goenv["GOVERSION"], goenv["GOMODCACHE"]
	p.modFiles = []string{filepath.Join(p.root, "go.mod"), filepath.Join(p.root, "go.sum")}
	if w := goenv["GOWORK"]; w != "" && w != "off" {
		p.modFiles = append(p.modFiles, w, w+".sum")
	}
	if p.tools == "" || p.version == "" {
		return errors.New("go env names no GOTOOLDIR or GOVERSION")
	}
	// As the go command does, name the target and the toolchain's settings
	// to the tools outright rather than leave them to their defaults.
	p.env = slices.Clone(env)
	for _, k := range []string{"GOROOT", "GOOS", "GOARCH", "GOEXPERIMENT",
		"GO386", "GOAMD64", "GOARM", "GOARM64", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM"} {
		if v, ok := goenv[k]; ok {
			p.env = append(p.env, k+"="+v)
		}
	}
	return nil
}

// readGraph reads the link command from a full build's action graph and
// returns the lines of its import config.
func (p *plan) readGraph(graph string) ([]string, error) {
	b, err := os.ReadFile(graph)
	if err != nil {
		return nil, err
	}
	var actions []struct {
		Mode   string
		Objdir string
		Cmd    []string
	}
	if err := json.Unmarshal(b, &actions); err != nil {
		return nil, fmt.Errorf("%s: %w", graph, err)
	}
	for _, a := range actions {
		if a.Mode != "link" || len(a.Cmd) != 1 {
			continue
		}
		args, err := splitCmd(a.Cmd[0])
		if err != nil {
			return nil, err
		}
		if len(args) < 2 || filepath.Base(args[0]) != "link" {
			return nil, fmt.Errorf("the link command is %q", a.Cmd[0])
		}
		var cfgFile string
		for i := 1; i < len(args)-1; i++ {
			switch args[i] {
			case "-o":
				i++
			case "-importcfg":
				i++
				cfgFile = args[i]
			default:
				p.linkFlags = append(p.linkFlags, args[i])
			}
		}
		if cfgFile == "" {
			return nil, errors.New("the link command names no import config")
		}
		cfg, err := os.ReadFile(cfgFile)
		if err != nil {
			return nil, err
		}
		return strings.Split(strings.TrimSpace(string(cfg)), "\n"), nil
	}
	return nil, errors.New("the action graph has no link")
}

// splitCmd splits a command as the go command writes it in an action
// graph: words between spaces, a word with a space or a character that
// needs escaping quoted as Go quotes strings.
func splitCmd(s string) ([]string, error) {
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(s, " ") {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("split %q: %w", s, err)
			}
			w, _ := strconv.Unquote(q)
			words = append(words, w)
			s = s[len(q):]
			continue
		}
		w, rest, _ := strings.Cut(s, " ")
		words, s = append(words, w), rest
	}
	return words, nil
}

// sitePkg makes the plan's record of one of the module's packages.
func (p *plan) sitePkg(lp *listPkg, since time.Time) (*sitePkg, error) {
	if n := len(lp.CgoFiles) + len(lp.CFiles) + len(lp.CXXFiles) + len(lp.HFiles) + len(lp.SFiles) + len(lp.SysoFiles) + len(lp.MFiles) + len(lp.FFiles); n > 0 {
		return nil, fmt.Errorf("package %s has files other than Go files", lp.ImportPath)
	}
	lang := version.Lang("go" + lp.Module.GoVersion)
	if lang == "" {
		return nil, fmt.Errorf("the module's go version %q", lp.Module.GoVersion)
	}
	sp := &sitePkg{
		path: lp.ImportPath, name: lp.Name, dir: lp.Dir, lang: lang,
		imports: lp.Imports, importMap: lp.ImportMap, embedPatterns: lp.EmbedPatterns, embedFiles: lp.EmbedFiles,
		listings: map[string][]string{}, headers: map[string]string{},
	}
	for _, f := range lp.GoFiles {
		sp.goFiles = append(sp.goFiles, filepath.Join(lp.Dir, f))
	}
	for _, f := range lp.IgnoredGoFiles {
		sp.ignored = append(sp.ignored, filepath.Join(lp.Dir, f))
	}
	for _, f := range append(slices.Clone(sp.goFiles), sp.ignored...) {
		h, err := header(f)
		if err != nil {
			return nil, err
		}
		sp.headers[f] = h
		p.stampFile(f, since)
	}
	// The directories whose listing says whether the embedded files are
	// still those of the plan: the package's own, those of the files, and
	// every directory below one that a pattern names, empty ones too.
	dirs := map[string]bool{lp.Dir: true}
	for _, f := range lp.EmbedFiles {
		file := filepath.Join(lp.Dir, filepath.FromSlash(f))
		p.stampFile(file, since)
		for d := filepath.Dir(file); strings.HasPrefix(d, lp.Dir) && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	for _, pat := range lp.EmbedPatterns {
		glob, _ := strings.CutPrefix(pat, "all:")
		matches, _ := filepath.Glob(filepath.Join(lp.Dir, filepath.FromSlash(glob)))
		for _, m := range matches {
			filepath.WalkDir(m, func(path string, e fs.DirEntry, err error) error {
				if err == nil && e.IsDir() {
					dirs[path] = true
				}
				return nil
			})
		}
	}
	for d := range dirs {
		names, err := sp.listing(d)
		if err != nil {
			return nil, err
		}
		sp.listings[d] = names
	}
	return sp, nil
}

// stampFile records file's stamp; one written since the build began is
// recorded as changed, so that the next quick build compiles it.
func (p *plan) stampFile(file string, since time.Time) {
	s, ok := stampOf(file)
	if ok && s.mtime.After(since.Add(-10*time.Millisecond)) { // file times come from a coarse clock
		s = stamp{size: -1}
	}
	p.stamps[file] = s
}

// listing is the names in dir whose coming or going needs a full build:
// every name where files are embedded (all), else the Go files that are
// not tests; never a hidden one (an editor's swap file), which neither a
// package nor a directory's embedding takes in.
func listing(dir string, all bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if all || strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// header is what of a Go file a quick build cannot follow a change of:
// its build constraints, package clause and imports, and its //go:embed
// and //go:debug lines. A file whose header does not parse has none, so
// that a full build reports the error.
func header(file string) (string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return "", nil
	}
	var h strings.Builder
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//go:build") || strings.HasPrefix(c.Text, "// +build") {
				h.WriteString(c.Text + "\n")
			}
		}
	}
	h.WriteString("package " + f.Name.Name + "\n")
	for _, imp := range f.Imports {
		h.WriteString("import " + imp.Path.Value + "\n")
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, len(src)+1)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "//go:embed") || strings.HasPrefix(l, "//go:debug") {
			h.WriteString(l + "\n")
		}
	}
	return h.String(), nil
}

// quickBuild is what a quick build did.
type quickBuild struct {
	output        string   // the compiler's errors when a package did not compile
	compiled      []string // the packages it compiled
	compile, link time.Duration
}

// build builds the server to out. An error means the build could not be
// a quick one, and says why; a package that does not compile is not an
// error: its messages are in the result's output.
func (p *plan) build(ctx context.Context, out string) (quickBuild, error) {
	q, err := p.compileChanged(ctx)
	if err != nil || q.output != "" {
		return q, err
	}
	start := time.Now()
	if err := p.linkTo(ctx, out); err != nil {
		return q, err
	}
	q.link = time.Since(start)
	return q, nil
}

// compileChanged compiles the packages with a file changed since the plan
// last saw it, and those that import a package whose export changed.
//
// The changed packages compile at once, side by side, each against the
// archives the plan has (most edits change nothing a package exports);
// then, in dependency order, a package compiled against an import whose
// export has changed since compiles again.
func (p *plan) compileChanged(ctx context.Context) (quickBuild, error) {
	var q quickBuild
	dirty, now, err := p.changed()
	if err != nil {
		return q, err
	}
	start := time.Now()
	type result struct {
		archive, output string
		err             error
	}
	first := map[*sitePkg]*result{}
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.NumCPU())
	for _, sp := range p.pkgs {
		if !dirty[sp] && !sp.stale {
			continue
		}
		r, base := &result{}, p.nextArchive()
		first[sp] = r
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			r.archive, r.output, r.err = p.compile(ctx, sp, base)
		})
	}
	wg.Wait()
	defer func() { // the archives of the first round not kept
		for sp, r := range first {
			if r.archive != "" && p.archives[sp.path] != r.archive {
				os.Remove(r.archive)
			}
		}
	}()

	exported := map[string]bool{} // the packages compiled whose export changed
	for _, sp := range p.pkgs {
		again := slices.ContainsFunc(sp.imports, func(imp string) bool { return exported[imp] })
		r := first[sp]
		switch {
		case again:
			r = &result{}
			r.archive, r.output, r.err = p.compile(ctx, sp, p.nextArchive())
		case r == nil:
			continue
		}
		if r.err != nil {
			return q, r.err
		}
		if r.output != "" {
			q.output, q.compile = r.output, time.Since(start)
			return q, nil
		}
		q.compiled = append(q.compiled, sp.path)
		same, err := sameExport(p.archives[sp.path], r.archive)
		if err != nil {
			os.Remove(r.archive)
			return q, full("%v", err)
		}
		if !same {
			exported[sp.path] = true
			for _, other := range p.pkgs {
				if slices.Contains(other.imports, sp.path) {
					other.stale = true // until it compiles against this export
				}
			}
		}
		p.replace(sp.path, r.archive)
		sp.stale = false
		for _, f := range sp.files() {
			p.stamps[f] = now[f]
		}
	}
	q.compile = time.Since(start)
	return q, nil
}

// nextArchive names the next archive a quick build compiles, without its
// extension.
func (p *plan) nextArchive() string {
	p.made++
	return filepath.Join(p.dir, strconv.Itoa(p.made))
}

// readFromDisk reports whether the dev server reads file (relative to
// the root) from disk, never from the copy its binary embeds: the site's
// pages, layouts and public files, and island templates. An edit to one
// does not compile the package that embeds it again (for the demo, its
// root package: 0.3 s); the package's next compile, for an edit to its
// Go code, or the next full build embeds the file as it is then.
func readFromDisk(file string) bool {
	dir, rest, _ := strings.Cut(file, "/")
	switch dir {
	case "pages", "layouts", "public":
		return rest != ""
	case "fragments":
		return path.Ext(rest) == ".html"
	}
	return false
}

// short names a package of the module for the terminal: its path in the
// module (cmd/server), or the module's last element for its root package.
func (p *plan) short(pkg string) string {
	if rel, ok := strings.CutPrefix(pkg, p.module+"/"); ok {
		return rel
	}
	return path.Base(pkg)
}

// files are the files of sp that its archive is made of.
func (sp *sitePkg) files() []string { return append(slices.Clone(sp.goFiles), sp.embedded()...) }

// embedded are the files sp embeds, absolute.
func (sp *sitePkg) embedded() []string {
	var files []string
	for _, f := range sp.embedFiles {
		files = append(files, filepath.Join(sp.dir, filepath.FromSlash(f)))
	}
	return files
}

// listing is listing of d, one of sp's listed directories: every name
// where files are embedded, its Go files where none are.
func (sp *sitePkg) listing(d string) ([]string, error) {
	return listing(d, d != sp.dir || len(sp.embedFiles) > 0)
}

// changed finds the packages with a file changed since the plan last saw
// it, with the stamps it saw now, or says why a full build is needed.
func (p *plan) changed() (map[*sitePkg]bool, map[string]stamp, error) {
	now := map[string]stamp{}
	moved := func(file string) bool {
		s, _ := stampOf(file)
		now[file] = s
		return s != p.stamps[file]
	}
	for _, f := range p.modFiles {
		if moved(f) {
			return nil, nil, full("%s changed", p.rel(f))
		}
	}
	for _, f := range p.outside {
		if moved(f) {
			return nil, nil, full("%s changed, in a package from outside the module", f)
		}
	}
	for d, names := range p.outsideDirs {
		if got, err := listing(d, false); err != nil || !slices.Equal(got, names) {
			return nil, nil, full("a Go file was added to or removed from %s, outside the module", d)
		}
	}
	dirty := map[*sitePkg]bool{}
	for _, sp := range p.pkgs {
		for d, names := range sp.listings {
			got, err := sp.listing(d)
			if err != nil || !slices.Equal(got, names) {
				return nil, nil, full("a file was added to or removed from %s", p.rel(d))
			}
		}
		for _, f := range sp.ignored {
			if moved(f) {
				return nil, nil, full("%s changed, which its build constraints leave out", p.rel(f))
			}
		}
		for _, f := range sp.goFiles {
			if !moved(f) {
				continue
			}
			if h, err := header(f); err != nil || h == "" || h != sp.headers[f] {
				return nil, nil, full("%s changed its package clause, imports, build constraints or directives", p.rel(f))
			}
			dirty[sp] = true
		}
		for _, f := range sp.embedded() {
			if moved(f) && !readFromDisk(p.rel(f)) {
				dirty[sp] = true
			}
		}
	}
	if len(dirty) == 0 && !slices.ContainsFunc(p.pkgs, func(sp *sitePkg) bool { return sp.stale }) {
		return nil, nil, full("no file the server is built of changed")
	}
	return dirty, now, nil
}

// compile compiles sp to the archive base.a, as the go command would. A
// package that does not compile returns the compiler's messages as the
// go command shows them; one that cannot find an archive it imports (an
// import the plan does not know of) is an error.
func (p *plan) compile(ctx context.Context, sp *sitePkg, base string) (archive, output string, err error) {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return "", "", err
	}
	var cfg strings.Builder
	for from, to := range sp.importMap {
		fmt.Fprintf(&cfg, "importmap %s=%s\n", from, to)
	}
	for _, imp := range sp.imports {
		if a := p.archives[imp]; a != "" {
			fmt.Fprintf(&cfg, "packagefile %s=%s\n", imp, a)
		} else if imp != "unsafe" {
			return "", "", full("no archive of %s, which %s imports", imp, sp.path)
		}
	}
	if err := os.WriteFile(base+".importcfg", []byte(cfg.String()), 0o644); err != nil {
		return "", "", err
	}
	defer os.Remove(base + ".importcfg")
	pkgPath := sp.path
	if sp.name == "main" {
		pkgPath = "main"
	}
	args := []string{"-o", base + ".a", "-p", pkgPath, "-lang=" + sp.lang, "-complete", "-goversion", p.version,
		fmt.Sprintf("-c=%d", min(4, runtime.NumCPU())), "-nolocalimports", "-importcfg", base + ".importcfg"}
	if len(sp.embedPatterns) > 0 {
		ecfg, err := sp.embedConfig()
		if err != nil {
			return "", "", err
		}
		if err := os.WriteFile(base+".embedcfg", ecfg, 0o644); err != nil {
			return "", "", err
		}
		defer os.Remove(base + ".embedcfg")
		args = append(args, "-embedcfg", base+".embedcfg")
	}
	args = append(args, "-pack")
	for _, f := range sp.goFiles {
		args = append(args, "./"+p.rel(f))
	}
	cmd := exec.CommandContext(ctx, filepath.Join(p.tools, "compile"), args...)
	cmd.Dir, cmd.Env = p.root, p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(base + ".a")
		// Only an error the compiler places in a file of the site is the
		// site's; any other (a version the compiler refuses, an import the
		// plan does not know) asks the go command.
		if ctx.Err() != nil || !placed.Match(out) || bytes.Contains(out, []byte("could not import")) {
			return "", "", full("compile %s: %v: %s", sp.path, err, bytes.TrimSpace(out))
		}
		return "", "# " + sp.path + "\n" + string(dotSlash.ReplaceAll(out, nil)), nil
	}
	return base + ".a", "", nil
}

var (
	placed   = regexp.MustCompile(`(?m)^\S+\.go:\d+`)
	dotSlash = regexp.MustCompile(`(?m)^\./`)
)

// embedConfig is the compiler's -embedcfg for sp: the files each of its
// //go:embed patterns names. A pattern that names a directory names the
// files below it other than those whose path below it has a name that
// begins with . or _, unless the pattern begins with all:.
func (sp *sitePkg) embedConfig() ([]byte, error) {
	cfg := struct {
		Patterns map[string][]string
		Files    map[string]string
	}{map[string][]string{}, map[string]string{}}
	for _, pat := range sp.embedPatterns {
		glob, all := strings.CutPrefix(pat, "all:")
		var files []string
		for _, f := range sp.embedFiles {
			if embedMatch(glob, f, all) {
				files = append(files, f)
			}
		}
		cfg.Patterns[pat] = files
	}
	for _, f := range sp.embedFiles {
		cfg.Files[f] = filepath.Join(sp.dir, filepath.FromSlash(f))
	}
	return json.Marshal(cfg)
}

// embedMatch reports whether the //go:embed pattern glob names file.
func embedMatch(glob, file string, all bool) bool {
	if ok, _ := path.Match(glob, file); ok {
		return true
	}
	for dir := path.Dir(file); dir != "."; dir = path.Dir(dir) {
		if ok, _ := path.Match(glob, dir); ok {
			if all {
				return true
			}
			for _, name := range strings.Split(strings.TrimPrefix(file, dir+"/"), "/") {
				if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return false
				}
			}
			return true
		}
	}
	return false
}

// replace makes archive the one the plan links for pkgPath, and removes
// the one it replaces when a quick build made it.
func (p *plan) replace(pkgPath, archive string) {
	old := p.archives[pkgPath]
	p.archives[pkgPath] = archive
	if strings.HasPrefix(old, p.dir+string(filepath.Separator)) {
		os.Remove(old)
	}
}

// linkTo links the server to out with the full build's link command.
func (p *plan) linkTo(ctx context.Context, out string) error {
	var cfg strings.Builder
	for _, l := range p.cfgLines {
		cfg.WriteString(l + "\n")
	}
	for _, pkg := range slices.Sorted(maps.Keys(p.archives)) {
		fmt.Fprintf(&cfg, "packagefile %s=%s\n", pkg, p.archives[pkg])
	}
	cfgFile := filepath.Join(p.dir, "importcfg.link")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	args := append([]string{"-o", out, "-importcfg", cfgFile}, p.linkFlags...)
	cmd := exec.CommandContext(ctx, filepath.Join(p.tools, "link"), append(args, p.archives[p.main])...)
	cmd.Dir, cmd.Env = p.root, p.env
	if msg, err := cmd.CombinedOutput(); err != nil {
		return full("link: %v: %s", err, bytes.TrimSpace(msg))
	}
	return nil
}

// sameExport reports whether two archives export the same: whether what
// imports one may link with the other.
func sameExport(a, b string) (bool, error) {
	ea, err := exportData(a)
	if err != nil {
		return false, err
	}
	eb, err := exportData(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ea, eb), nil
}

// exportData is the export data in a compiled package's archive: its
// __.PKGDEF member from the line $$B on, after the header that names the
// toolchain and the build.
func exportData(archive string) ([]byte, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, fmt.Errorf("%s is not an archive", archive)
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return nil, fmt.Errorf("%s has no export data", archive)
		}
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: a bad member header", archive)
		}
		if strings.TrimSpace(string(hdr[:16])) != "__.PKGDEF" {
			if _, err := r.Discard(int(size + size%2)); err != nil {
				return nil, err
			}
			continue
		}
		def := make([]byte, size)
		if _, err := io.ReadFull(r, def); err != nil {
			return nil, err
		}
		i := bytes.Index(def, []byte("\n$$B\n"))
		if i < 0 {
			return nil, fmt.Errorf("%s has no export data", archive)
		}
		return def[i:], nil
	}
}

func (p *plan) rel(file string) string {
	if r, err := filepath.Rel(p.root, file); err == nil {
		return filepath.ToSlash(r)
	}
	return file
}
