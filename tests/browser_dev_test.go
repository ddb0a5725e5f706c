//go:build !race

package tests

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/internal/seal"
)

// TestBrowserDevLoop runs make dev's loop (atoll dev) on a copy of the
// module and measures, in a chromium tab the test never navigates, how
// long an edit takes to become visible: a template edit and a CSS edit at
// most 1 s, a Go edit (a rebuild and a restart) at most 5 s. Along the way:
// the event stream says hello with a retry and announces a change; a
// template error shows in the tab with its file and line, and the tab
// recovers by itself once it is fixed; a server restart ends the open
// streams at once rather than holding the shutdown up; a Go file that does
// not compile leaves the old server serving; Ctrl-C stops the tool and its
// server.
func TestBrowserDevLoop(t *testing.T) {
	root := devModuleCopy(t)
	dev := startDevTool(t, root)

	serving := dev.out.waitFor(t, regexp.MustCompile(`atoll dev: serving (http://\S+) \(pid (\d+);`), 5*time.Minute)
	home := serving[1]
	firstPID, _ := strconv.Atoi(serving[2])
	dev.pids = append(dev.pids, firstPID)

	bin, err := os.ReadFile(filepath.Join(root, "bin/dev-server"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range devBuildMarkers {
		if !bytes.Contains(bin, []byte(m)) {
			t.Errorf("the dev build does not hold %q: TestDevReloadIsNotInTheServerBinary checks nothing", m)
		}
	}

	// A stream of our own, read beside the browser's.
	stream := openDevEvents(t, strings.TrimSuffix(home, "/")+"/_atoll/dev/events")
	hello := stream.waitFor(t, regexp.MustCompile(`^data: (\S+)$`), 5*time.Second)
	if !stream.has("retry: 200") || !stream.has("event: hello") {
		t.Fatalf("the event stream does not open with a retry and a hello: %q", stream.all())
	}

	ctx, msgs := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(home)); err != nil {
		t.Fatalf("open the home page: %v", err)
	}
	devSettled(t, ctx)

	// (a) A template edit.
	took := devAfterEdit(t, ctx, func() {
		devEdit(t, root, "pages/index.html", "<h1>Server Islands</h1>", "<h1>Server Islands, edited</h1>")
	}, `document.querySelector(".hero h1")?.textContent === "Server Islands, edited"`, 10*time.Second)
	t.Logf("template edit → visible: %s", took)
	stream.waitFor(t, regexp.MustCompile(`^event: reload$`), 5*time.Second)
	devSettled(t, ctx)

	// (b) A CSS edit: a rule that changes a computed style.
	took = devAfterEdit(t, ctx, func() {
		devEdit(t, root, "public/css/site.css", "", "\n.hero h1 { letter-spacing: 7px; }\n")
	}, `getComputedStyle(document.querySelector(".hero h1")).letterSpacing === "7px"`, 10*time.Second)
	t.Logf("CSS edit → visible: %s", took)
	devSettled(t, ctx)
	// The reloads broke no policy and logged no error.
	expectCleanConsole(t, ctx, msgs)

	// A template that does not render: the tab shows the error with its
	// file and line, and reloads itself once the template is fixed.
	broken := "\n{{ .NoSuchField.Deeper }}\n"
	took = devAfterEdit(t, ctx, func() { devEdit(t, root, "pages/index.html", "", broken) },
		`document.querySelector("[data-dev-error]")?.textContent.includes("pages/index.html:")`, 10*time.Second)
	t.Logf("template error → visible: %s", took)
	took = devAfterEdit(t, ctx, func() { devEdit(t, root, "pages/index.html", broken, "") },
		`document.querySelector(".hero h1")?.textContent === "Server Islands, edited"`, 10*time.Second)
	t.Logf("template fixed → visible: %s", took)
	devSettled(t, ctx)

	// (c) A Go edit: an island's text, which needs a rebuild and a restart.
	took = devAfterEdit(t, ctx, func() {
		devEdit(t, root, "fragments/server_info.go", `<dt>Server Time</dt><dd data-field="time">`, `<dt>Server Clock</dt><dd data-field="time">`)
	}, `document.querySelector('[data-field="time"]')?.previousElementSibling?.textContent === "Server Clock"`, 60*time.Second)
	restarted := dev.out.waitFor(t, regexp.MustCompile(`atoll dev: serving \S+ \(pid (\d+); built in (\S+), old server stopped in (\S+), ready in (\S+);`), 10*time.Second)
	t.Logf("Go edit → visible: %s (the tool: built in %s, old server stopped in %s, new one ready in %s)", took, restarted[2], restarted[3], restarted[4])
	secondPID, _ := strconv.Atoi(restarted[1])
	dev.pids = append(dev.pids, secondPID)
	if stopped, err := time.ParseDuration(restarted[3]); err != nil || stopped > 8*time.Second {
		t.Errorf("the old server took %s to stop: an open event stream holds its shutdown up", restarted[3])
	}
	if !stream.ended(5 * time.Second) {
		t.Error("our event stream is still open after the server it came from stopped")
	}
	if devAlive(firstPID) {
		t.Errorf("the old server, pid %d, still runs", firstPID)
	}
	// A new stream says hello with another boot id.
	again := openDevEvents(t, strings.TrimSuffix(home, "/")+"/_atoll/dev/events")
	if h := again.waitFor(t, regexp.MustCompile(`^data: (\S+)$`), 5*time.Second); strings.Split(h[1], ".")[0] == strings.Split(hello[1], ".")[0] {
		t.Errorf("the restarted server says hello with the old boot id %s", h[1])
	}

	// (d) A Go file that does not compile: the errors are printed, and the
	// server that was running keeps serving.
	devEdit(t, root, "fragments/server_info.go", "", "\nfunc broken() { return 1 }\n")
	dev.out.waitFor(t, regexp.MustCompile(`the build failed; the server that was running keeps running`), 60*time.Second)
	dev.out.waitFor(t, regexp.MustCompile(`fragments/server_info\.go:\d+`), 5*time.Second)
	if r, err := (&http.Client{Timeout: 10 * time.Second}).Get(home); err != nil || r.StatusCode != 200 {
		t.Errorf("the page after a failed build: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	if !devAlive(secondPID) {
		t.Errorf("the server, pid %d, stopped after a failed build", secondPID)
	}

	dev.stop(t)
}

// devTool is atoll dev running on a copy of the module.
type devTool struct {
	cmd  *exec.Cmd
	out  *devLines
	done chan struct{}
	pids []int // the servers it started
}

// startDevTool builds cmd/atoll in root and starts atoll dev there on a free
// loopback port, in a process group of its own so that the cleanup can
// end whatever is left.
func startDevTool(t *testing.T, root string) *devTool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tool := filepath.Join(t.TempDir(), "atoll")
	build := exec.CommandContext(ctx, "go", "build", "-o", tool, "./cmd/atoll")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cmd/atoll: %v\n%s", err, out)
	}
	cmd := exec.Command(tool, "dev", "-addr", devFreeAddr(t))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ATOLL_KEYS="+seal.GenerateKey())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	d := &devTool{cmd: cmd, out: newDevLines(), done: make(chan struct{})}
	go d.out.read(pr)
	go func() { cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the test failed before stopping it
			<-d.done
		}
		if t.Failed() {
			t.Logf("atoll dev said:\n%s", strings.Join(d.out.all(), "\n"))
		}
	})
	return d
}

