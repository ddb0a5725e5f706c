// Package server wires the site together: pages rendered once at startup,
// fingerprinted assets, the island endpoint, one error handler and the
// request log. cmd/server and the tests start the same Server.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/client"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/assets"
	"github.com/atollhq/atoll/internal/httpcache"
	"github.com/atollhq/atoll/internal/islands"
	"github.com/atollhq/atoll/internal/pages"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/store"
)

// ContentSecurityPolicy allows scripts, styles and connections from the
// site itself only: no eval, no inline script or style other than the
// site's own files inlined whole ({{ inline }}), each allowed by its hash.
func ContentSecurityPolicy(scriptHashes, styleHashes []string) string {
	src := func(hashes []string) string { return strings.Join(append([]string{"'self'"}, hashes...), " ") }
	return "default-src 'self'; script-src " + src(scriptHashes) + "; style-src " + src(styleHashes) + "; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// Site is what a site brings to the engine: its files, its own tables,
// its islands and actions, and the services they use.
type Site struct {
	// Islands are the islands the site serves; nil means island.Default,
	// the set island.Register fills from the packages the program
	// imports. Two sites in one process serve different islands by
	// carrying sets of their own.
	Islands *island.Set
	// Actions are the actions the site serves; nil means action.Default,
	// the set action.Register fills.
	Actions *action.Set
	// Events are events announced outside actions, such as by the site's
	// client code. A page may place an island that refreshes on (on
	// "event") only when an action in Actions announces the event or it
	// is listed here; otherwise startup stops.
	Events []string
	// Files holds pages/ (required: at least one page), and layouts/ and
	// public/ when the site has them; usually an embed.FS. In dev mode the
	// engine reads Config.Root on disk instead.
	Files fs.FS
	// Migrations create and change the site's own tables, after the
	// engine's (see store.Migration).
	Migrations []store.Migration
	// Open makes the site's services once the store is open; islands
	// and actions receive them as Services(). May be nil.
	Open func(st store.Store, now func() time.Time) (any, error)
	// Funcs adds page template functions, given the services. May be nil.
	Funcs func(services any) template.FuncMap
}

// Options configures a Server.
type Options struct {
	Config config.Config
	Log    zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Store holds users and sessions, and the site's tables. Required;
	// the caller opens it with the site's migrations, and closes it.
	Store store.Store
	// Site is the site to serve; Site.Files is required.
	Site Site
	// Built is the time pages show as their build time and derive their
	// ETags from; BuildTime(), or the clock at start, when zero.
	Built time.Time
}

// Server is the Atoll site server.
type Server struct {
	app      *fiber.App
	cfg      config.Config
	log      zerolog.Logger
	now      func() time.Time
	site     *pages.Site
	renderer pages.Renderer
	// assets are the public files; in dev mode read again for every page.
	assets   atomic.Pointer[assets.Assets]
	islands  *islands.Engine
	actions  *action.Engine
	store    store.Store
	services any
	// siteFuncs are the site's own page functions.
	siteFuncs func(services any) template.FuncMap
	fresh     map[string]*pages.Revalidating // pages regenerated when stale
	built     time.Time
	metrics   *metrics
	draining  atomic.Bool
	// listening holds the listeners given to Serve, and shut says Shutdown
	// has begun: a Serve that starts after it serves nothing.
	listening struct {
		sync.Mutex
		lns  []net.Listener
		shut bool
	}
	// ctx ends when the server has stopped for good (after Shutdown's
	// grace): batch streams still rendering are cancelled then.
	ctx    context.Context
	cancel context.CancelFunc
	// health follows the shared store; dbFile is the SQLite file opened,
	// if any, watched for removal.
	health *storeHealth
	dbFile *dbFile
	// devPage, in a dev build, adds the dev script to each page.
	devPage func(c *fiber.Ctx, body []byte) []byte
	// files hold pages/, layouts/ and public/.
	files fs.FS
	// refused logs and counts requests refused before routing.
	refused *refused
	// pagePolicy is the Cache-Control of static pages, made once.
	pagePolicy string
	// islandSet and actionSet are the site's sets (the default ones
	// when it carries none), for the startup checks and the listening log.
	islandSet *island.Set
	actionSet *action.Set
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
	if o.Store == nil {
		return nil, errors.New("server: no store")
	}
	files := o.Site.Files
	if o.Config.Dev {
		files = os.DirFS(o.Config.Root)
	}
	if files == nil {
		return nil, errors.New("server: the site has no files")
	}
	var services any
	if o.Site.Open != nil {
		var err error
		if services, err = o.Site.Open(o.Store, o.Now); err != nil {
			return nil, fmt.Errorf("open the site's services: %w", err)
		}
	}
	if o.Built.IsZero() {
		if t, _, ok := BuildTime(); ok {
			o.Built = t
		} else {
			o.Built = o.Now()
		}
	}
	s := &Server{cfg: o.Config, log: o.Log, now: o.Now, built: o.Built, store: o.Store, fresh: map[string]*pages.Revalidating{},
		services: services, siteFuncs: o.Site.Funcs, metrics: newMetrics(),
		pagePolicy: httpcache.PagePolicy(o.Config.PageMaxAge)}

	s.islandSet, s.actionSet = o.Site.Islands, o.Site.Actions
	if s.islandSet == nil {
		s.islandSet = island.Default
	}
	if s.actionSet == nil {
		s.actionSet = action.Default
	}
	s.refused = newRefused(o.Log, s.metrics.registry)
	s.health = newStoreHealth(o.Log, s.metrics.registry, o.Now())
	s.dbFile = openedDBFile(o.Config.DB)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	rawKeys := o.Config.Keys
	if len(rawKeys) == 0 { // a Server made without App; Validate allows this only for a SQLite store
		k, _ := seal.ParseKeys(seal.GenerateKey())
		rawKeys = k
		o.Log.Warn().Msg("no keys: a throwaway key seals island props; island URLs in cached pages stop working at restart (server.App keeps a key instead)")
	}
	keys, err := seal.New(rawKeys...)
	if err != nil {
		return nil, fmt.Errorf("ATOLL_KEYS: %w", err)
	}
	s.files = files
	if err := s.loadAssets(); err != nil {
		return nil, err
	}
	s.islands, err = islands.New(islands.Options{
		Timeout:  o.Config.IslandTimeout,
		Sessions: o.Store,
		Services: services,
		Now:      o.Now,
		Log:      o.Log,
		Keys:     keys,
		Base:     o.Config.BasePath,
		Observe:  s.observeIsland,
		Context:  s.ctx,
		Islands:  s.islandSet,
		Events:   announced(s.actionSet, o.Site.Events),
		Root:     devRoot(o.Config),
	})
	if err != nil {
		return nil, err
	}
	if s.actions, err = action.NewEngine(action.Options{Store: o.Store, Services: services, Now: o.Now, Base: o.Config.BasePath, Actions: s.actionSet, Timeout: o.Config.ActionTimeout}); err != nil {
		return nil, err
	}
	s.renderer = pages.Renderer{FS: files, Funcs: s.pageFuncs(files), Built: s.built, Now: o.Now}
	if s.site, err = s.renderer.Build(); err != nil {
		if !o.Config.Dev {
			return nil, err
		}
		// In dev mode every page is rendered again per request, so a
		// template that does not render yet shows its error there.
		o.Log.Error().Err(err).Msg("dev mode: the site does not build; pages will show the error until it is fixed")
		s.site = &pages.Site{NotFound: pages.PlainNotFound()}
	} else if err := checkActionLinks(files, s.site, o.Config.BasePath, s.actionSet); err != nil {
		if !o.Config.Dev {
			return nil, err
		}
		o.Log.Error().Err(err).Msg("dev mode: a page sends an action that does not exist")
	}
	// Dev mode renders every page per request: nothing to keep
	// compressed or regenerate, and starting sooner shortens each edit.
	if !o.Config.Dev {
		compressible(s.site)
		// Rendering every page made about as much garbage as the site
		// holds, and the heap grew to twice what it keeps: give that back
		// now, once, so a large site's resident memory is what it serves.
		debug.FreeOSMemory()
		for _, route := range s.site.Routes() {
			p, _ := s.site.Lookup(route)
			if p.Mode == pages.Revalidate {
				r := pages.NewRevalidating(p, p.Every, o.Now, func() (*pages.Page, error) {
					p, err := s.render(route)
					if err != nil {
						return nil, err
					}
					return p.Compressible(), nil
				})
				r.Done = func(err error) {
					s.metrics.regenerated(route, err)
					if err != nil {
						s.log.Error().Err(err).Str("page", route).Msg("regenerate page")
					} else {
						s.log.Debug().Str("page", route).Msg("regenerated page")
					}
				}
				s.fresh[route] = r
			}
		}
	}

	s.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		// Bodies up to ReadLimit are read whole, so that one over
		// MaxBody gets its 413 from limitBody on a connection that stays
		// usable; past ReadLimit fasthttp refuses without reading and
		// closes, and the client may see a reset instead of the 413.
		BodyLimit:      ReadLimit,
		ReadBufferSize: 16 << 10,
		// Believe X-Forwarded-Proto only from configured proxies, so the
		// session cookie's Secure flag cannot be steered by a client.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          o.Config.TrustedProxies,
		ReadTimeout:             10 * time.Second,
		WriteTimeout:            30 * time.Second,
		IdleTimeout:             2 * time.Minute,
	})
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.refused.refuseUnknownMethods(s.app)
	base := s.cfg.BasePath
	s.app.Use(s.metrics.http.middleware) // outermost: it sees the status the error handler chose
	s.app.Use(s.closeWhenDraining)
	s.app.Use(requestLog(s.log, s.handleError))
	s.app.Use(recoverPanics())
	if s.cfg.Dev {
		// Files change between requests: read them again for each, and
		// let the policy follow them (the same policy, current hashes).
		s.app.Use(func(c *fiber.Ctx) error {
			if err := s.loadAssets(); err != nil {
				return err
			}
			a := s.asset()
			return secureHeaders(ContentSecurityPolicy(a.Hashes(".js"), a.Hashes(".css")))(c)
		})
	} else {
		a := s.asset()
		s.app.Use(secureHeaders(ContentSecurityPolicy(a.Hashes(".js"), a.Hashes(".css"))))
	}
	// Each route classifies its own errors first (actionFailures,
	// islandFailures), then applies the limits, so the error handler goes
	// by the errors' type.
	uri, body := s.limitURI, limitBody(MaxBody)
	s.app.Get("/livez", s.livez)
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/healthz/store", s.storeStatus)
	s.app.All(base+"/actions/*", s.actionFailures, uri, body, crossOriginProtection(s.cfg.Origin), s.actions.Handle)
	s.app.All(base+islands.Path, islandFailures, uri, body, s.islands.HandleBatch)
	s.app.All(base+islands.Path+"/:name", islandFailures, uri, body, s.islands.Handle)
	s.app.Get(base+assets.Prefix+"*", uri, func(c *fiber.Ctx) error { return s.asset().Handle(c) })
	if s.cfg.Dev && devExtras != nil {
		devExtras(s)
	}
	s.app.All("/*", uri, body, s.page)
}

