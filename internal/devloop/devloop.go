// Package devloop is `atoll dev`: it builds a site's server with the
// atolldev tag, runs it in dev mode and keeps it current while you edit.
//
//	d := &devloop.Dev{Addr: "127.0.0.1:8080", Root: ".", Pkg: "./cmd/server", Env: os.Environ(), Out: os.Stdout, Err: os.Stderr}
//	err := d.Run(ctx) // until ctx ends
//
// What it does on a change:
//
//   - A Go file, go.mod or go.sum, or client/*.js in Atoll's own checkout
//     (the engine embeds its client, so it is built in like Go code): the
//     server is built again while the old one keeps serving. A build that
//     fails prints the compiler's errors and leaves the old server
//     running; one that succeeds replaces it (SIGTERM, wait, start). The
//     open tabs reload themselves when their event stream reconnects to a
//     server with another boot id.
//   - A file under pages/, layouts/ or public/: nothing here; the dev
//     server renders from disk and tells the tabs to reload
//     (server/devreload.go).
//
// Changes are seen through fsnotify, one watch per directory of the
// module (node_modules, bin, data, examples, testdata, tmp and hidden
// directories left out). The server gets ATOLL_DEV=1, ATOLL_ROOT and the
// rest of the environment, ATOLL_KEYS included. Without ATOLL_KEYS a
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
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/atollhq/atoll/internal/seal"
)

// Binary is where the dev server is built, under the root.
const Binary = "bin/dev-server"

// debounce gathers the events of one save, or of a checkout touching many
// files, into one build.
const debounce = 100 * time.Millisecond

// stopWait is how long a server is given to stop after SIGTERM before it
// is killed: its own shutdown deadline (ATOLL_SHUTDOWN_TIMEOUT, 10 s by
// default) and a margin.
const stopWait = 15 * time.Second

// startWait is how long a new server has to answer /readyz.
const startWait = 30 * time.Second

// Dev runs the dev loop.
type Dev struct {
	// Addr is the server's listen address; Root the module's root.
	Addr, Root string
	// Pkg is the server's main package, relative to Root; ./cmd/server
	// when empty.
	Pkg string
	// Env is the environment the server and the builds start from.
	Env []string
	// Out receives the tool's messages and the server's output; Err the
	// server's log and the compiler's errors.
	Out, Err io.Writer

	root   string // Root, absolute
	env    []string
	server *process
}

// process is a running server.
type process struct {
	cmd    *exec.Cmd
	exited chan error // receives Wait's result once
}

// Run builds and starts the server, then rebuilds and restarts it on every
// Go change until ctx ends, and stops it.
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

	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := watchTree(w, root); err != nil {
		return err
	}

	d.rebuild(ctx, "")
	defer d.stop()

	timer := time.NewTimer(debounce)
	timer.Stop()
	var goChange string
	for {
		var exited chan error
		if d.server != nil {
			exited = d.server.exited
		}
		select {
		case <-ctx.Done():
			d.printf("stopping")
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("the file watcher stopped")
			}
			if d.classify(w, ev) != changeGo {
				continue
			}
			goChange = d.rel(ev.Name)
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("the file watcher stopped")
			}
			d.printf("file watcher: %v", err)
		case <-timer.C:
			if goChange != "" {
				d.rebuild(ctx, goChange)
				goChange = ""
			}
		case err := <-exited:
			d.server = nil
			d.printf("the server stopped (%v); save a Go file to build and start it again", err)
		}
	}
}

// change is what an event means to the loop.
type change int

const (
	changeNone change = iota
	changeGo          // build and restart
)

// classify says what ev asks for, and watches a directory that appeared.
func (d *Dev) classify(w *fsnotify.Watcher, ev fsnotify.Event) change {
	name := filepath.Base(ev.Name)
	if ev.Op == fsnotify.Chmod || strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return changeNone // a mode change builds nothing new; editors' swap and backup files
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
			if skipDir(name) {
				return changeNone
			}
			hasGo, err := watchTree(w, ev.Name)
			if err != nil {
				d.printf("watch %s: %v", d.rel(ev.Name), err)
			}
			if hasGo {
				return changeGo
			}
			return changeNone
		}
	}
	rel := d.rel(ev.Name)
	switch {
	case rel == "go.mod" || rel == "go.sum":
		return changeGo
	case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
		return changeGo
	case filepath.Dir(rel) == "client" && strings.HasSuffix(name, ".js"):
		return changeGo // Atoll's own client, which the engine embeds
	}
	return changeNone
}

