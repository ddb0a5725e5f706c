// Package devloop is `atoll dev`: it serves a site while you edit it, from
// a proxy in front of the site's server that never drops a request.
//
//	d := &devloop.Dev{Addr: "127.0.0.1:8080", Root: ".", Pkg: "./cmd/server", Env: os.Environ(), Out: os.Stdout, Err: os.Stderr}
//	err := d.Run(ctx) // until ctx ends
//
// The proxy listens on Addr. Behind it runs the site's server, built with
// the atolldev tag and started with ATOLL_DEV=1 and ATOLL_ROOT, on a
// loopback port of its own. The proxy also serves the tabs' event stream
// ({base}/_atoll/dev/events) and the dev script, and writes one line per
// page view. What it does on a change:
//
//   - A Go file, go.mod or go.sum, or client/*.js in Atoll's own checkout
//     (the engine embeds its client): the server is built again beside
//     the running one, which keeps serving. A new server that builds is
//     started on another port; once it answers /readyz the proxy sends
//     new requests to it, tells the tabs to reload and stops the old one,
//     whose requests in flight finish. A build that fails, or a server
//     that stops before it is ready, leaves the old server serving, and
//     the error shows in the tabs (file, line, column, the lines around
//     it) until a save fixes it.
//   - A stylesheet under public/: the tabs swap it in place, keeping
//     their state.
//   - Any other file (page, layout and island templates, scripts, images):
//     the tabs reload; the dev server reads them from disk, so nothing is
//     built. A page that no longer renders shows its error over the tab.
//
// Changes are seen through fsnotify, one watch per directory of the
// module (node_modules, bin, data, examples, testdata, tmp and hidden
// directories left out). The server gets the rest of the environment,
// ATOLL_KEYS included, and ATOLL_LOG_LEVEL=warn unless it is set, so the
// terminal shows page views, builds and errors. Without ATOLL_KEYS a
// server on SQLite keeps a key of its own beside the database, so island
// URLs in the open tabs still open after a restart; for one on
// PostgreSQL, which needs ATOLL_KEYS, the loop makes a key for the
// session.
package devloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/seal"
)

// Binary is where the dev server is built, under the root.
const Binary = "bin/dev-server"

// debounce gathers the events of one save (an editor truncates, writes,
// renames) or of a checkout touching many files into one change.
const debounce = 10 * time.Millisecond

// Dev runs the dev loop.
type Dev struct {
	// Addr is the address the proxy listens on; Root the module's root.
	Addr, Root string
	// Pkg is the server's main package, relative to Root; ./cmd/server
	// when empty.
	Pkg string
	// Env is the environment the server and the builds start from.
	Env []string
	// Out receives the tool's messages and the page views; Err the
	// server's log and the compiler's errors.
	Out, Err io.Writer

	root  string // Root, absolute
	base  string // the site's base path
	env   []string
	color bool
	hub   *hub

	// plan is what quick builds follow, nil when the next build is a full
	// one; work is the last full build's work directory until the plan is
	// made. Only the loop's build goroutine uses them.
	plan *plan
	work string

	mu      sync.Mutex
	current *process // the server the proxy sends requests to; nil when none runs
	// stopping counts the replaced servers still being stopped.
	stopping sync.WaitGroup
	outMu    sync.Mutex
}

// Run serves the proxy, builds and starts the server, then follows every
// change until ctx ends, and stops the server.
func (d *Dev) Run(ctx context.Context) error {
	root, err := filepath.Abs(d.Root)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("%s is not a module's root: %w", d.Root, err)
	}
	if d.Pkg == "" {
		d.Pkg = "./cmd/server"
	}
	d.root = root
	d.env = d.serverEnv()
	d.base, _ = lookupEnv(d.env, "ATOLL_BASE_PATH")
	d.base = strings.TrimRight(d.base, "/")
	d.hub = newHub()
	d.color = isTerminal(d.Out)

	ln, err := net.Listen("tcp", d.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", d.Addr, err)
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		d.hub.close() // ends the tabs' streams, so Shutdown need not wait for them
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := watchTree(w, root); err != nil {
		return err
	}

	builds := make(chan string, 1)
	var building sync.WaitGroup
	building.Add(1)
	go func() {
		defer building.Done()
		for why := range builds {
			d.rebuild(ctx, why)
		}
	}()
	defer func() {
		close(builds)
		building.Wait()
		d.stopAll()
	}()
	builds <- ""

	timer := time.NewTimer(debounce)
	timer.Stop()
	var goChange string
	styles := map[string]bool{}
	reload := ""
	for {
		select {
		case <-ctx.Done():
			d.say(styleNote, "stopping")
			return nil
		case err := <-served:
			return fmt.Errorf("the proxy stopped: %w", err)
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("the file watcher stopped")
			}
			switch d.classify(w, ev) {
			case changeGo:
				goChange = d.rel(ev.Name)
			case changeStyle:
				styles[d.asset(ev.Name)] = true
			case changeReload:
				reload = d.rel(ev.Name)
			default:
				continue
			}
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("the file watcher stopped")
			}
			d.say(styleError, "file watcher: %v", err)
		case <-timer.C:
			if goChange != "" {
				select {
				case builds <- goChange:
				default: // a build is already waiting; it will see this change too
				}
				goChange = ""
			}
			switch {
			case reload != "":
				d.hub.reload()
				d.say(styleNote, "%s changed: reloading the tabs", reload)
			case len(styles) > 0:
				for file := range styles {
					d.hub.style(file)
					d.say(styleNote, "public/%s changed: swapped in place", file)
				}
			}
			reload = ""
			clear(styles)
		}
	}
}