// devRoot is where dev mode reads island template files: the site's
// root; empty (the embedded copies) outside dev mode.
func devRoot(c config.Config) string {
	if !c.Dev {
		return ""
	}
	return c.Root
}

// devExtras is set only in a program built with the atolldev tag (make
// dev): it adds the browser-reload endpoint and sets devPage. Production
// builds contain neither.
var devExtras func(s *Server)

// Request body limits: MaxBody is the largest body any route accepts;
// ReadLimit the largest the server reads before answering 413.
const (
	MaxBody   = 64 << 10
	ReadLimit = 1 << 20
)

// limitBody answers 413 for a request body over max, before any handler
// runs: logged, counted and answered like every other refusal.
func limitBody(max int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if len(c.Request().Body()) > max {
			return fiber.ErrRequestEntityTooLarge
		}
		return c.Next()
	}
}

// AssetURL is the fingerprinted URL of a file under public/, such as
// "css/site.css", for tests and tools.
func (s *Server) AssetURL(name string) (string, error) { return s.asset().URL(name) }

// asset returns the public files as last loaded.
func (s *Server) asset() *assets.Assets { return s.assets.Load() }

// loadAssets reads the public files: once, compressed ahead of time; in
// dev mode again for every request, uncompressed and never cached.
func (s *Server) loadAssets() error {
	load := assets.Load
	if s.cfg.Dev {
		load = assets.LoadDev
	}
	a, err := load(s.files, "public", s.cfg.BasePath+assets.Prefix, builtinAssets())
	if err != nil {
		return err
	}
	s.assets.Store(a)
	return nil
}

