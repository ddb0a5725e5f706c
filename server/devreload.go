//go:build atolldev

package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/devtab"
	"github.com/atollhq/atoll/internal/httpcache"
)

// This file is compiled only with the atolldev build tag, which make dev
// (atoll dev, internal/devloop) sets: a production build has neither the endpoints nor the
// script, whatever ATOLL_DEV says.
//
// A dev page loads {base}/_atoll/dev.js (internal/devtab), a file from
// the site's own origin, so the Content-Security-Policy's script-src
// 'self' allows it and connect-src 'self' allows its EventSource: nothing
// is loosened. Under atoll dev the proxy in front (internal/devloop)
// serves the event stream: it reloads the tab on a change, swaps a
// stylesheet in place, and shows a failed build or start over the tab.
// A server run alone serves a stream of its own, below, which reloads the
// tab when a file under pages/, layouts/ or public/ changes or the server
// is a new process (the boot id differs).

func init() {
	devExtras = func(s *Server) {
		d := newDevReload(s.log)
		base := s.cfg.BasePath
		events := base + "/_atoll/dev/events"
		tag := func(version string) []byte {
			return fmt.Appendf(nil, `<script src="%s" data-events="%s" data-base="%s" data-version="%s" defer></script>`,
				html.EscapeString(base+"/_atoll/dev.js"), html.EscapeString(events), html.EscapeString(base), html.EscapeString(version))
		}
		// version is the state of the site's files a page is rendered
		// in: atoll dev's proxy, which serves the tabs' event stream,
		// says which in a header; a server run alone counts its own.
		version := func(c *fiber.Ctx) string {
			if v := c.Get(devVersionHeader); v != "" {
				return v
			}
			return d.version()
		}
		inject := func(body []byte, version string) []byte {
			i := bytes.LastIndex(body, []byte("</head>"))
			if i < 0 {
				return body
			}
			return append(append(append(make([]byte, 0, len(body)+200), body[:i]...), tag(version)...), body[i:]...)
		}
		// devPage reads the version before the page is rendered: a file
		// that changes during the render moves the version on, and the
		// tab, seeing a newer one, reloads.
		s.devPage = func(c *fiber.Ctx, body []byte) []byte {
			return inject(s.markStylesheets(body), version(c))
		}

		writeTimeout := s.app.Config().WriteTimeout
		s.app.Get(events, func(c *fiber.Ctx) error { return d.serveEvents(c, writeTimeout) })
		s.app.Get(base+"/_atoll/dev.js", func(c *fiber.Ctx) error {
			return devText(c, "text/javascript; charset=utf-8", devtab.Script)
		})
		s.app.Get(base+"/_atoll/dev.css", func(c *fiber.Ctx) error {
			return devText(c, "text/css; charset=utf-8", devtab.Stylesheet)
		})
		// A stylesheet as it is on disk now, for the dev script to swap
		// in place: from the site's own origin, so style-src 'self'
		// allows it, as it allows the fingerprinted URL.
		s.app.Get(base+"/_atoll/dev/style/*", func(c *fiber.Ctx) error {
			name := path.Clean(c.Params("*"))
			if !strings.HasSuffix(name, ".css") || strings.HasPrefix(name, "..") || path.IsAbs(name) {
				return fiber.ErrNotFound
			}
			b, err := fs.ReadFile(s.files, "public/"+name)
			if err != nil {
				return fiber.ErrNotFound
			}
			return devText(c, "text/css; charset=utf-8", string(b))
		})
		// Error pages (a template that does not render, a 404) carry the
		// script too, so that the tab showing the error reloads itself
		// once the file is fixed. A page that does not render shows its
		// error with its file, line and the lines around it, as the
		// overlay over the tab; the dev script, probing a page before it
		// reloads, finds the error by its header and keeps the tab as it
		// is. This runs only for what the page route answers: every
		// route registered before it ends the chain.
		s.app.Use(func(c *fiber.Ctx) error {
			v := version(c)
			err := c.Next()
			if err == nil {
				return nil
			}
			var fe *fiber.Error
			if !errors.As(err, &fe) { // a page that does not render; statuses (404, 405) go to the error handler
				c.Locals(localError, err)
				httpcache.NoStore(c)
				c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
				c.Set(devErrorHeader, "1")
				p := devtab.Locate(s.cfg.Root, devtab.KindTemplate, "This page does not render", err.Error())
				status := fiber.StatusInternalServerError
				if c.Get(devProbeHeader) != "" {
					// The dev script looking before it reloads: the header
					// says what failed, and a 200 keeps the browser from
					// logging a failed load in the console.
					status = fiber.StatusOK
				}
				return c.Status(status).Send(inject(devErrorPage(p), v))
			}
			if err := s.handleError(c, err); err != nil {
				return err
			}
			r := c.Response()
			if bytes.HasPrefix(r.Header.ContentType(), []byte("text/html")) && len(r.Header.ContentEncoding()) == 0 {
				r.SetBodyRaw(inject(r.Body(), v))
			}
			return nil
		})

		var dirs []string
		for _, dir := range []string{"pages", "layouts", "public"} {
			dirs = append(dirs, filepath.Join(s.cfg.Root, dir))
		}
		if err := d.watch(dirs); err != nil {
			// The browser still reloads after a restart (the boot id).
			s.log.Error().Err(err).Msg("dev: cannot watch the site's files; browsers will not reload on a file change")
			return
		}
		// Fiber runs OnShutdown hooks once Shutdown has returned, by which
		// time every stream has ended (see serveEvents). A site mounted
		// in another app (Server.Mount) is never shut down itself: its
		// watcher goes with the process.
		s.app.Hooks().OnShutdown(d.close)
	}
}