// rebuild builds the server and, when the build succeeds, replaces the
// running one; when it fails the running one stays. why is the file that
// changed, empty for the first build.
func (d *Dev) rebuild(ctx context.Context, why string) {
	start := time.Now()
	if why == "" {
		d.printf("building the server")
	} else {
		d.printf("%s changed: building", why)
	}
	// PGO (cmd/server/default.pgo) is for production speed; without it a
	// rebuild compiles and links sooner.
	build := exec.CommandContext(ctx, "go", "build", "-pgo=off", "-tags", "atolldev", "-o", Binary, d.Pkg)
	build.Dir, build.Env = d.root, d.Env
	out, err := build.CombinedOutput()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		if d.server != nil {
			d.printf("the build failed; the server that was running keeps running:")
		} else {
			d.printf("the build failed:")
		}
		d.Err.Write(out)
		return
	}
	built := time.Since(start)
	stopping := time.Now()
	hadServer := d.server != nil
	d.stop()
	stopped := time.Since(stopping)
	starting := time.Now()
	if err := d.start(ctx); err != nil {
		if ctx.Err() == nil {
			d.printf("%v", err)
		}
		return
	}
	base, _ := lookupEnv(d.env, "ATOLL_BASE_PATH")
	steps := fmt.Sprintf("built in %s", round(built))
	if hadServer {
		steps += fmt.Sprintf(", old server stopped in %s", round(stopped))
	}
	steps += fmt.Sprintf(", ready in %s", round(time.Since(starting)))
	d.printf("serving http://%s%s/ (pid %d; %s; %s in all)", d.host(), base, d.server.cmd.Process.Pid, steps, round(time.Since(start)))
}

// start starts the built server and waits until it is ready.
func (d *Dev) start(ctx context.Context) error {
	cmd := exec.Command(filepath.Join(d.root, Binary), "-addr", d.Addr)
	cmd.Dir, cmd.Env = d.root, d.env
	cmd.Stdout, cmd.Stderr = d.Out, d.Err
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the server: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	d.server = p

	ready := "http://" + d.host() + "/readyz"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startWait)
	for {
		if r, err := client.Get(ready); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not answer %s within %s", ready, startWait)
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case err := <-p.exited:
			t.Stop()
			d.server = nil
			return fmt.Errorf("the server stopped as it started (%v); save a file to try again", err)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// stop stops the running server, if any: SIGTERM, then a kill after
// stopWait.
func (d *Dev) stop() {
	p := d.server
	if p == nil {
		return
	}
	d.server = nil
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.cmd.Process.Kill()
	}
	t := time.NewTimer(stopWait)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		d.printf("the server did not stop within %s after SIGTERM: killed", stopWait)
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// serverEnv is Env with dev mode on and the root set. When ATOLL_KEYS is
// empty and ATOLL_DB names PostgreSQL (where the server keeps no key of
// its own and refuses to start without one), it adds a key made for this
// session, so that island URLs in the open tabs still open after a
// restart.
func (d *Dev) serverEnv() []string {
	var env []string
	for _, kv := range d.Env {
		if !strings.HasPrefix(kv, "ATOLL_DEV=") && !strings.HasPrefix(kv, "ATOLL_ROOT=") {
			env = append(env, kv)
		}
	}
	env = append(env, "ATOLL_DEV=1", "ATOLL_ROOT="+d.root)
	k, _ := lookupEnv(d.Env, "ATOLL_KEYS")
	db, _ := lookupEnv(d.Env, "ATOLL_DB")
	if strings.TrimSpace(k) == "" && (strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")) {
		d.printf("ATOLL_KEYS is not set: using a key made for this session")
		env = append(env, "ATOLL_KEYS="+seal.GenerateKey())
	}
	return env
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

func (d *Dev) printf(format string, args ...any) {
	fmt.Fprintf(d.Out, "atoll dev: "+format+"\n", args...)
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

// skipDir reports whether a directory holds nothing the server is built
// from: dependencies, build and run output, other modules, test data and
// hidden or scratch directories.
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
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