// builtinAssets are the engine's own public files, served beside the
// site's: the browser runtime (htmx, its SSE extension, Atoll's client)
// and the loader that pages inline.
var builtinAssets = sync.OnceValue(func() map[string][]byte {
	return map[string][]byte{client.Name: client.Runtime(), client.LoaderName: client.Loader()}
})

// runtimeTags are what {{ runtime }} places: the runtime, deferred from
// its fingerprinted URL so the browser caches it across pages and it
// never holds up the page's parsing, and the loader inline (allowed by
// its CSP hash), which fills the page's batched islands without waiting
// for it.
func (s *Server) runtimeTags() (template.HTML, error) {
	a := s.asset()
	u, err := a.URL(client.Name)
	if err != nil {
		return "", err
	}
	loader, err := a.Inline(client.LoaderName)
	if err != nil {
		return "", err
	}
	return template.HTML(`<script defer src="`+template.HTMLEscapeString(u)+`"></script>`) + loader, nil
}

// App is the Fiber application, for benchmarks that drive its handler
// without a socket.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.listening.Lock()
	if s.listening.shut {
		s.listening.Unlock()
		ln.Close()
		return nil
	}
	s.listening.lns = append(s.listening.lns, ln)
	s.listening.Unlock()
	s.log.Info().Str("addr", ln.Addr().String()).Bool("dev", s.cfg.Dev).Str("base_path", s.cfg.BasePath).
		Strs("pages", s.site.Routes()).Strs("islands", s.islandSet.Names()).Strs("actions", s.actionSet.Names()).Time("built", s.built).Msg("listening")
	return s.app.Listener(ln)
}