// Headers shared with atoll dev's proxy (internal/devloop) and the dev
// script (internal/devtab).
const (
	devVersionHeader = "X-Atoll-Dev-Version"
	devErrorHeader   = "X-Atoll-Dev-Error"
	devProbeHeader   = "X-Atoll-Dev-Probe"
)

// devText sends a dev file, never cached.
func devText(c *fiber.Ctx, contentType, body string) error {
	httpcache.NoStore(c)
	c.Set(fiber.HeaderContentType, contentType)
	return c.SendString(body)
}

// markStylesheets marks each of the site's stylesheets in a page, inlined
// or linked, with data-atoll-asset and its name under public/, so that
// the dev script knows which element to swap when the file changes.
func (s *Server) markStylesheets(body []byte) []byte {
	a := s.asset()
	fs.WalkDir(s.files, "public", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".css") {
			return nil
		}
		name := strings.TrimPrefix(p, "public/")
		mark := ` data-atoll-asset="` + html.EscapeString(name) + `"`
		if in, err := a.Inline(name); err == nil && strings.HasPrefix(string(in), "<style>") {
			body = bytes.ReplaceAll(body, []byte(in), []byte("<style"+mark+">"+strings.TrimPrefix(string(in), "<style>")))
		}
		if u, err := a.URL(name); err == nil {
			body = bytes.ReplaceAll(body, []byte(`href="`+u+`"`), []byte(`href="`+u+`"`+mark))
		}
		return nil
	})
	return body
}

