package devloop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/atollhq/atoll/internal/devtab"
)

// stopWait is how long a server is given to stop after SIGTERM before it
// is killed: its own shutdown deadline (ATOLL_SHUTDOWN_TIMEOUT, 10 s by
// default) and a margin.
const stopWait = 15 * time.Second

// startWait is how long a new server has to answer /readyz.
const startWait = 30 * time.Second

// buildFlags are what a dev build leaves out: profile-guided optimisation
// (cmd/server/default.pgo is for production speed), DWARF debug
// information and the symbol table (stack traces keep their functions,
// files and lines without them), all of which only make the compile and
// the link longer; and, unless ATOLL_DB is a postgres:// URL, the
// PostgreSQL driver (the atollnopostgres tag): the demo's dev binary is 20 MB
// instead of 24, and a Go edit builds about 0.25 s sooner.
func (d *Dev) buildFlags() []string {
	tags := "atolldev"
	if !d.postgres() {
		tags += ",atollnopostgres"
	}
	return []string{"-pgo=off", "-ldflags=-s -w", "-buildvcs=false", "-tags", tags}
}

// process is a running server.
type process struct {
	cmd      *exec.Cmd
	addr     string
	proxy    *httputil.ReverseProxy
	tr       *http.Transport
	out      *tail
	exited   chan struct{} // closed once the process has exited
	err      error         // Wait's result, once exited is closed
	stopping bool          // the loop stopped it: its exit is no news
}

// rebuild builds the server and, when the build succeeds, starts it
// beside the running one and switches to it once it is ready. When the
// build or the start fails the running server stays, and the tabs show
// the error. why is the file that changed, empty for the first build.
func (d *Dev) rebuild(ctx context.Context, why string) {
	start := time.Now()
	defer d.removeWork() // a full build's, once the plan is made or when it is not
	if why == "" {
		d.say(styleNote, "building the server")
	} else {
		d.say(styleNote, "%s changed: building", why)
	}
	next := Binary + ".next"
	if err := os.MkdirAll(filepath.Join(d.root, planDir), 0o755); err != nil {
		d.say(styleError, "%v", err)
		return
	}
	out, steps, quick := d.build(ctx, next)
	if ctx.Err() != nil {
		return
	}
	built := time.Since(start)
	if out != "" {
		p := devtab.ParseBuild(d.root, out)
		d.hub.problem(&p)
		if d.backend() != nil {
			d.say(styleError, "the build failed after %s; the server that was running keeps serving:", round(built))
		} else {
			d.say(styleError, "the build failed after %s:", round(built))
		}
		d.errorBlock(out)
		return
	}
	if err := os.Rename(filepath.Join(d.root, next), filepath.Join(d.root, Binary)); err != nil {
		d.say(styleError, "%v", err)
		return
	}
	starting := time.Now()
	p, err := d.start(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		prob := devtab.Locate(d.root, devtab.KindStartup, "The server did not start", p.out.String())
		if prob.Message == "" {
			prob.Message = err.Error()
		}
		d.hub.problem(&prob)
		d.say(styleError, "%v; the server that was running keeps serving. Its output:", err)
		d.errorBlock(p.out.String())
		if !quick {
			d.replan(ctx, start)
		}
		return
	}
	ready := time.Since(starting)
	old := d.swap(p)
	d.hub.problem(nil)
	d.hub.reload()
	if old != nil {
		d.stopping.Go(func() { d.stop(old) })
	}
	d.say(styleOK, "serving http://%s%s/ (pid %d; built in %s (%s), ready in %s; %s in all)",
		d.host(), d.base, p.cmd.Process.Pid, round(built), steps, round(ready), round(time.Since(start)))
	go d.watchExit(p)
	if !quick {
		d.replan(ctx, start)
	}
}