// Shutdown stops accepting connections and waits, until ctx ends, for
// requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.listening.Lock()
	s.listening.shut = true
	lns := s.listening.lns
	s.listening.Unlock()
	err := s.app.ShutdownWithContext(ctx)
	// A Serve called just before Shutdown may not have reached Fiber yet,
	// which then had no listener to close, and would serve on for good:
	// closing its listener ends it either way.
	for _, ln := range lns {
		ln.Close()
	}
	s.cancel() // what still renders for a stream outlived the grace period
	for _, r := range s.fresh {
		if rerr := r.Stop(ctx); rerr != nil && err == nil {
			err = fmt.Errorf("page regeneration still running: %w", rerr)
		}
	}
	return err
}

// observeIsland records how a render ended in the metrics, and a store
// outage in the store's health.
func (s *Server) observeIsland(name string, o islands.Outcome, took time.Duration) {
	s.metrics.observeIsland(name, o, took)
	if o == islands.OutcomeUnavailable {
		s.health.unavailable(s.now(), time.Now().Add(-took), errIslandUnavailable)
	}
}

var errIslandUnavailable = errors.New("an island could not reach the store")

// render renders one route afresh from the site's files.
func (s *Server) render(route string) (*pages.Page, error) {
	p, ok, err := s.renderer.Render(route)
	if err == nil && !ok {
		err = fmt.Errorf("page %s is gone", route)
	}
	return p, err
}