// stop is Ctrl-C: the tool must stop its server and itself.
func (d *devTool) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatal("atoll dev did not stop within 30s of SIGINT")
	}
	for _, pid := range d.pids {
		if devAlive(pid) {
			t.Errorf("server pid %d outlived atoll dev", pid)
		}
	}
}

// devAlive reports whether a process with this pid exists.
func devAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// devFreeAddr is a loopback address with a port free a moment ago: the dev
// server needs the same port across restarts, so port 0 will not do.
func devFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// devModuleCopy copies the module, as a developer's checkout, into a
// temporary directory: everything but dependencies, build output, other
// modules and the tests.
func devModuleCopy(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	err = filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if e.IsDir() {
			switch {
			case rel == ".":
				return nil
			case rel == "node_modules", rel == "bin", rel == "data", rel == "examples", rel == "tests", strings.HasPrefix(e.Name(), "."):
				return filepath.SkipDir
			}
			return os.Mkdir(filepath.Join(dst, rel), 0o755)
		}
		if !e.Type().IsRegular() || strings.HasSuffix(rel, ".db") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy the module: %v", err)
	}
	return dst
}

// devEdit replaces old with new in a file of root, or appends new when old
// is empty, as an editor saves.
func devEdit(t *testing.T, root, file, old, new string) {
	t.Helper()
	path := filepath.Join(root, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b) + new
	if old != "" {
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s does not hold %q", file, old)
		}
		s = strings.Replace(string(b), old, new, 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// devAfterEdit marks the open tab, makes the edit, and waits until the tab
// has reloaded by itself (the mark is gone) and shows what the JavaScript
// condition looks for. It returns the time from the edit until then, and
// gives up after limit.
func devAfterEdit(t *testing.T, ctx context.Context, change func(), condition string, limit time.Duration) time.Duration {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.devLoopMark = true`)); err != nil {
		t.Fatalf("mark the tab: %v", err)
	}
	start := time.Now()
	change()
	if !devPoll(ctx, `!window.devLoopMark && (`+condition+`)`, limit) {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({mark: !!window.devLoopMark, url: location.href, events: window.atollDevReload?.readyState})`))
		t.Fatalf("not visible after %s: %s; the tab: %s", limit, condition, state)
	}
	return time.Since(start)
}