// build builds the server to next, under the root: a quick build when
// the plan allows one, else a full one with the go command. It returns the
// build's messages when it failed, else what took the time, and whether
// the build was a quick one.
func (d *Dev) build(ctx context.Context, next string) (failed, steps string, quick bool) {
	if d.plan != nil {
		q, err := d.plan.build(ctx, filepath.Join(d.root, next))
		if err == nil {
			if q.output != "" {
				return q.output, "", true
			}
			names := make([]string, len(q.compiled))
			for i, pkg := range q.compiled {
				names[i] = d.plan.short(pkg)
			}
			return "", fmt.Sprintf("compile %s, link %s; quick: compiled %s", round(q.compile), round(q.link), strings.Join(names, ", ")), true
		}
		if ctx.Err() != nil {
			return "", "", false
		}
		d.say(styleNote, "a full build: %v", err)
	}
	// A full build: the go command. Its action graph and work directory
	// (-work) hold what the next plan needs: the link command and its
	// import config. The plan stays until the next is made: after a full
	// build that fails (an import being typed), a save that undoes what
	// the plan could not follow builds quickly again.
	d.removeWork()
	args := append([]string{"build"}, d.buildFlags()...)
	args = append(args, "-debug-trace="+traceFile, "-debug-actiongraph="+actionGraph, "-work", "-o", next, d.Pkg)
	build := exec.CommandContext(ctx, "go", args...)
	build.Dir, build.Env = d.root, d.Env
	began := time.Now()
	out, err := build.CombinedOutput()
	took := time.Since(began)
	var lines []string
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if w, ok := strings.CutPrefix(l, "WORK="); ok {
			d.work = strings.TrimSpace(w)
			continue
		}
		lines = append(lines, l)
	}
	if err != nil {
		d.removeWork()
		if msg := strings.Join(lines, ""); msg != "" {
			return msg, "", false
		}
		return err.Error(), "", false
	}
	steps = "go build"
	if link, ok := linkTime(filepath.Join(d.root, traceFile)); ok {
		steps = fmt.Sprintf("go build: compile %s, link %s", round(took-link), round(link))
	}
	return "", steps, false
}

// replan makes the plan of quick builds from the full build that began
// at since, and removes its work directory. Without a plan, the next
// build is a full one too.
func (d *Dev) replan(ctx context.Context, since time.Time) {
	defer d.removeWork()
	p, err := makePlan(ctx, d.root, d.Env, d.buildFlags(), d.Pkg, filepath.Join(d.root, actionGraph), since)
	// The new plan links the archives the go command made, in its cache;
	// the old plan's own are done with.
	old, _ := filepath.Glob(filepath.Join(d.root, planDir, "*.a"))
	for _, f := range old {
		os.Remove(f)
	}
	d.plan = p
	if err != nil && ctx.Err() == nil {
		d.say(styleNote, "the next build is a full one too: %v", err)
	}
}

// removeWork removes the last full build's work directory.
func (d *Dev) removeWork() {
	if d.work != "" {
		os.RemoveAll(d.work)
		d.work = ""
	}
}

// start starts the built server on a free loopback port and waits until
// it is ready. It returns the process even on error, for its output.
func (d *Dev) start(ctx context.Context) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return &process{out: &tail{}}, err
	}
	cmd := exec.Command(filepath.Join(d.root, Binary), "-addr", addr)
	cmd.Dir, cmd.Env = d.root, d.env
	p := &process{cmd: cmd, addr: addr, out: &tail{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = teeWriter{d.Err, p.out, &d.outMu}, teeWriter{d.Err, p.out, &d.outMu}
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return p, fmt.Errorf("start the server: %w", err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()

	ready := "http://" + addr + "/readyz"
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(startWait)
	for {
		if r, err := client.Get(ready); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			d.stop(p)
			return p, fmt.Errorf("the server did not answer %s within %s", ready, startWait)
		}
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-p.exited:
			t.Stop()
			return p, fmt.Errorf("the server stopped as it started (%v)", p.err)
		case <-ctx.Done():
			t.Stop()
			d.stop(p)
			return p, ctx.Err()
		case <-t.C:
		}
	}
	p.tr = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	p.proxy = newProxy(d, p, &url.URL{Scheme: "http", Host: addr})
	return p, nil
}

