//go:build !race

// The longest tests of the suite live in files named zz_*: go test resumes
// its parallel tests last-declared first, so these start as soon as the
// parallel phase does, and the run does not end waiting on one of them.

package tests

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/internal/seal"
)

// TestBrowserDevLoop runs make dev's loop (atoll dev) on a copy of the
// module, with one chromium tab the test never navigates, and measures
// how long each kind of edit takes to show in it:
//
//   - a stylesheet edit is swapped in place: no reload, and the typed
//     input, the focus, the scroll position and the page's own state stay;
//   - a page template edit and an island template file edit show after a
//     reload, without a Go build;
//   - a Go edit builds a new server beside the old one: no request fails
//     while it builds and switches, and the tab reloads once it serves;
//   - a template error, a Go compile error and a server that fails at
//     startup show as an overlay in the tab (file, line, the lines around
//     it, the message), in light and dark, allowed by the page's policy;
//     the old server keeps serving, other pages keep rendering, and the
//     overlay clears by itself once the file is fixed;
//   - the terminal shows one line per page view and no request log;
//   - Ctrl-C stops the tool and its servers.
//
// The times are logged (t.Logf), not asserted: docs/DEVLOOP.md reports
// them. Only bounds far above the targets fail the test.
func TestBrowserDevLoop(t *testing.T) {
	t.Parallel()
	root := devModuleCopy(t)
	dev := startDevTool(t, root)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		t.Logf("load average at the start: %s", strings.TrimSpace(string(b)))
	}
	defer func() {
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			t.Logf("load average at the end: %s", strings.TrimSpace(string(b)))
		}
	}()

	serving := dev.out.waitFor(t, devServing, 5*time.Minute)
	home := serving[1]
	dev.pids = append(dev.pids, atoi(serving[2]))

	bin, err := os.ReadFile(filepath.Join(root, "bin/dev-server"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range devBuildMarkers {
		if !bytes.Contains(bin, []byte(m)) {
			t.Errorf("the dev build does not hold %q: TestDevReloadIsNotInTheServerBinary checks nothing", m)
		}
	}

	// A stream of our own, read beside the browser's: the proxy's.
	stream := openDevEvents(t, strings.TrimSuffix(home, "/")+"/_atoll/dev/events")
	stream.waitFor(t, regexp.MustCompile(`^data: \{.*"version":`), 5*time.Second)
	if !stream.has("retry: 200") || !stream.has("event: hello") {
		t.Fatalf("the event stream does not open with a retry and a hello: %q", stream.all())
	}

	// Go rebuilds take seconds each, more on a busy machine.
	ctx, msgs := browserFor(t, 10*time.Minute)
	// Each document the tab loads counts itself, so that the page view
	// lines can be checked against the tab's own count.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: devNewDocument,
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(home)); err != nil {
		t.Fatalf("open the home page: %v", err)
	}
	devSettled(t, ctx)
	views := dev.out.count(devPageView)
	tabViews := func() int { return atoi(devRun(t, ctx, `sessionStorage.devLoopViews`)) }
	viewed := tabViews()

	// (1) A stylesheet edit, three times: swapped in place, state kept.
	devRun(t, ctx, `(() => {
		const i = document.getElementById("sign-in-name");
		i.value = "typed by the test"; i.focus();
		window.scrollTo(0, 300);
		document.querySelector(".hero").dataset.devState = "kept";
		window.devLoopMark = true;
	})()`)
	var styleTimes []time.Duration
	for n, spacing := range []string{"3px", "5px", "7px"} {
		devRun(t, ctx, `delete window.devSeenAt`)
		start := time.Now()
		devEdit(t, root, "public/css/site.css", "", "\n.hero h1 { letter-spacing: "+spacing+"; }\n")
		if !devPoll(ctx, devSeen(`getComputedStyle(document.querySelector(".hero h1")).letterSpacing === "`+spacing+`"`), 10*time.Second) {
			t.Fatalf("stylesheet edit %d: the new rule never applied", n+1)
		}
		styleTimes = append(styleTimes, devSeenSince(t, ctx, start))
	}
	// The rule applies as the last stylesheet loads, a moment before its
	// load event drops the ones it replaces.
	devPoll(ctx, `document.querySelectorAll('[data-atoll-asset="css/site.css"]').length === 1`, 10*time.Second)
	state := devRun(t, ctx, `JSON.stringify({
		mark: !!window.devLoopMark,
		value: document.getElementById("sign-in-name")?.value,
		focus: document.activeElement?.id,
		scroll: Math.round(window.scrollY),
		state: document.querySelector(".hero")?.dataset.devState,
		styles: document.querySelectorAll('[data-atoll-asset="css/site.css"]').length,
		inlined: document.querySelectorAll("style[data-atoll-asset]").length,
	})`)
	if state != `{"mark":true,"value":"typed by the test","focus":"sign-in-name","scroll":300,"state":"kept","styles":1,"inlined":0}` {
		t.Errorf("after the stylesheet edits the tab is not as it was (a reload, or stylesheets piling up): %s", state)
	}
	t.Logf("stylesheet edit → applied in place: %s (median %s)", styleTimes, median(styleTimes))
	if median(styleTimes) > 2*time.Second {
		t.Errorf("a stylesheet edit took %s to apply", median(styleTimes))
	}
	if n := dev.out.count(devPageView); n != views {
		t.Errorf("the stylesheet swaps made %d page views, want none", n-views)
	}
	expectCleanConsole(t, ctx, msgs)

	// (2) A page template edit and an island template file edit, three
	// times each: a reload, no build.
	builds := dev.out.count(devBuilding)
	var pageTimes, islandTimes []time.Duration
	for n := range 3 {
		heading := fmt.Sprintf("Server Islands, edit %d", n+1)
		old := "<h1>Server Islands</h1>"
		if n > 0 {
			old = fmt.Sprintf("<h1>Server Islands, edit %d</h1>", n)
		}
		devWant(t, ctx, ".hero h1", heading)
		pageTimes = append(pageTimes, devAfterEdit(t, ctx, func() {
			devEdit(t, root, "pages/index.html", old, "<h1>"+heading+"</h1>")
		}, `document.querySelector(".hero h1")?.textContent === "`+heading+`"`, 10*time.Second))
		devSettled(t, ctx)

		greet := fmt.Sprintf("Hello %d,", n+1)
		oldGreet := "Hello,"
		if n > 0 {
			oldGreet = fmt.Sprintf("Hello %d,", n)
		}
		devWant(t, ctx, `.island[data-island="user-greeting"] .greeting`, greet)
		islandTimes = append(islandTimes, devAfterEdit(t, ctx, func() {
			devEdit(t, root, "fragments/user_greeting.html", oldGreet, greet)
		}, `document.querySelector('.island[data-island="user-greeting"]:not([aria-busy]) .greeting')?.textContent.startsWith("`+greet+`")`, 10*time.Second))
		devSettled(t, ctx)
	}
	t.Logf("page template edit → visible: %s (median %s)", pageTimes, median(pageTimes))
	t.Logf("island template file edit → visible: %s (median %s)", islandTimes, median(islandTimes))
	if n := dev.out.count(devBuilding); n != builds {
		t.Errorf("template edits started %d Go builds, want none", n-builds)
	}
	// One line per page view: the reloads, each with its islands, its
	// batch stream and its assets, made one line each, and the server
	// wrote no request log.
	if n, v := dev.out.count(devPageView)-views, tabViews()-viewed; n != v || v < 6 {
		t.Errorf("%d page views (six edits) wrote %d page view lines, want one each:\n%s", v, n, strings.Join(dev.out.all(), "\n"))
	}
	if n := dev.out.count(regexp.MustCompile(`\brequest\b.*status=|"request"`)); n != 0 {
		t.Errorf("the terminal shows %d request log lines, want none", n)
	}

	// (3) A page that does not render: its error over the tab, which does
	// not reload; other pages serve; fixing the file clears it.
	broken := "\n{{ .NoSuchField.Deeper }}\n"
	devRun(t, ctx, `window.devLoopMark = true`)
	start := time.Now()
	devEdit(t, root, "pages/index.html", "", broken)
	overlay := devWaitOverlay(t, ctx, "template", 10*time.Second)
	t.Logf("template error → overlay: %s", devSeenSince(t, ctx, start))
	if overlay.File != "pages/index.html" || overlay.Line == 0 || len(overlay.Frame) == 0 || !overlay.Mark || !strings.Contains(overlay.Message, "NoSuchField") {
		t.Errorf("the template error overlay: %+v, want pages/index.html, its line and frame, the message, and no reload", overlay)
	}
	devOverlayStyled(t, ctx)
	if r, err := http.Get(strings.TrimSuffix(home, "/") + "/about"); err != nil || r.StatusCode != 200 {
		t.Errorf("another page while one does not render: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	took := devAfterEdit(t, ctx, func() { devEdit(t, root, "pages/index.html", broken, "") },
		`!document.getElementById("atoll-dev-overlay") && document.querySelector(".hero h1")?.textContent === "Server Islands, edit 3"`, 10*time.Second)
	t.Logf("template fixed → overlay gone, page shown: %s", took)
	devSettled(t, ctx)

	// An island's template file that does not parse: the page placing
	// the island shows that file's error over the tab.
	devRun(t, ctx, `window.devLoopMark = true`)
	start = time.Now()
	devEdit(t, root, "fragments/user_greeting.html", "{{.Name}}", "{{.Name")
	overlay = devWaitOverlay(t, ctx, "template", 10*time.Second)
	t.Logf("island template error → overlay: %s", devSeenSince(t, ctx, start))
	if overlay.File != "fragments/user_greeting.html" || overlay.Line == 0 || !overlay.Mark {
		t.Errorf("the island template error overlay: %+v, want fragments/user_greeting.html and its line, and no reload", overlay)
	}
	took = devAfterEdit(t, ctx, func() { devEdit(t, root, "fragments/user_greeting.html", "{{.Name", "{{.Name}}") },
		`!document.getElementById("atoll-dev-overlay") && !!document.querySelector('.island[data-island="user-greeting"]:not([aria-busy]) [data-field="name"]')`, 10*time.Second)
	t.Logf("island template fixed → overlay gone, page shown: %s", took)
	devSettled(t, ctx)

	// (4) A Go edit: built beside the running server, switched once
	// ready; a client asking all the while never sees a failure.
	hammer := devHammer(home)
	devWant(t, ctx, `.island[data-island="server-info"] dt`, "Server Clock")
	took = devAfterEdit(t, ctx, func() {
		devEdit(t, root, "fragments/server_info.go", `<dt>Server Time</dt><dd data-field="time">`, `<dt>Server Clock</dt><dd data-field="time">`)
	}, `document.querySelector('[data-field="time"]')?.previousElementSibling?.textContent === "Server Clock"`, 2*time.Minute)
	restarted := dev.out.waitFor(t, devServing, 10*time.Second)
	dev.pids = append(dev.pids, atoi(restarted[2]))
	ok, failed := hammer()
	t.Logf("Go edit → visible: %s (the tool: %s); %d requests during the rebuild, %d failed", took, restarted[3], ok+len(failed), len(failed))
	if len(failed) > 0 {
		t.Errorf("%d requests failed during the rebuild: %v", len(failed), failed[:min(5, len(failed))])
	}
	if ok == 0 {
		t.Error("no request was made during the rebuild: the check saw nothing")
	}
	devSettled(t, ctx)

	// (5) A Go file that does not compile: the error over the tab, the
	// old server serving; the fix clears it.
	devRun(t, ctx, `window.devLoopMark = true`)
	badGo := "\nfunc broken() { return 1 }\n"
	start = time.Now()
	devEdit(t, root, "fragments/server_info.go", "", badGo)
	overlay = devWaitOverlay(t, ctx, "build", 2*time.Minute)
	failedAt := dev.out.waitFor(t, regexp.MustCompile(`^(\S+) .*build failed after (\S+);`), 10*time.Second)
	t.Logf("compile error → overlay: %s (the build failed after %s)", devSeenSince(t, ctx, start), failedAt[2])
	if overlay.File != "fragments/server_info.go" || overlay.Line == 0 || overlay.Column == 0 || len(overlay.Frame) == 0 || !overlay.Mark {
		t.Errorf("the compile error overlay: %+v, want fragments/server_info.go with line, column and frame, and no reload", overlay)
	}
	if r, err := http.Get(home); err != nil || r.StatusCode != 200 {
		t.Errorf("the page after a failed build: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	took = devAfterEdit(t, ctx, func() { devEdit(t, root, "fragments/server_info.go", badGo, "") },
		`!document.getElementById("atoll-dev-overlay") && !!document.querySelector('[data-field="time"]')`, 2*time.Minute)
	fixed := dev.out.waitFor(t, devServing, 10*time.Second)
	dev.pids = append(dev.pids, atoi(fixed[2]))
	t.Logf("compile error fixed → overlay gone, page shown: %s (the tool: %s)", took, fixed[3])
	devSettled(t, ctx)

	// (6) Go that compiles but stops the server as it starts.
	devRun(t, ctx, `window.devLoopMark = true`)
	badStart := "\nfunc init() { panic(\"the dev loop test stops this server at startup\") }\n"
	start = time.Now()
	devEdit(t, root, "fragments/server_info.go", "", badStart)
	overlay = devWaitOverlay(t, ctx, "startup", 2*time.Minute)
	t.Logf("startup failure → overlay: %s", devSeenSince(t, ctx, start))
	if overlay.File != "fragments/server_info.go" || overlay.Line == 0 || !strings.Contains(overlay.Message, "stops this server at startup") || !overlay.Mark {
		t.Errorf("the startup failure overlay: %+v, want fragments/server_info.go, its line and the panic, and no reload", overlay)
	}
	if r, err := http.Get(home); err != nil || r.StatusCode != 200 {
		t.Errorf("the page after a failed start: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	took = devAfterEdit(t, ctx, func() { devEdit(t, root, "fragments/server_info.go", badStart, "") },
		`!document.getElementById("atoll-dev-overlay") && !!document.querySelector('[data-field="time"]')`, 2*time.Minute)
	fixed = dev.out.waitFor(t, devServing, 10*time.Second)
	dev.pids = append(dev.pids, atoi(fixed[2]))
	t.Logf("startup failure fixed → overlay gone, page shown: %s (the tool: %s)", took, fixed[3])
	devSettled(t, ctx)
	expectCleanConsole(t, ctx, msgs)

	// Only the last server runs, once the replaced ones have finished
	// their graceful stop (atoll dev kills one after 15 s).
	for _, pid := range dev.pids[:len(dev.pids)-1] {
		for deadline := time.Now().Add(20 * time.Second); devAlive(pid); {
			if time.Now().After(deadline) {
				t.Errorf("a replaced server, pid %d, still runs 20 s after it was replaced", pid)
				break
			}
			time.Sleep(50 * time.Millisecond) // poll interval
		}
	}
	dev.stop(t)
}

var (
	devServing  = regexp.MustCompile(`atoll dev: ✓ serving (http://\S+) \(pid (\d+); (.*)\)$`)
	devBuilding = regexp.MustCompile(`atoll dev: .* changed: building|atoll dev: building`)
	devPageView = regexp.MustCompile(`^\d\d:\d\d:\d\d  /\S* \d{3} `)
)

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// devRun evaluates expr in the tab and returns its value as a string.
func devRun(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// devOverlay is what the tab's overlay shows.
type devOverlay struct {
	Kind, File, Message string
	Line, Column        int
	Frame               []struct {
		N    int
		Text string
	}
	Mark bool // the tab did not reload
}

// devWaitOverlay waits until the tab shows an overlay of kind, and
// returns what it shows, read from its shadow root.
func devWaitOverlay(t *testing.T, ctx context.Context, kind string, limit time.Duration) devOverlay {
	t.Helper()
	devRun(t, ctx, `delete window.devSeenAt`)
	if !devPoll(ctx, devSeen(`(() => { const b = document.getElementById("atoll-dev-overlay")?.shadowRoot?.querySelector(".overlay");
		return !!b && b.dataset.kind === "`+kind+`" && !b.hidden && getComputedStyle(b).position === "fixed"; })()`), limit) {
		t.Fatalf("no %s overlay in the tab within %s; the tab: %s", kind, limit, devRun(t, ctx, `JSON.stringify({url: location.href, problem: window.atollDevProblem ?? null})`))
	}
	js := devRun(t, ctx, `JSON.stringify(Object.assign({}, window.atollDevProblem, {mark: !!window.devLoopMark}))`)
	var o devOverlay
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		t.Fatalf("the overlay's problem %s: %v", js, err)
	}
	shown := devRun(t, ctx, `document.getElementById("atoll-dev-overlay").shadowRoot.querySelector(".panel").textContent`)
	if !strings.Contains(shown, o.File) || !strings.Contains(shown, strings.SplitN(o.Message, "\n", 2)[0]) {
		t.Errorf("the overlay does not show the file and the message: %q", shown)
	}
	if len(o.Frame) > 0 && !strings.Contains(shown, o.Frame[0].Text) {
		t.Errorf("the overlay does not show the code frame: %q", shown)
	}
	return o
}

// devOverlayStyled checks that the overlay's stylesheet applies, and that
// it follows the colour scheme: its panel's background differs between
// light and dark.
func devOverlayStyled(t *testing.T, ctx context.Context) {
	t.Helper()
	bg := `getComputedStyle(document.getElementById("atoll-dev-overlay").shadowRoot.querySelector(".panel")).backgroundColor`
	scheme := func(s string) string {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: s}},
		}); err != nil {
			t.Fatalf("emulate %s: %v", s, err)
		}
		return devRun(t, ctx, bg)
	}
	light, dark := scheme("light"), scheme("dark")
	scheme("")
	if light == dark || light == "rgba(0, 0, 0, 0)" {
		t.Errorf("the overlay panel's background: light %s, dark %s; want two colours", light, dark)
	}
}

