// Package pages finds the page templates under pages/, renders each one
// inside its layout, and keeps the bytes.
//
// One file is one route: pages/index.html is /, pages/about.html is /about
// and pages/blog/index.html is /blog. pages/404.html is the not-found page.
// A page may open with a front-matter comment:
//
//	{{/*
//	title: About Atoll
//	layout: main
//	render: static
//	islands: separate
//	*/}}
//
// render is static (the default: rendered once at startup), ssr (rendered
// per request) or a duration such as 30s (rendered again in the
// background once older than that). islands is batch (the default: every
// island that loads with the page comes in one streamed request, which a
// preload in the page's head starts early) or separate (one request per
// island). Lazy islands (visible) always make their own request. edge
// says where load-time islands go when they travel in the page's own
// response, which happens for a page rendered per request and for a
// page requested through an SSI edge (the nginx configuration `atoll
// nginx` prints): position (the default: each where the page places it,
// shown without JavaScript), end (after the page's content, swapped in
// by the loader, so the whole shell shows first) or none (never: the
// page's islands are fetched after load, as when it is served directly).
//
// A page shares one namespace with the layouts and their partials, which
// are parsed once (gofiber/template/html) and copied for each render, so
// per-page values such as the title travel as data, never as {{define}}
// blocks.
package pages

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing/fstest"
	"time"

	"github.com/gofiber/template/html/v2"

	"github.com/atollhq/atoll/internal/compress"
	"github.com/atollhq/atoll/internal/islands"
)

// Mode is how a page is rendered.
type Mode string

// Render modes.
const (
	Static     Mode = "static"     // once, at startup
	SSR        Mode = "ssr"        // per request
	Revalidate Mode = "revalidate" // again in the background when stale
)

// Source is one page template and what its front matter says.
type Source struct {
	Route  string // "/about"
	File   string // "pages/about.html"
	Title  string
	Layout string // name under layouts/, "" for none
	// layoutSet is true when the front matter names the layout.
	layoutSet bool
	Mode      Mode
	Every     time.Duration // for Revalidate
	Batch     bool          // load-time islands come in one streamed request (the default)
	// Edge is where the page's load-time islands go when they travel in
	// the page's own response (behind an SSI edge, or rendered per
	// request): islands.EdgePosition (the default), EdgeEnd or EdgeNone.
	Edge string
}

func (s Source) templateName() string { return strings.TrimSuffix(s.File, ".html") }

// Page is a rendered page.
type Page struct {
	Source
	Body []byte
	ETag string // strong
	// Variants holds Body and its compressed encodings, each made on
	// first request; set by Compressible for pages served as stored bytes.
	Variants *compress.Variants
	// Stitch is the page cut where its islands go, for a response that
	// carries them (an SSI edge's shell, a page rendered per request); nil
	// when the page has none to carry.
	Stitch *islands.Stitch
}

// Compressible readies the page to be served as stored bytes in any
// encoding: each encoding is made once, when a request first asks for it
// (compress.Lazy), so startup compresses nothing.
func (p *Page) Compressible() *Page {
	p.Variants = compress.Lazy(p.Body, p.ETag)
	return p
}

// Finish sees the whole output of one render of a page and returns it,
// perhaps rewritten, and the page cut where its islands go, or nil.
type Finish func(out []byte) ([]byte, *islands.Stitch)

// Data is what every page and layout template receives.
type Data struct {
	Title     string
	Path      string
	BuildTime string // "2025-01-01 00:00:00 UTC": the build's time
	BuildISO  string // RFC 3339, for <time datetime>
	// RenderTime is when this copy of the page was rendered: the build
	// time for static pages, later for regenerated and per-request ones.
	RenderTime string
	RenderISO  string
}

// Renderer renders pages from FS, which holds pages/ and layouts/.
type Renderer struct {
	FS fs.FS
	// Funcs returns the template functions for one render of a page
	// ({{ island }} needs to know which page it is placing islands on),
	// and a finish step that sees the whole output of that render and may
	// rewrite it: the head's preload links name islands that the body
	// places later. finish may be nil; it may also cut the page where its
	// islands go (Page.Stitch), or return nil for that.
	Funcs func(Source) (funcs template.FuncMap, finish Finish)
	// Built is the build time shown on pages.
	Built time.Time
	// Now is the clock for RenderTime; time.Now when nil.
	Now func() time.Time
}

