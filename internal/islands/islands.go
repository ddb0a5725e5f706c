// Package islands turns registered islands into two things: the
// placeholder a page carries, and the endpoints that render islands per
// request, one at a time or many in one stream, under a deadline, with
// panics and errors contained.
package islands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"text/template/parse"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/island"
)

// Path is the island endpoint's path under the site's base path; an
// island is served at Path/{name}, a batch stream at Path itself.
const Path = "/_islands"

// MaxURL is the longest island URL a placeholder puts in hx-get; longer
// ones send their sealed props in a POST body.
const MaxURL = 2048

// Options configures an Engine.
type Options struct {
	// Timeout is the deadline of an island that does not set its own.
	Timeout time.Duration
	// Sessions look up the session cookie for island.Request.Session.
	Sessions island.Sessions
	// Services are the site's, handed to every island's Render.
	Services any
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log zerolog.Logger
	// Keys seal and open props and batch lists.
	Keys *seal.Keys
	// Base is the site's base path ("" or "/shop").
	Base string
	// Observe, when set, is told how each render of a registered island
	// ended and how long it took (metrics).
	Observe func(island string, outcome Outcome, took time.Duration)
	// Islands are the islands to serve. Required: the server passes the
	// site's set, or island.Default for a site that carries none.
	Islands *island.Set
	// Context ends when the server stops for good; batch streams render
	// under it (they outlive their handler). context.Background when nil.
	Context context.Context
	// MaxRenders bounds the island renders running at once, over all
	// islands; 0 means DefaultMaxRenders. One island may hold at most a
	// quarter of them, so a slow one cannot take the others' share. A
	// render past either bound is refused with 503 and Retry-After.
	MaxRenders int
	// Root, in dev mode, is the site's root on disk: island template
	// files under it are read from there, again after each edit, rather
	// than from the copy embedded at build time. Empty in production.
	Root string
	// Events are the events some response or client code announces. A
	// placement that refreshes on another event is an error, since
	// nothing would ever refresh it; nil leaves events unchecked.
	Events []string
}

type registered struct {
	island.Island
	tmpl *template.Template
	// src is where the template lives, for its errors.
	src     source
	timeout time.Duration
	cache   string
	// open is the wrapper's opening tag when the island does not refresh
	// itself, made once.
	open string
	// name is Name as an interface value, made once, so storing it in a
	// request's Locals allocates nothing.
	name any
	// size is the length of the island's last fragment, so the next
	// render's buffer is allocated once at about the right size.
	size atomic.Int64
	// plan is the template's fast path, or why there is none; nil until
	// the first render escaped the template.
	plan atomic.Pointer[plan]
	// running counts this island's renders in flight.
	running atomic.Int64
	// disk, in dev mode, is the template file on disk; nil otherwise.
	disk *diskTemplate
}

// Engine renders registered islands.
type Engine struct {
	islands map[string]*registered
	opts    Options
	stats   renderStats
	// running counts the renders in flight, against maxRenders.
	running    atomic.Int64
	maxRenders int64
}

// DefaultMaxRenders is the bound on renders running at once when
// Options.MaxRenders is 0.
const DefaultMaxRenders = 512

var maxAge = regexp.MustCompile(`^(private|public), max-age=\d{1,8}$`)

// New provisions every island in opts.Islands, as the set is when it is
// called: it parses each template and
// checks each cache declaration, and fails naming the island at fault
// and, for a template, its file and line.
func New(opts Options) (*Engine, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.Keys == nil {
		return nil, errors.New("islands: no keys to seal props with")
	}
	if opts.Islands == nil {
		return nil, errors.New("islands: no island set")
	}
	e := &Engine{islands: map[string]*registered{}, opts: opts, maxRenders: int64(opts.MaxRenders)}
	if e.maxRenders <= 0 {
		e.maxRenders = DefaultMaxRenders
	}
	for _, name := range opts.Islands.Names() {
		fi, err := opts.Islands.Lookup(name)
		if err != nil {
			return nil, err
		}
		src := sourceOf(fi)
		t, err := parseTemplate(fi, src)
		if err != nil {
			return nil, err
		}
		cache, err := cacheControl(fi)
		if err != nil {
			return nil, err
		}
		is := &registered{Island: fi, tmpl: t, src: src, timeout: fi.Timeout, cache: cache, open: e.openTag(&Spec{Name: name}), name: name,
			disk: onDisk(opts.Root, fi, src)}
		if is.timeout == 0 {
			is.timeout = opts.Timeout
		}
		e.islands[name] = is
	}
	return e, nil
}