// devHammer asks for the page every 10 ms, one request after another,
// until the returned function is called; that returns how many answered
// 200 and what failed. The pace is a visitor clicking faster than anyone
// does, without taking the CPU the build it watches needs.
func devHammer(home string) func() (ok int, failed []string) {
	stop := make(chan struct{})
	done := make(chan struct{})
	var n int
	var failed []string
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			r, err := client.Get(home)
			switch {
			case err != nil:
				failed = append(failed, err.Error())
			case r.StatusCode != 200:
				failed = append(failed, r.Status)
			default:
				n++
			}
			if r != nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		}
	}()
	return func() (int, []string) {
		close(stop)
		<-done
		return n, failed
	}
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
	return startDevToolFrom(t, root, root)
}

// startDevToolFrom builds cmd/atoll from the module in src and starts
// atoll dev in the site root.
func startDevToolFrom(t *testing.T, src, root string) *devTool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tool := filepath.Join(t.TempDir(), "atoll")
	build := exec.CommandContext(ctx, "go", "build", "-o", tool, "./cmd/atoll")
	build.Dir = src
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
// directory of its own: everything but dependencies, build output, other
// modules and the tests. The directory is named by the checkout's path,
// so the go command's build cache, which keys a package by its directory,
// holds the copy's packages from one run to the next; it is removed when
// the test ends.
func devModuleCopy(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(src))
	dst := filepath.Join(os.TempDir(), "atoll-devloop-"+hex.EncodeToString(sum[:6]))
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatalf("%v (does another run of this test use the same checkout?)", err)
	}
	t.Cleanup(func() { os.RemoveAll(dst) })
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
	if !devPoll(ctx, devSeen(`!window.devLoopMark && (`+condition+`)`), limit) {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({mark: !!window.devLoopMark, url: location.href, events: window.atollDevReload?.readyState})`))
		t.Fatalf("not visible after %s: %s; the tab: %s", limit, condition, state)
	}
	if seen := devRun(t, ctx, `sessionStorage.devLoopSeen || ""`); seen != "" {
		devRun(t, ctx, `sessionStorage.removeItem("devLoopWant"), sessionStorage.removeItem("devLoopSeen")`)
		at, _ := strconv.ParseInt(seen, 10, 64)
		return time.UnixMilli(at).Sub(start)
	}
	return devSeenSince(t, ctx, start)
}

// devNewDocument runs in every document the tab loads, before the page's
// own scripts: it counts the documents, and when the test has said what
// it waits for (devWant), notes the moment the parser or a swap puts it
// in the page, by the tab's clock. A reload then costs the test nothing:
// the poll that sees the change after the reload need not be quick.
const devNewDocument = `(() => {
	sessionStorage.devLoopViews = String(Number(sessionStorage.devLoopViews || 0) + 1);
	const want = sessionStorage.devLoopWant ? JSON.parse(sessionStorage.devLoopWant) : null;
	if (!want || sessionStorage.devLoopSeen) return;
	const observer = new MutationObserver(() => {
		const el = document.querySelector(want.sel);
		if (el && el.textContent.trim().startsWith(want.prefix)) {
			sessionStorage.devLoopSeen = String(Date.now());
			observer.disconnect();
		}
	});
	observer.observe(document, { subtree: true, childList: true, characterData: true });
})()`

// devWant tells devNewDocument what the next reload should show: an
// element matching sel whose text starts with prefix.
func devWant(t *testing.T, ctx context.Context, sel, prefix string) {
	t.Helper()
	want, _ := json.Marshal(map[string]string{"sel": sel, "prefix": prefix})
	devRun(t, ctx, `sessionStorage.removeItem("devLoopSeen"), sessionStorage.devLoopWant = `+strconv.Quote(string(want)))
}

// devSeen wraps a condition so that the tab notes the moment it first
// holds, by its own clock: the time an edit takes to show is then not
// stretched by the round trip of the poll that sees it.
func devSeen(condition string) string {
	return `((` + condition + `) ? (window.devSeenAt ??= Date.now(), true) : false)`
}

// devSeenSince is the time from start to the moment devSeen noted. The
// tab and the test share the machine's clock.
func devSeenSince(t *testing.T, ctx context.Context, start time.Time) time.Duration {
	t.Helper()
	at, err := strconv.ParseInt(devRun(t, ctx, `String(window.devSeenAt)`), 10, 64)
	if err != nil {
		t.Fatalf("the tab noted no moment: %v", err)
	}
	return time.UnixMilli(at).Sub(start)
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

// count is how many lines so far match re.
func (l *devLines) count(re *regexp.Regexp) int {
	n := 0
	for _, g := range l.all() {
		if re.MatchString(g) {
			n++
		}
	}
	return n
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