// change is what an event means to the loop.
type change int

const (
	changeNone   change = iota
	changeGo            // build and switch servers
	changeStyle         // swap a stylesheet in the tabs
	changeReload        // reload the tabs
)

// classify says what ev asks for, and watches a directory that appeared.
func (d *Dev) classify(w *fsnotify.Watcher, ev fsnotify.Event) change {
	name := filepath.Base(ev.Name)
	if ev.Op == fsnotify.Chmod || strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasSuffix(name, ".swp") {
		return changeNone // a mode change changes nothing served; editors' swap and backup files
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
			if skipDir(name) {
				return changeNone
			}
			hasGo, err := watchTree(w, ev.Name)
			if err != nil {
				d.say(styleError, "watch %s: %v", d.rel(ev.Name), err)
			}
			if hasGo {
				return changeGo
			}
			return changeReload
		}
	}
	rel := d.rel(ev.Name)
	switch {
	case rel == "go.mod" || rel == "go.sum":
		return changeGo
	case strings.HasSuffix(name, "_test.go"):
		return changeNone
	case strings.HasSuffix(name, ".go"):
		return changeGo
	case filepath.Dir(rel) == "client" && strings.HasSuffix(name, ".js"):
		return changeGo // Atoll's own client, which the engine embeds
	case strings.HasPrefix(rel, "public/") && strings.HasSuffix(name, ".css") && !ev.Has(fsnotify.Remove) && !ev.Has(fsnotify.Rename):
		return changeStyle
	}
	return changeReload
}

// asset is a file's name under public/.
func (d *Dev) asset(path string) string { return strings.TrimPrefix(d.rel(path), "public/") }

// serverEnv is Env with dev mode on, the root set and, unless it is set,
// the log level at warn: the proxy writes the page views. When ATOLL_KEYS
// is empty and ATOLL_DB names PostgreSQL (where the server keeps no key
// of its own and refuses to start without one), it adds a key made for
// this session, so that island URLs in the open tabs still open after a
// restart.
func (d *Dev) serverEnv() []string {
	var env []string
	for _, kv := range d.Env {
		if !strings.HasPrefix(kv, "ATOLL_DEV=") && !strings.HasPrefix(kv, "ATOLL_ROOT=") && !strings.HasPrefix(kv, "ATOLL_ADDR=") {
			env = append(env, kv)
		}
	}
	env = append(env, "ATOLL_DEV=1", "ATOLL_ROOT="+d.root)
	if l, _ := lookupEnv(d.Env, "ATOLL_LOG_LEVEL"); l == "" {
		env = append(env, "ATOLL_LOG_LEVEL=warn")
	}
	k, _ := lookupEnv(d.Env, "ATOLL_KEYS")
	if strings.TrimSpace(k) == "" && d.postgres() {
		d.say(styleNote, "ATOLL_KEYS is not set: using a key made for this session")
		env = append(env, "ATOLL_KEYS="+seal.GenerateKey())
	}
	return env
}

// postgres reports whether the environment's ATOLL_DB names PostgreSQL.
func (d *Dev) postgres() bool {
	db, _ := lookupEnv(d.Env, "ATOLL_DB")
	return config.IsPostgres(db)
}

// host is Addr with a loopback host when it names none or all interfaces.
func (d *Dev) host() string {
	host, port, err := net.SplitHostPort(d.Addr)
	if err != nil {
		return d.Addr
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func (d *Dev) rel(path string) string {
	if r, err := filepath.Rel(d.root, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}

// lookupEnv finds key in env; the last setting wins, as in exec.
func lookupEnv(env []string, key string) (string, bool) {
	var v string
	var ok bool
	for _, kv := range env {
		if k, val, found := strings.Cut(kv, "="); found && k == key {
			v, ok = val, true
		}
	}
	return v, ok
}

// skipDir reports whether a directory holds nothing the site is built or
// served from: dependencies, build and run output, other modules, test
// data and hidden or scratch directories.
func skipDir(name string) bool {
	switch name {
	case "node_modules", "bin", "data", "examples", "testdata", "tmp":
		return true
	}
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// watchTree watches dir and the directories below it that skipDir keeps,
// and reports whether it found a .go file.
func watchTree(w *fsnotify.Watcher, dir string) (hasGo bool, err error) {
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			if strings.HasSuffix(e.Name(), ".go") {
				hasGo = true
			}
			return nil
		}
		if path != dir && skipDir(e.Name()) {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != dir {
			return filepath.SkipDir // another module, such as tests/: nothing of it is built into the server
		}
		if err := w.Add(path); err != nil {
			return fmt.Errorf("watch %s: %w", path, err)
		}
		return nil
	})
	return hasGo, err
}

// round shortens d for a message.
func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