// devSettled waits until the tab's islands have arrived and its dev event
// stream is open, so that the next edit finds the tab listening.
func devSettled(t *testing.T, ctx context.Context) {
	t.Helper()
	if !devPoll(ctx, `document.querySelector('.island[data-island="server-info"]:not([aria-busy]) [data-field="time"]') && window.atollDevReload?.readyState === EventSource.OPEN`, 10*time.Second) {
		t.Fatal("the tab's islands did not arrive, or its dev event stream did not open")
	}
}

// devPoll evaluates expr in the tab every 10 ms until it is true, across
// reloads, for at most limit.
func devPoll(ctx context.Context, expr string, limit time.Duration) bool {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		ok, err := chromedp.Run(pctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(500*time.Millisecond)))
		cancel()
		if err == nil && ok {
			return true
		}
		// A poll ends with an error when the page reloads under it, or
		// when its own time is up: poll again.
	}
	return false
}

// openDevEvents reads an event stream into lines until it ends, or until
// the test ends.
func openDevEvents(t *testing.T, url string) *devLines {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if ct := r.Header.Get("Content-Type"); r.StatusCode != 200 || ct != "text/event-stream" || r.Header.Get("Cache-Control") != "no-store" {
		cancel()
		t.Fatalf("GET %s: %d %s, Cache-Control %q", url, r.StatusCode, ct, r.Header.Get("Cache-Control"))
	}
	l := newDevLines()
	done := make(chan struct{})
	go func() { defer close(done); l.read(r.Body) }()
	t.Cleanup(func() { cancel(); r.Body.Close(); <-done })
	return l
}

// devLines collects the lines a reader gives, for a test to wait on.
type devLines struct {
	mu      sync.Mutex
	got     []string
	next    int // where waitFor looks from
	eof     bool
	changed chan struct{} // closed, and replaced, at each new line and at the end
}

func newDevLines() *devLines { return &devLines{changed: make(chan struct{})} }

func (l *devLines) read(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		l.mu.Lock()
		l.got = append(l.got, s.Text())
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.eof = true
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *devLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

func (l *devLines) has(line string) bool {
	for _, g := range l.all() {
		if g == line {
			return true
		}
	}
	return false
}

// waitFor returns the submatches of the first line matching re after the
// line the last waitFor returned, waiting up to limit for it.
func (l *devLines) waitFor(t *testing.T, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for i := l.next; i < len(l.got); i++ {
			if m := re.FindStringSubmatch(l.got[i]); m != nil {
				l.next = i + 1
				l.mu.Unlock()
				return m
			}
		}
		changed, eof := l.changed, l.eof
		l.mu.Unlock()
		if eof {
			t.Fatalf("no line matching %s before the output ended", re)
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no line matching %s within %s", re, limit)
		}
	}
}

// ended reports whether the stream ended within limit.
func (l *devLines) ended(limit time.Duration) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		changed, eof := l.changed, l.eof
		l.mu.Unlock()
		if eof {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}
