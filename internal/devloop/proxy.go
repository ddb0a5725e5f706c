package devloop

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atollhq/atoll/internal/devtab"
)

// Headers between the proxy, the dev server and the dev script.
const (
	// VersionHeader tells the dev server which version of the site's
	// files a page is rendered in; the dev script compares it with the
	// versions the event stream announces.
	VersionHeader = "X-Atoll-Dev-Version"
	// probeHeader marks the dev script's look at a page before it
	// reloads: not a page view.
	probeHeader = "X-Atoll-Dev-Probe"
)

// ServeHTTP is the proxy: the tabs' event stream and the dev script are
// its own; every other request goes to the server that is current when
// it arrives.
func (d *Dev) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case d.base + "/_atoll/dev/events":
		d.hub.serve(w, r)
		return
	case d.base + "/_atoll/dev.js":
		serveText(w, "text/javascript; charset=utf-8", devtab.Script)
		return
	case d.base + "/_atoll/dev.css":
		serveText(w, "text/css; charset=utf-8", devtab.Stylesheet)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, d.base+"/_atoll/dev/style/"); ok {
		d.serveStyle(w, name)
		return
	}
	p := d.backend()
	if p == nil {
		d.noServer(w, r)
		return
	}
	start := time.Now()
	r.Header.Set(VersionHeader, d.hub.current())
	rec := &recorder{ResponseWriter: w}
	p.proxy.ServeHTTP(rec, r)
	d.pageView(r, rec, time.Since(start))
}

// serveStyle sends a stylesheet under public/ as it is on disk now, for
// the dev script to swap in place (the dev server serves the same; the
// proxy answers without the round trip).
func (d *Dev) serveStyle(w http.ResponseWriter, name string) {
	name = path.Clean("/" + name)[1:]
	b, err := os.ReadFile(filepath.Join(d.root, "public", filepath.FromSlash(name)))
	if !strings.HasSuffix(name, ".css") || err != nil {
		http.NotFound(w, nil)
		return
	}
	serveText(w, "text/css; charset=utf-8", string(b))
}

// proxyError answers a request the server p could not take. A server
// that was just replaced refuses new connections while it stops; a GET
// or HEAD, which has no body to resend, goes to the current server
// instead. Nothing else should fail, so anything else is a 502.
func (d *Dev) proxyError(p *process) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() != nil {
			return // the browser went
		}
		if cur := d.backend(); cur != nil && cur != p && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			cur.proxy.ServeHTTP(w, r)
			return
		}
		d.say(styleError, "%s %s: the server did not answer: %v", r.Method, r.URL.Path, err)
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "atoll dev: the server did not answer: "+err.Error(), http.StatusBadGateway)
	}
}