// devErrorPage shows a page that does not render: the problem as JSON for
// the dev script's overlay (a data block, which no policy governs), and
// as text for a look at the source.
func devErrorPage(p devtab.Problem) []byte {
	data, _ := json.Marshal(p)
	// A data block ends at the first "</script": escape every "<".
	data = bytes.ReplaceAll(data, []byte("<"), []byte(`\u003c`))
	at := p.File
	if p.Line > 0 {
		at += ":" + strconv.Itoa(p.Line)
	}
	return fmt.Appendf(nil, `<!doctype html><html lang="en"><head><meta charset="utf-8">`+
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>500 · dev error · Atoll</title>`+
		`<script type="application/json" id="atoll-dev-problem">%s</script></head>`+
		`<body><main data-dev-error><h1>%s</h1><p>%s</p><pre>%s</pre></main></body></html>`,
		data, html.EscapeString(p.Title), html.EscapeString(at), html.EscapeString(p.Message))
}

// devReload is the state the browsers compare against: this process's
// boot id and a version counting the changes to the site's files.
type devReload struct {
	log     zerolog.Logger
	watcher *fsnotify.Watcher

	mu      sync.Mutex
	n       uint64
	changed chan struct{} // closed, and replaced, at each change
}

// devBoot is made once per process: a browser that sees another one knows
// the server was rebuilt and restarted.
var devBoot = func() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}()

// devDebounce gathers the events of one save (an editor writes, renames
// and changes modes in quick succession) into one reload.
const devDebounce = 50 * time.Millisecond

// devPing is how often an idle stream writes a comment: a stream whose
// browser has gone ends at the first write that fails.
const devPing = 10 * time.Second

func newDevReload(log zerolog.Logger) *devReload {
	return &devReload{log: log, changed: make(chan struct{})}
}

// version is the state a page rendered now is made from.
func (d *devReload) version() string {
	v, _ := d.current()
	return v
}

// current is the version and the channel closed at the next change.
func (d *devReload) current() (string, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fmt.Sprintf("%s.%d", devBoot, d.n), d.changed
}

// bump records a change and wakes every stream.
func (d *devReload) bump() {
	d.mu.Lock()
	d.n++
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

// serveEvents streams the server's state to one browser: a hello with the
// current version and a retry of 200 ms, then a reload with the new
// version after each change. The stream ends when the browser goes (a
// write fails: a comment every devPing makes sure one is tried) or when the
// server begins to shut down: fasthttp closes RequestCtx.Done() as
// ShutdownWithContext starts, and waits for open connections, so a stream
// that did not end would hold the shutdown up until its deadline.
//
// Fasthttp sets the connection's write deadline once, WriteTimeout after
// the response begins, and a stream is one long response: each write
// moves the deadline on, so that a quiet stream is not cut every 30 s.
func (d *devReload) serveEvents(c *fiber.Ctx, writeTimeout time.Duration) error {
	httpcache.NoStore(c)
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set("X-Accel-Buffering", "no")
	if c.Method() == fiber.MethodHead {
		return nil
	}
	stop := c.Context().Done() // nil when the app is not serving (app.Test): then only a failed write ends the stream
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		version, changed := d.current()
		fmt.Fprintf(w, "retry: 200\nevent: hello\ndata: {\"version\":%q}\n\n", version)
		ping := time.NewTicker(devPing)
		defer ping.Stop()
		for {
			if writeTimeout > 0 {
				conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			}
			if w.Flush() != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-changed:
				version, changed = d.current()
				fmt.Fprintf(w, "event: reload\ndata: {\"version\":%q}\n\n", version)
			case <-ping.C:
				w.WriteString(": ping\n\n")
			}
		}
	})
	return nil
}

// watch starts one watcher on dirs and every directory below them
// (fsnotify watches one directory at a time; new directories are added as
// they appear) and bumps the version devDebounce after the last change.
func (d *devReload) watch(dirs []string) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			continue // a site may have no layouts, say; a directory made later is not seen
		}
		if err := addTree(w, dir); err != nil {
			w.Close()
			return err
		}
	}
	d.watcher = w
	go func() {
		debounce := time.NewTimer(devDebounce)
		debounce.Stop()
		defer debounce.Stop()
		var last string
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				name := filepath.Base(ev.Name)
				if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
					continue // editors' swap and backup files
				}
				if ev.Has(fsnotify.Create) {
					if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
						if err := addTree(w, ev.Name); err != nil {
							d.log.Error().Err(err).Str("dir", ev.Name).Msg("dev: watch a new directory")
						}
					}
				}
				last = ev.Name
				debounce.Reset(devDebounce)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				d.log.Error().Err(err).Msg("dev: file watcher")
			case <-debounce.C:
				d.bump()
				d.log.Info().Str("file", last).Msg("dev: files changed, reloading the browsers")
			}
		}
	}()
	return nil
}

// close stops the watcher.
func (d *devReload) close() error {
	if d.watcher == nil {
		return nil
	}
	return d.watcher.Close()
}

// addTree watches dir and every directory below it.
func addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			return nil
		}
		if err := w.Add(path); err != nil {
			return fmt.Errorf("watch %s: %w", path, err)
		}
		return nil
	})
}