// newProxy is the reverse proxy to the server p at target, with a
// transport of its own (p.tr): once p is replaced, no request of the new
// server's can pick up one of p's connections as p closes them.
func newProxy(d *Dev, p *process, target *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the site sees the address the browser used
			r.SetXForwarded()
		},
		Transport:     p.tr,
		FlushInterval: -1, // island batches are streams: each message goes on at once
		ErrorHandler:  d.proxyError(p),
	}
}

// swap makes p the server the proxy sends requests to, and returns the
// one it replaces.
func (d *Dev) swap(p *process) *process {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.current
	d.current = p
	return old
}

// backend is the server requests go to, nil when none runs.
func (d *Dev) backend() *process {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current
}

// watchExit reports a server that stops by itself (a crash, a fatal
// error): the tabs show its last output until a save starts another.
func (d *Dev) watchExit(p *process) {
	<-p.exited
	d.mu.Lock()
	if d.current == p {
		d.current = nil
	}
	stopping := p.stopping
	d.mu.Unlock()
	if stopping {
		return
	}
	prob := devtab.Locate(d.root, devtab.KindStartup, "The server stopped", p.out.String())
	if prob.Message == "" {
		prob.Message = fmt.Sprint(p.err)
	}
	d.hub.problem(&prob)
	d.say(styleError, "the server stopped (%v); save a file to build and start it again", p.err)
}

// stop stops p: SIGTERM, then a kill after stopWait. Requests in flight
// finish first (the server shuts down gracefully).
func (d *Dev) stop(p *process) {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	d.mu.Lock()
	p.stopping = true
	d.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.cmd.Process.Kill()
	}
	if p.tr != nil {
		// The proxy's idle connections would hold the server's graceful
		// shutdown open: nothing will be sent on them again.
		p.tr.CloseIdleConnections()
	}
	t := time.NewTimer(stopWait)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		d.say(styleError, "the server did not stop within %s after SIGTERM: killed", stopWait)
		p.cmd.Process.Kill()
		<-p.exited
	}
	if p.tr != nil {
		p.tr.CloseIdleConnections()
	}
}

// stopAll stops the server that runs, when the loop ends, and waits for
// the replaced ones still stopping: none outlives atoll dev.
func (d *Dev) stopAll() {
	d.stop(d.swap(nil))
	d.stopping.Wait()
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// tail keeps the last lines a server wrote, for the error it stopped with.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 16 << 10

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailSize:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(stripANSI(t.buf))
}

// stripANSI drops terminal colour sequences.
func stripANSI(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '[' {
			j := i + 2
			for j < len(b) && (b[j] < '@' || b[j] > '~') {
				j++
			}
			i = j
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// teeWriter writes to w under mu (so server output and the tool's lines
// do not interleave mid-line) and to t.
type teeWriter struct {
	w  interface{ Write([]byte) (int, error) }
	t  *tail
	mu *sync.Mutex
}

func (tw teeWriter) Write(b []byte) (int, error) {
	tw.t.Write(b)
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return tw.w.Write(b)
}

// problemJSON is p as the tabs receive it; "null" for none.
func problemJSON(p *devtab.Problem) string {
	b, _ := json.Marshal(p)
	return string(bytes.TrimSpace(b))
}

// errorBlock writes a build's or a server's output so that it stands out
// from the page views: indented, in red on a terminal.
func (d *Dev) errorBlock(text string) {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return
	}
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		b.WriteString("  │ ")
		b.WriteString(l)
		b.WriteString("\n")
	}
	d.outMu.Lock()
	defer d.outMu.Unlock()
	if d.color {
		fmt.Fprint(d.Out, "\x1b[31m"+b.String()+"\x1b[0m")
	} else {
		fmt.Fprint(d.Out, b.String())
	}
}
