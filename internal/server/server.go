// Package server wires the site together: pages rendered once at startup,
// fingerprinted assets, the island endpoint, one error handler and the
// request log. cmd/server and the tests start the same Server.
package server

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/rs/zerolog"

	"atoll"
	"atoll/config"
	"atoll/fragments"
	"atoll/internal/assets"
	"atoll/internal/islands"
	"atoll/internal/pages"
)

// ContentSecurityPolicy allows scripts, styles and connections from the
// site itself only: no inline script, no eval, no inline style.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// Options configures a Server.
type Options struct {
	Config config.Config
	Log    zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Sessions is the store the greeting reads; nil means nobody is
	// signed in.
	Sessions fragments.Sessions
	// Files holds pages/, layouts/ and public/. When nil it is the
	// embedded copy, or Config.Root on disk in dev mode.
	Files fs.FS
}

// Server is the Atoll site server.
type Server struct {
	app      *fiber.App
	cfg      config.Config
	log      zerolog.Logger
	site     *pages.Site
	renderer pages.Renderer
	assets   *assets.Assets
	islands  *islands.Engine
	built    time.Time
}

// New builds everything the server serves and fails, naming the file or
// island at fault, if anything is missing or does not render.
func New(o Options) (*Server, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	files := o.Files
	if files == nil {
		files = atoll.Files
		if o.Config.Dev {
			files = os.DirFS(o.Config.Root)
		}
	}
	s := &Server{cfg: o.Config, log: o.Log, built: o.Now()}

	var err error
	if s.assets, err = assets.Load(files, "public"); err != nil {
		return nil, err
	}
	s.islands, err = islands.New(islands.Options{
		Timeout: o.Config.IslandTimeout,
		Deps:    fragments.Deps{Sessions: o.Sessions},
		Now:     o.Now,
		Log:     o.Log,
	})
	if err != nil {
		return nil, err
	}
	s.renderer = pages.Renderer{FS: files, Funcs: s.pageFuncs(files), Built: s.built}
	if s.site, err = s.renderer.Build(); err != nil {
		return nil, err
	}
	s.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		BodyLimit:             64 << 10,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
	})
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.app.Use(requestLog(s.log, s.handleError))
	s.app.Use(recoverPanics())
	s.app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: ContentSecurityPolicy,
		ReferrerPolicy:        "strict-origin-when-cross-origin",
		XFrameOptions:         "DENY",
		PermissionPolicy:      "camera=(), microphone=(), geolocation=()",
	}))
	s.app.All(islands.Prefix+":name", s.islands.Handle)
	s.app.Get(assets.Prefix+"*", s.assets.Handle)
	s.app.All("/*", s.page)
}

// App is the Fiber application, for benchmarks that drive its handler
// without a socket.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.log.Info().Str("addr", ln.Addr().String()).Bool("dev", s.cfg.Dev).
		Strs("pages", s.site.Routes()).Strs("islands", fragments.Names()).Msg("listening")
	return s.app.Listener(ln)
}

// Shutdown stops accepting connections and waits, until ctx ends, for
// requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.app.ShutdownWithContext(ctx)
}

// pageFuncs returns the template functions for one page:
//
//	{{ island "name" }}                        a placeholder with the island's fallback
//	{{ island "name" (fallback `<p>…</p>`) }}  the same with the page's own fallback
//	{{ asset "css/site.css" }}                 a fingerprinted asset URL
//	{{ snippet "file" "first" "last" }}        lines of a repo file, for docs
func (s *Server) pageFuncs(files fs.FS) func(pages.Source) template.FuncMap {
	return func(src pages.Source) template.FuncMap {
		count := map[string]int{}
		return template.FuncMap{
			"island": func(name string, opts ...fallbackHTML) (template.HTML, error) {
				count[name]++
				p := islands.Placement{Name: name, ID: fmt.Sprintf("island-%s-%d", name, count[name])}
				for _, o := range opts {
					p.Fallback = template.HTML(o)
				}
				return s.islands.Placeholder(p)
			},
			"fallback": func(html string) fallbackHTML { return fallbackHTML(html) },
			"asset":    s.assets.URL,
			"snippet":  func(file, first, last string) (string, error) { return snippet(files, file, first, last) },
		}
	}
}

// fallbackHTML is a page's own fallback for one island placement.
type fallbackHTML string

// snippet returns the lines of file from the first line containing first
// through the next line that reads exactly last (leading and trailing
// space aside), or that one line when last is empty, with their common
// indentation removed. Markers that are
// not found stop startup, so a quoted snippet cannot go stale silently.
func snippet(files fs.FS, file, first, last string) (string, error) {
	b, err := fs.ReadFile(files, file)
	if err != nil {
		return "", fmt.Errorf("snippet: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	start := -1
	for i, l := range lines {
		if start < 0 && strings.Contains(l, first) {
			start = i
		}
		if start >= 0 && (last == "" || strings.TrimSpace(l) == last) {
			return dedent(lines[start : i+1]), nil
		}
	}
	return "", fmt.Errorf("snippet: %s has no lines from %q to %q", file, first, last)
}

func dedent(lines []string) string {
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= indent {
			l = l[indent:]
		}
		out[i] = strings.ReplaceAll(l, "\t", "    ")
	}
	return strings.Join(out, "\n")
}