// cacheControl checks an island's cache declaration and returns its
// Cache-Control header. A public lifetime for an island that reads
// cookies is refused: a shared cache would hand one visitor's island to
// another.
func cacheControl(fi island.Island) (string, error) {
	switch {
	case fi.CacheControl == "":
		return "no-store", nil
	case !maxAge.MatchString(fi.CacheControl):
		return "", fmt.Errorf("island %q: CacheControl %q: want empty (no-store), \"private, max-age=N\" or \"public, max-age=N\"", fi.Name, fi.CacheControl)
	case strings.HasPrefix(fi.CacheControl, "public") && len(fi.Cookies) > 0:
		return "", fmt.Errorf("island %q reads cookies %v but declares CacheControl %q: a shared cache would hand one visitor's island to another; use \"private, max-age=N\"",
			fi.Name, fi.Cookies, fi.CacheControl)
	}
	return fi.CacheControl, nil
}

// Spec is what an island URL carries: which island, on which page, with
// which props, refreshed how.
type Spec struct {
	Name  string
	Page  string            // the page's path, without the base path
	Props map[string]string // nil when the page passed none
	Every time.Duration     // poll interval, 0 for none
	On    []string          // events that refresh the island
	// sealed is Props as they travel; made on first use.
	sealed string
}

// sealedProps returns the props sealed for this island, or "" for none.
func (e *Engine) sealedProps(s *Spec) string {
	if s.Props == nil {
		return ""
	}
	if s.sealed == "" {
		b, _ := json.Marshal(s.Props) // a map of strings always marshals
		s.sealed = e.opts.Keys.Seal(purpose(s.Name), b)
	}
	return s.sealed
}

func purpose(island string) string { return "island:" + island }

// url is the island's URL without its sealed props, and the props.
func (e *Engine) url(s *Spec) (base string, props string) {
	q := url.Values{}
	q.Set("page", s.Page)
	if s.Every > 0 {
		q.Set("every", formatEvery(s.Every))
	}
	if len(s.On) > 0 {
		q.Set("on", strings.Join(s.On, ","))
	}
	return e.opts.Base + Path + "/" + s.Name + "?" + q.Encode(), e.sealedProps(s)
}

// getURL is the island's URL with its sealed props, and whether it is
// short enough (MaxURL) to be fetched with GET.
func (e *Engine) getURL(s *Spec) (string, bool) {
	u, p := e.url(s)
	if p == "" {
		return u, true
	}
	full := u + "&p=" + p
	return full, len(full) <= MaxURL
}

// requestAttrs are the htmx attributes that fetch the island described by
// s: hx-get with everything in the URL, or, when that URL would be longer
// than MaxURL, hx-post with the sealed props in the body.
func (e *Engine) requestAttrs(s *Spec) string {
	if full, ok := e.getURL(s); ok {
		return `hx-get="` + template.HTMLEscapeString(full) + `"`
	}
	u, p := e.url(s)
	vals, _ := json.Marshal(map[string]string{"p": p})
	return `hx-post="` + template.HTMLEscapeString(u) + `" hx-vals="` + template.HTMLEscapeString(string(vals)) + `"`
}

// refreshTrigger is the hx-trigger a rendered island carries so it can
// fetch itself again: its poll and its events, never load.
func refreshTrigger(s *Spec) string {
	var parts []string
	if s.Every > 0 {
		parts = append(parts, "every "+formatEvery(s.Every))
	}
	for _, ev := range s.On {
		parts = append(parts, ev+" from:document")
	}
	return strings.Join(parts, ", ")
}