// pageFuncs returns the template functions for one page:
//
//	{{ island "name" }}                          a placeholder with the island's fallback
//	{{ island "name" (fallback `<p>…</p>`) }}    the page's own fallback
//	{{ island "name" (props "sku" .SKU) }}       sealed props for the island
//	{{ island "name" visible }}                  load when scrolled into view
//	{{ island "name" (poll "5s") }}              fetch again every 5 seconds
//	{{ island "name" (on "order-placed") }}      fetch again when the event fires
//	{{ batch }}                                  the page's batch stream (layouts, end of body)
//	{{ preload }}                                preload links for the page's first island request (layouts, head)
//	{{ asset "css/site.css" }}                   a fingerprinted asset URL
//	{{ runtime }}                                the engine's browser runtime (htmx and Atoll's client), deferred, and its inline loader (layouts, head)
//	{{ inline "css/site.css" }}                  a script or stylesheet of the site inlined, allowed by its CSP hash
//	{{ url "/about" }}                           a path under the base path
//	{{ range renders }}…{{ end }}                island renders in the last minute, by island
//	{{ snippet "file" "first" "last" }}          lines of a repo file, for docs
func (s *Server) pageFuncs(files fs.FS) func(pages.Source) (template.FuncMap, pages.Finish) {
	return func(src pages.Source) (template.FuncMap, pages.Finish) {
		count := map[string]int{}
		var placed []*islands.Placement
		var placeholders []template.HTML // placed[i]'s markup, for the page cut where its islands go
		var batchURL string
		var batchEl template.HTML
		// The head comes before the islands it should preload, so
		// {{ preload }} leaves a mark that finish fills in once the
		// whole page is rendered.
		var batchPlaced, preloadPlaced, runtimePlaced bool
		finish := func(out []byte) ([]byte, *islands.Stitch) {
			// A page with islands needs the runtime and its batch stream:
			// when neither it nor its layout places them, they go before
			// </head> and </body>, with the preload links.
			if len(placed) > 0 && !batchPlaced {
				el, u := s.islands.BatchElement(src.Route, placed)
				batchURL, batchEl = u, el
				out = insertBefore(out, "</body>", []byte(el), len(out))
			}
			var head []byte
			if len(placed) > 0 && !preloadPlaced {
				head = append(head, preloadMark...)
			}
			if len(placed) > 0 && !runtimePlaced {
				if rt, err := s.runtimeTags(); err == nil {
					head = append(head, rt...)
				}
			}
			if len(head) > 0 {
				at := 0
				if i := bytes.Index(bytes.ToLower(out), []byte("<body")); i >= 0 {
					at = i
				}
				out = insertBefore(out, "</head>", head, at)
			}
			st := s.stitch(src, out, placed, placeholders, batchEl)
			var urls []string
			if batchURL != "" {
				urls = append(urls, batchURL)
			}
			for _, p := range placed {
				if u := s.islands.PreloadURL(p); u != "" {
					urls = append(urls, u)
				}
			}
			return bytes.Replace(out, []byte(preloadMark), []byte(islands.PreloadLinks(urls)), 1), st
		}
		funcs := template.FuncMap{
			"island": func(name string, opts ...placementOption) (template.HTML, error) {
				count[name]++
				p := &islands.Placement{Spec: islands.Spec{Name: name, Page: src.Route}, ID: fmt.Sprintf("island-%s-%d", name, count[name])}
				for _, o := range opts {
					if err := o(p); err != nil {
						return "", fmt.Errorf("island %q: %w", name, err)
					}
				}
				p.Batched = src.Batch && !p.Visible
				ph, err := s.islands.Placeholder(p)
				if err == nil {
					placed, placeholders = append(placed, p), append(placeholders, ph)
				}
				return ph, err
			},
			"fallback": func(html string) placementOption {
				return func(p *islands.Placement) error { p.Fallback = template.HTML(html); return nil }
			},
			"props": func(kv ...any) placementOption {
				return func(p *islands.Placement) error {
					if len(kv)%2 != 0 {
						return fmt.Errorf("props takes key, value pairs; got %d arguments", len(kv))
					}
					if p.Props == nil {
						p.Props = map[string]string{}
					}
					for i := 0; i < len(kv); i += 2 {
						k, ok := kv[i].(string)
						if !ok {
							return fmt.Errorf("props key %v is not a string", kv[i])
						}
						if _, dup := p.Props[k]; dup {
							return fmt.Errorf("prop %q given twice", k)
						}
						p.Props[k] = fmt.Sprint(kv[i+1])
					}
					return nil
				}
			},
			"visible": func() placementOption {
				return func(p *islands.Placement) error { p.Visible = true; return nil }
			},
			"poll": func(every string) placementOption {
				return func(p *islands.Placement) error {
					d, err := time.ParseDuration(every)
					if err != nil {
						return fmt.Errorf("poll %q: %w", every, err)
					}
					p.Every = d
					return nil
				}
			},
			"on": func(event string) placementOption {
				return func(p *islands.Placement) error { p.On = append(p.On, event); return nil }
			},
			"batch": func() template.HTML {
				batchPlaced = true
				el, u := s.islands.BatchElement(src.Route, placed)
				batchURL, batchEl = u, el
				return el
			},
			"preload": func() template.HTML { preloadPlaced = true; return preloadMark },
			"renders": func() []islands.RenderCount { return s.islands.RendersLastMinute(s.now()) },
			"asset":   func(name string) (string, error) { return s.asset().URL(name) },
			"inline":  func(name string) (template.HTML, error) { return s.asset().Inline(name) },
			"runtime": func() (template.HTML, error) { runtimePlaced = true; return s.runtimeTags() },
			"url":     func(path string) string { return s.cfg.BasePath + path },
			"snippet": func(file, first, last string) (string, error) { return snippet(files, file, first, last) },
		}
		if s.siteFuncs != nil {
			for name, f := range s.siteFuncs(s.services) {
				funcs[name] = f
			}
		}
		return funcs, finish
	}
}