// NotFoundFile is the template rendered for unknown paths.
const NotFoundFile = "pages/404.html"

// Site is every page rendered once, by route. Pages in other modes are
// rendered too, so startup proves they render; the server decides how to
// serve each by its Mode.
type Site struct {
	routes   map[string]*Page
	NotFound *Page
}

// Lookup returns the page for a route.
func (s *Site) Lookup(route string) (*Page, bool) {
	p, ok := s.routes[route]
	return p, ok
}

// Routes returns every route, sorted.
func (s *Site) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for r := range s.routes {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Build renders every page. The first page that fails stops the build,
// and the error names its file.
//
// The layouts (and the partials under layouts/) are parsed once; each
// page is parsed into a copy of them of its own (see templates.render),
// so building a site takes time in proportion to its pages.
func (r Renderer) Build() (*Site, error) {
	tfs, srcs, err := r.load("")
	if err != nil {
		return nil, err
	}
	set, err := r.parse(tfs, srcs)
	if err != nil {
		return nil, err
	}
	site := &Site{routes: map[string]*Page{}}
	for _, src := range srcs {
		p, err := set.render(src)
		if err != nil {
			return nil, err
		}
		if src.File == NotFoundFile {
			site.NotFound = p
			continue
		}
		site.routes[src.Route] = p
	}
	if site.NotFound == nil {
		site.NotFound = PlainNotFound()
	}
	return site, nil
}

// PlainNotFound is the engine's own not-found page, for a site without
// pages/404.html: a heading and nothing else, no layout and no script.
func PlainNotFound() *Page {
	body := []byte("<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<title>Not found</title>\n<h1>Not found</h1>\n<p>There is no page at this address.</p>\n</html>\n")
	sum := sha256.Sum256(body)
	return &Page{Source: Source{File: NotFoundFile}, Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// Render reads the templates afresh and renders the page for one route
// (dev mode, and pages rendered again after startup). ok is false when no
// page has that route. It reads the layouts and that one page, not the
// rest of the site.
func (r Renderer) Render(route string) (p *Page, ok bool, err error) {
	tfs, srcs, err := r.load(route)
	if err != nil {
		return nil, false, err
	}
	for _, src := range srcs {
		if src.Route == route && src.File != NotFoundFile {
			set, err := r.parse(tfs, []Source{src})
			if err != nil {
				return nil, true, err
			}
			p, err := set.render(src)
			return p, true, err
		}
	}
	return nil, false, nil
}

// load copies pages/ and layouts/ into memory and reads each page's front
// matter. Copying keeps the template engine away from anything else in
// the directory (node_modules, say). When only is not empty, pages of
// other routes are skipped unread.
func (r Renderer) load(only string) (fstest.MapFS, []Source, error) {
	tfs := fstest.MapFS{}
	var srcs []Source
	for _, dir := range []string{"pages", "layouts"} {
		err := fs.WalkDir(r.FS, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || path.Ext(p) != ".html" {
				return nil
			}
			if dir == "pages" && only != "" && routeOf(p) != only {
				return nil
			}
			b, err := fs.ReadFile(r.FS, p)
			if err != nil {
				return err
			}
			tfs[p] = &fstest.MapFile{Data: b}
			if dir == "pages" {
				src, err := parseSource(p, b)
				if err != nil {
					return err
				}
				srcs = append(srcs, src)
			}
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) && dir == "layouts" {
			continue // a site without layouts: every page is whole
		}
		if err != nil {
			return nil, nil, fmt.Errorf("pages: read %s/: %w", dir, err)
		}
	}
	// A page that names no layout is wrapped in layouts/main.html when
	// the site has one.
	if _, ok := tfs["layouts/"+DefaultLayout+".html"]; !ok {
		for i := range srcs {
			if srcs[i].Layout == DefaultLayout && !srcs[i].layoutSet {
				srcs[i].Layout = ""
			}
		}
	}
	return tfs, srcs, nil
}

// DefaultLayout is the layout of a page whose front matter names none,
// when layouts/main.html exists.
const DefaultLayout = "main"

// templates is a site's layouts and partials, parsed once and never
// executed, so that each render can Clone them: html/template refuses to
// clone a set that has run.
type templates struct {
	r    Renderer
	tfs  fstest.MapFS
	base *template.Template
}

// parse parses the layouts with the gofiber engine, and each of srcs on
// its own, so that a page that does not parse stops the build with the
// same error, and in the same order (layouts, then pages by path), as
// when one engine parsed the whole site. A page parsed here is parsed
// again by its render; parsing is cheap next to rendering, and holding
// every page's templates would cost memory in proportion to the site.
func (r Renderer) parse(tfs fstest.MapFS, srcs []Source) (*templates, error) {
	layouts := fstest.MapFS{}
	for name, f := range tfs {
		if strings.HasPrefix(name, "layouts/") {
			layouts[name] = f
		}
	}
	engine := html.NewFileSystem(http.FS(layouts), ".html")
	funcs := r.parseFuncs()
	engine.AddFuncMap(funcs)
	if err := engine.Load(); err != nil {
		return nil, fmt.Errorf("pages: parse templates: %w", place(err, tfs, ""))
	}
	funcs[layoutFunc] = engine.Funcmap[layoutFunc]
	for _, src := range srcs {
		if _, err := template.New(src.templateName()).Funcs(funcs).Parse(string(tfs[src.File].Data)); err != nil {
			return nil, fmt.Errorf("pages: parse templates: %w", place(err, tfs, ""))
		}
	}
	return &templates{r: r, tfs: tfs, base: engine.Templates}, nil
}

// layoutFunc is the function a layout calls where its page goes, as the
// gofiber engine names it.
const layoutFunc = "embed"

// parseFuncs are the page functions, for parsing only: a template must
// name functions that exist, and no render will call these.
func (r Renderer) parseFuncs() template.FuncMap {
	funcs := template.FuncMap{}
	if r.Funcs != nil {
		f, _ := r.Funcs(Source{})
		for name, fn := range f {
			funcs[name] = fn
		}
	}
	return funcs
}

// render renders one page with template sets of its own, so the island
// function can count placements per page and no template state is
// shared between renders: each render clones the layouts and parses its
// page into the clone. (gofiber/template/html v2.1.3 shares its engine's
// function map across renders, which races under concurrent renders, so
// its Render is not used.)
//
// The page is rendered twice: alone, then inside its layout. The layout's
// {{embed}} turns an error in the page into text in the output instead of
// returning it, so only the render without a layout reports a page error.
func (t *templates) render(src Source) (*Page, error) {
	r := t.r
	now := r.Built
	if r.Now != nil && src.Mode != Static {
		now = r.Now()
	}
	data := Data{
		Title:      src.Title,
		Path:       src.Route,
		BuildTime:  r.Built.UTC().Format(stamp),
		BuildISO:   r.Built.UTC().Format(time.RFC3339),
		RenderTime: now.UTC().Format(stamp),
		RenderISO:  now.UTC().Format(time.RFC3339),
	}
	set, err := t.base.Clone()
	if err != nil {
		return nil, fmt.Errorf("pages: clone layouts: %w", err)
	}
	page, err := set.New(src.templateName()).Parse(string(t.tfs[src.File].Data))
	if err != nil {
		return nil, fmt.Errorf("pages: parse templates: %w", place(err, t.tfs, ""))
	}
	// Alone, the page is rendered for its errors only when a layout
	// wraps it: finishing that output would be work thrown away.
	body, st, err := t.execute(set, page, src, data, "", src.Layout == "")
	if err != nil {
		return nil, err
	}
	if src.Layout != "" {
		if body, st, err = t.execute(set, page, src, data, "layouts/"+src.Layout, true); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(body)
	return &Page{Source: src, Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Stitch: st}, nil
}

// execute runs page, or layout with page in its {{embed}}, with a fresh
// set of page functions, as the gofiber engine's Render did: while the
// page runs, embed is a nil function. The page functions' finish step
// runs only when finishing: on the output that is kept.
func (t *templates) execute(set, page *template.Template, src Source, data Data, layout string, finishing bool) ([]byte, *islands.Stitch, error) {
	var finish Finish
	if t.r.Funcs != nil {
		var funcs template.FuncMap
		funcs, finish = t.r.Funcs(src)
		set.Funcs(funcs)
	}
	if !finishing {
		finish = nil
	}
	var noLayout func() error
	var buf bytes.Buffer
	run := func() error {
		set.Funcs(template.FuncMap{layoutFunc: noLayout})
		return page.Execute(&buf, data)
	}
	if layout != "" {
		lay := set.Lookup(layout)
		if lay == nil {
			return nil, nil, place(fmt.Errorf("render: LayoutName %s does not exist", layout), t.tfs, src.File)
		}
		set.Funcs(template.FuncMap{layoutFunc: run})
		run = func() error { return lay.Execute(&buf, data) }
	}
	if err := run(); err != nil {
		return nil, nil, place(err, t.tfs, src.File)
	}
	if finish != nil {
		out, st := finish(buf.Bytes())
		return out, st, nil
	}
	return buf.Bytes(), nil, nil
}

// stamp is the site's one format for a moment: ISO date, 24-hour time,
// UTC, said so.
const stamp = "2006-01-02 15:04:05 UTC"

// templateLoc matches the place html/template puts at the front of its
// errors, "template: NAME:LINE:COL: " or "html/template:NAME:LINE: ",
// and, for an execution error, what it was executing; for a function
// that failed, up to the function's own message.
var templateLoc = regexp.MustCompile(`^(?:html/)?template: ?([^:]+):(\d+)(?::\d+)?: (?:executing "[^"]*" (?:at <.*?>: error calling [^:]+: )?)?`)

// place rewrites a template error, which names a template by its name
// ("template: pages/many:12:5: executing …"), to start with the file and
// line, as compilers do: "pages/many.html:12: island "latency": missing
// required prop "ms"". When the error is in another file than page (a
// partial or the layout), it says which page was rendering. An error it
// does not recognise is only prefixed with page.
func place(err error, tfs fstest.MapFS, page string) error {
	msg := err.Error()
	m := templateLoc.FindStringSubmatch(msg)
	if m == nil {
		if page == "" {
			return err
		}
		return fmt.Errorf("page %s: %w", page, err)
	}
	file := m[1]
	if _, ok := tfs[file+".html"]; ok {
		file += ".html"
	}
	msg = file + ":" + m[2] + ": " + msg[len(m[0]):]
	if page != "" && file != page {
		msg += " (rendering " + page + ")"
	}
	return &placedError{msg: msg, err: err}
}

// placedError is a template error with its file and line.
type placedError struct {
	msg string
	err error
}

func (e *placedError) Error() string { return e.msg }
func (e *placedError) Unwrap() error { return e.err }

// routeOf is the route of the page in file.
func routeOf(file string) string {
	route := "/" + strings.TrimSuffix(strings.TrimPrefix(file, "pages/"), ".html")
	route = strings.TrimSuffix(route, "/index")
	if route == "" || route == "/index" {
		return "/"
	}
	return route
}

// parseSource works out a page's route and reads its front matter.
func parseSource(file string, body []byte) (Source, error) {
	route := routeOf(file)
	src := Source{Route: route, File: file, Title: "Atoll", Layout: DefaultLayout, Mode: Static, Batch: true, Edge: islands.EdgePosition}
	text := strings.TrimLeft(string(body), " \t\r\n")
	if !strings.HasPrefix(text, "{{/*") {
		return src, nil
	}
	end := strings.Index(text, "*/}}")
	if end < 0 {
		return src, fmt.Errorf("%s: front matter opened with {{/* is never closed with */}}", file)
	}
	for _, line := range strings.Split(text[len("{{/*"):end], "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return src, fmt.Errorf("%s: front matter line %q is not key: value", file, line)
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "title":
			src.Title = value
		case "layout":
			src.Layout, src.layoutSet = value, true
			if value == "none" {
				src.Layout = ""
			}
		case "render":
			switch value {
			case "static", "":
				src.Mode = Static
			case "ssr":
				src.Mode = SSR
			default:
				d, err := time.ParseDuration(value)
				if err != nil || d < time.Second {
					return src, fmt.Errorf("%s: render: %q: want static, ssr or an interval of at least 1s such as 30s", file, value)
				}
				src.Mode, src.Every = Revalidate, d
			}
		case "islands":
			switch value {
			case "batch", "":
				src.Batch = true
			case "separate":
				src.Batch = false
			default:
				return src, fmt.Errorf("%s: islands: %q: want batch or separate", file, value)
			}
		case "edge":
			switch value {
			case islands.EdgePosition, islands.EdgeEnd, islands.EdgeNone:
				src.Edge = value
			case "":
				src.Edge = islands.EdgePosition
			default:
				return src, fmt.Errorf("%s: edge: %q: want position, end or none", file, value)
			}
		default:
			return src, fmt.Errorf("%s: unknown front matter key %q (known: title, layout, render, islands, edge)", file, key)
		}
	}
	return src, nil
}