func formatEvery(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// Render runs the island s names with the request's cookies and returns
// its fragment: the template's output in a wrapper that carries the
// island's name and, if it refreshes, its own request attributes, never a
// load trigger. Props that do not match the island's declaration are a
// 400, the island never run. Every failure is a *Failure.
//
// The island runs on the caller's goroutine under a context that ends at
// its deadline: cancellation is cooperative, as everywhere in Go. An
// island that returns after its deadline, whether or not it honoured its
// context, answers 504 and its output is dropped, so a late island looks
// the same to the visitor as one that stopped in time. (Handing renders to
// other goroutines so that a late one could be abandoned cost a tenth of
// the island throughput, and left abandoned renders running unbounded.)
func (e *Engine) Render(parent context.Context, s *Spec, cookies map[string]string) (body []byte, err error) {
	is, ok := e.islands[s.Name]
	if !ok {
		return nil, &Failure{Status: fiber.StatusNotFound, Message: "This island does not exist."}
	}
	if err := is.CheckProps(s.Props); err != nil {
		e.observe(s.Name, OutcomeBadProps, 0)
		return nil, badLink(s.Name, err)
	}
	if !e.admit(is) {
		e.observe(s.Name, OutcomeSaturated, 0)
		return nil, &Failure{Spec: s, Status: fiber.StatusServiceUnavailable, Outcome: OutcomeSaturated,
			Message: "This is temporarily unavailable. Please try again in a moment.", Retry: true, RetryAfter: 1,
			Cause: fmt.Errorf("%d renders running, %d of them of this island", e.running.Load(), is.running.Load())}
	}
	defer e.release(is)
	start := time.Now()
	defer func() {
		if parent.Err() != nil && err != nil {
			// The client left: not the island's failure, and not counted as one.
			err = &Failure{Spec: s, Status: 499, Outcome: OutcomeCanceled, Message: "The request was cancelled.", Cause: parent.Err()}
			return
		}
		e.stats.record(s.Name, e.opts.Now(), err == nil)
		e.observe(s.Name, outcomeOf(err), time.Since(start))
	}()
	ctx, cancel := context.WithTimeout(parent, is.timeout)
	defer cancel()
	req := island.NewRequest(ctx, island.RequestInit{Island: is.Island, Now: e.opts.Now(), Page: s.Page,
		Props: s.Props, Cookies: cookies, Base: e.opts.Base, Sessions: e.opts.Sessions, Services: e.opts.Services})
	open := is.open
	if s.Every > 0 || len(s.On) > 0 {
		open = e.openTag(s)
	}
	body, err = is.render(s, req, open)
	if parent.Err() == nil && ctx.Err() != nil {
		return nil, timeoutFailure(s, ctx.Err())
	}
	if err != nil {
		return nil, Fail(s, err)
	}
	return body, nil
}

// admit counts one more render of is in flight, or refuses it when the
// engine or the island is at its bound; release ends what admit began.
func (e *Engine) admit(is *registered) bool {
	n, own := e.running.Add(1), is.running.Add(1)
	if n > e.maxRenders || own > max(1, e.maxRenders/4) {
		e.release(is)
		return false
	}
	return true
}

func (e *Engine) release(is *registered) {
	e.running.Add(-1)
	is.running.Add(-1)
}

// render runs the island and writes its data into its wrapper, or returns
// the panic the island raised as a *Failure.
func (is *registered) render(s *Spec, req *island.Request, open string) (body []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			body, err = nil, &Failure{Spec: s, Status: fiber.StatusInternalServerError, Outcome: OutcomePanic,
				Message: "This part of the page crashed.", Retry: true,
				Cause: fmt.Errorf("panic: %v", p), Stack: debug.Stack()}
		}
	}()
	data, err := is.Render(req)
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, is.size.Load()+64))
	buf.WriteString(open)
	if is.disk != nil { // dev mode: the file as it is now, and no plan made from an older one
		t, err := is.disk.template()
		if err != nil {
			return nil, err
		}
		if err := t.Execute(buf, data); err != nil {
			return nil, is.src.place(err)
		}
	} else if p := is.plan.Load(); p != nil && p.fits(data) {
		p.execute(buf, data)
	} else if err := is.tmpl.Execute(buf, data); err != nil {
		return nil, is.src.place(err)
	} else if p == nil {
		is.plan.Store(planFor(is.tmpl, data))
	}
	buf.WriteString(`</div>`)
	is.size.Store(int64(buf.Len()))
	return buf.Bytes(), nil
}