// insertBefore inserts what before the last occurrence of tag in out
// (case-insensitive), or at byte at when out has no such tag.
func insertBefore(out []byte, tag string, what []byte, at int) []byte {
	if i := bytes.LastIndex(bytes.ToLower(out), []byte(tag)); i >= 0 {
		at = i
	}
	return append(out[:at:at], append(what, out[at:]...)...)
}

// preloadMark is where {{ preload }} puts the page's preload links.
const preloadMark = "<!--atoll:preload-->"

// placementOption changes one island placement.
type placementOption func(*islands.Placement) error

// snippet returns the lines of file from the first line containing first
// through the next line that reads exactly last (trailing space aside, so
// "}" is the end of a top-level function, not of a block inside it), or
// that one line when last is empty, with their common
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
		if start >= 0 && (last == "" || strings.TrimRight(l, " \t\r") == last) {
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

// Services are what the site's Open made.
func (s *Server) Services() any { return s.services }

// compressible readies every page of the site to be served compressed.
// Nothing is compressed here: each page's gzip and brotli (quality 11)
// encodings are made when a request first asks for them, once per page
// and encoding, and kept (compress.Lazy). Compressing every page at
// startup took most of the startup time of a large site and held every
// encoding of every page; now a ready server serves any page at once
// (uncompressed to a client that accepts neither encoding, and after one
// compression to the first that does), and holds what has been served.
func compressible(site *pages.Site) {
	site.NotFound.Compressible()
	for _, route := range site.Routes() {
		p, _ := site.Lookup(route)
		p.Compressible()
	}
}

// Routes are the site's page routes, sorted.
func (s *Server) Routes() []string { return s.site.Routes() }