// noServer answers while no server runs (the first build is under way or
// failed, or the server stopped): a page that loads the dev script, so the
// tab shows the error and reloads once a server is up. It carries the
// current version: the tab waits for the next change rather than
// reloading into this page again.
func (d *Dev) noServer(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
	h.Set("Retry-After", "1")
	if r.Method != http.MethodGet || strings.HasPrefix(r.URL.Path, d.base+"/_islands") || strings.HasPrefix(r.URL.Path, d.base+"/actions/") {
		http.Error(w, "atoll dev: no server is running; save a fix to start one", http.StatusServiceUnavailable)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>atoll dev: no server</title>`+
		`<script src="%s" data-events="%s" data-base="%s" data-version="%s" defer></script></head>`+
		`<body><p>atoll dev: no server is running yet. This page reloads once one is.</p></body></html>`,
		html.EscapeString(d.base+"/_atoll/dev.js"), html.EscapeString(d.base+"/_atoll/dev/events"), html.EscapeString(d.base), html.EscapeString(d.hub.current()))
}

// pageView writes one line for a page view: a GET answered with HTML
// that is not an island, an action or the dev script's probe. Island,
// asset and action requests make no line; the server logs their errors.
func (d *Dev) pageView(r *http.Request, rec *recorder, took time.Duration) {
	if r.Method != http.MethodGet || r.Header.Get(probeHeader) != "" {
		return
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		strings.HasPrefix(r.URL.Path, d.base+"/_islands") || strings.HasPrefix(r.URL.Path, d.base+"/actions/") {
		return
	}
	st := stylePage
	if rec.status >= 500 {
		st = styleError
	}
	d.say(st, "%s %d %s", r.URL.RequestURI(), rec.code(), round(took))
}

// recorder notes the status a response is sent with.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func serveText(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(body))
}

// hub is the state the tabs follow: a version counting the changes, the
// problem to show (nil when none), and the open streams.
type hub struct {
	mu      sync.Mutex
	boot    string
	n       uint64
	prob    *devtab.Problem
	subs    map[chan message]struct{}
	done    chan struct{}
	closing sync.Once
}

// message is one event of the stream.
type message struct{ event, data string }

func newHub() *hub {
	return &hub{boot: strconv.FormatInt(time.Now().UnixNano(), 36), subs: map[chan message]struct{}{}, done: make(chan struct{})}
}

func (h *hub) current() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.version()
}

func (h *hub) version() string { return h.boot + "." + strconv.FormatUint(h.n, 10) }

// reload moves the version on and tells every tab to reload.
func (h *hub) reload() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	h.send(message{"reload", jsonOf(map[string]string{"version": h.version()})})
}

// style moves the version on and tells every tab to swap the stylesheet
// public/file.
func (h *hub) style(file string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	h.send(message{"style", jsonOf(map[string]string{"version": h.version(), "file": file})})
}

// problem sets the problem the tabs show, or clears it (nil).
func (h *hub) problem(p *devtab.Problem) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p == nil && h.prob == nil {
		return
	}
	h.prob = p
	h.send(message{"problem", problemJSON(p)})
}

// send hands m to every stream; a stream too far behind to take it is
// ended, and its tab reconnects and starts from hello. Called with mu.
func (h *hub) send(m message) {
	for ch := range h.subs {
		select {
		case ch <- m:
		default:
			close(ch)
			delete(h.subs, ch)
		}
	}
}

// close ends every stream.
func (h *hub) close() {
	h.closing.Do(func() { close(h.done) })
}

// devPing is how often an idle stream writes a comment: a stream whose
// tab has gone ends at the first write that fails.
const devPing = 10 * time.Second

// serve streams to one tab: hello with the version and the problem, then
// each change.
func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	ch := make(chan message, 16)
	h.mu.Lock()
	hello := jsonOf(map[string]any{"version": h.version(), "problem": h.prob})
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
		}
		h.mu.Unlock()
	}()
	fmt.Fprintf(w, "retry: 200\nevent: hello\ndata: %s\n\n", hello)
	fl.Flush()
	ping := time.NewTicker(devPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.event, m.data)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		fl.Flush()
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Output styles.
type outStyle int

const (
	styleNote  outStyle = iota // the tool's own news
	stylePage                  // a page view
	styleOK                    // a server is up
	styleError                 // a build or a server failed
)

// say writes one line of the tool's: page views plain, the rest marked
// "atoll dev:", errors in bold red on a terminal.
func (d *Dev) say(st outStyle, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	now := time.Now().Format(time.TimeOnly)
	var line string
	switch st {
	case stylePage:
		line = now + "  " + msg
	case styleError:
		line = now + "  atoll dev: ✗ " + msg
	case styleOK:
		line = now + "  atoll dev: ✓ " + msg
	default:
		line = now + "  atoll dev: " + msg
	}
	if d.color {
		switch st {
		case styleError:
			line = "\x1b[1;31m" + line + "\x1b[0m"
		case styleOK:
			line = "\x1b[1;32m" + line + "\x1b[0m"
		case styleNote:
			line = "\x1b[36m" + line + "\x1b[0m"
		}
	}
	d.outMu.Lock()
	defer d.outMu.Unlock()
	fmt.Fprintln(d.Out, line)
}

// isTerminal reports whether w is a terminal, where colours help.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