func (e *Engine) observe(island string, o Outcome, took time.Duration) {
	if e.opts.Observe != nil {
		e.opts.Observe(island, o, took)
	}
}

// outcomeOf names how a render that returned err ended.
func outcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	var f *Failure
	if errors.As(err, &f) && f.Outcome != "" {
		return f.Outcome
	}
	return OutcomeError
}

func (e *Engine) openTag(s *Spec) string {
	open := `<div class="island island--` + s.Name + `" data-island="` + s.Name + `"`
	if trig := refreshTrigger(s); trig != "" {
		open += ` ` + e.requestAttrs(s) + ` hx-trigger="` + template.HTMLEscapeString(trig) + `" hx-swap="outerHTML"`
	}
	return open + `>`
}

func timeoutFailure(s *Spec, cause error) *Failure {
	return &Failure{Spec: s, Status: fiber.StatusGatewayTimeout, Outcome: OutcomeTimeout,
		Message: "This part of the page took too long.", Retry: true, Cause: cause}
}

// plan executes an escaped template whose every action prints one string
// field of a struct through html/template's HTML text escaper, such as
// {{.Time}} between tags: it writes the text nodes and each field
// escaped as html/template escapes it, with the field found once by
// index instead of by reflection on every render. Any other template, or
// data of another type, goes through html/template itself.
type plan struct {
	typ   reflect.Type // nil: this template has no plan
	parts []planPart
}

type planPart struct {
	text  string
	field []int // nil for a text part
}

// escaperName is the function html/template's escaper adds to an action
// printing into HTML text.
const escaperName = "_html_template_htmlescaper"

var stringType = reflect.TypeFor[string]()

// planFor makes the plan of t, already escaped by an Execute, for data of
// data's type; a plan with a nil typ when t or the type does not fit.
func planFor(t *template.Template, data any) *plan {
	typ := reflect.TypeOf(data)
	if t.Tree == nil || typ == nil || typ.Kind() != reflect.Struct {
		return &plan{}
	}
	var parts []planPart
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			parts = append(parts, planPart{text: string(n.Text)})
		case *parse.ActionNode:
			idx, ok := escapedField(n, typ)
			if !ok {
				return &plan{}
			}
			parts = append(parts, planPart{field: idx})
		default:
			return &plan{}
		}
	}
	return &plan{typ: typ, parts: parts}
}

// escapedField reports the index of the string field an action
// {{.Name | _html_template_htmlescaper}} prints, when that is all it does.
func escapedField(n *parse.ActionNode, typ reflect.Type) ([]int, bool) {
	p := n.Pipe
	if len(p.Decl) > 0 || len(p.Cmds) != 2 || len(p.Cmds[0].Args) != 1 || len(p.Cmds[1].Args) != 1 {
		return nil, false
	}
	f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return nil, false
	}
	if esc, ok := p.Cmds[1].Args[0].(*parse.IdentifierNode); !ok || esc.Ident != escaperName {
		return nil, false
	}
	name := f.Ident[0]
	// text/template prefers a method of that name to a field.
	if _, ok := reflect.PointerTo(typ).MethodByName(name); ok {
		return nil, false
	}
	sf, ok := typ.FieldByName(name)
	if !ok || !sf.IsExported() || sf.Type != stringType {
		return nil, false
	}
	return sf.Index, true
}

func (p *plan) fits(data any) bool { return p.typ != nil && reflect.TypeOf(data) == p.typ }

func (p *plan) execute(buf *bytes.Buffer, data any) {
	v := reflect.ValueOf(data)
	for _, part := range p.parts {
		if part.field == nil {
			buf.WriteString(part.text)
			continue
		}
		escapeHTML(buf, v.FieldByIndex(part.field).String())
	}
}

// escapeHTML writes s as html/template's escaper writes a string into
// HTML text: NUL becomes U+FFFD; " & ' + < > become entities. Every byte
// it replaces is ASCII, so it can work on bytes.
func escapeHTML(buf *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		buf.WriteString(s[last:i])
		buf.WriteString(repl)
		last = i + 1
	}
	buf.WriteString(s[last:])
}
