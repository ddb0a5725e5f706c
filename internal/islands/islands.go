// Package islands turns registered fragments into two things: the
// placeholder a page carries, and the endpoint that renders an island per
// request under a deadline, with panics and errors contained.
package islands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"atoll/fragments"
)

// Prefix is the URL path under which islands are served.
const Prefix = "/_islands/"

// Options configures an Engine.
type Options struct {
	// Timeout is the deadline of an island that does not set its own.
	Timeout time.Duration
	// Deps are handed to every island's Render.
	Deps fragments.Deps
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log zerolog.Logger
}

type island struct {
	fragments.Island
	tmpl    *template.Template
	timeout time.Duration
}

// Engine renders registered islands.
type Engine struct {
	islands map[string]*island
	opts    Options
}

// New provisions every registered island: it parses each template and
// fails, naming the island, if one does not parse.
func New(opts Options) (*Engine, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{islands: map[string]*island{}, opts: opts}
	for _, name := range fragments.Names() {
		fi, err := fragments.Lookup(name)
		if err != nil {
			return nil, err
		}
		t, err := template.New(name).Parse(fi.Template)
		if err != nil {
			return nil, fmt.Errorf("island %q: template: %w", name, err)
		}
		timeout := fi.Timeout
		if timeout == 0 {
			timeout = opts.Timeout
		}
		e.islands[name] = &island{Island: fi, tmpl: t, timeout: timeout}
	}
	return e, nil
}

// Failure is an island that could not be shown. The server's error
// handler turns it into an error-state fragment with the given status.
type Failure struct {
	Island  string
	Status  int
	Message string // shown to the visitor
	Retry   bool   // offer a Retry control
	Cause   error  // logged, never shown
	Stack   []byte // set for panics; logged, never shown
}

func (f *Failure) Error() string {
	if f.Cause == nil {
		return fmt.Sprintf("island %q: %s", f.Island, f.Message)
	}
	return fmt.Sprintf("island %q: %v", f.Island, f.Cause)
}

func (f *Failure) Unwrap() error { return f.Cause }

// Placement is how a page places one island.
type Placement struct {
	Name     string
	ID       string        // unique within the page
	Fallback template.HTML // empty: the island's own
}

// Placeholder writes the element a page carries in place of an island: it
// shows the fallback and asks htmx to swap in the rendered island on load.
func (e *Engine) Placeholder(p Placement) (template.HTML, error) {
	is, ok := e.islands[p.Name]
	if !ok {
		return "", fmt.Errorf("island %q is not registered (registered: %s)", p.Name, strings.Join(fragments.Names(), ", "))
	}
	fallback := p.Fallback
	if fallback == "" {
		fallback = is.Fallback
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<div id="%s" class="island island--%s" data-island="%s" aria-busy="true" hx-get="%s" hx-trigger="load" hx-swap="outerHTML">`,
		template.HTMLEscapeString(p.ID), p.Name, p.Name, Prefix+p.Name)
	b.WriteString(string(fallback))
	b.WriteString(`</div>`)
	return template.HTML(b.String()), nil
}

// Render runs the named island with the request's cookies and returns its
// fragment: the island's template output in a wrapper that carries the
// island's name and no load trigger. Every failure is a *Failure.
func (e *Engine) Render(ctx context.Context, name string, cookies map[string]string) ([]byte, error) {
	is, ok := e.islands[name]
	if !ok {
		return nil, &Failure{Status: fiber.StatusNotFound, Message: "This island does not exist."}
	}
	ctx, cancel := context.WithTimeout(ctx, is.timeout)
	defer cancel()
	req := fragments.NewRequest(ctx, e.opts.Now(), cookies, e.opts.Deps)

	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: &Failure{Island: name, Status: fiber.StatusInternalServerError,
					Message: "This part of the page crashed.", Retry: true,
					Cause: fmt.Errorf("panic: %v", p), Stack: debug.Stack()}}
			}
		}()
		data, err := is.Render(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `<div class="island island--%s" data-island="%s">`, name, name)
		if err := is.tmpl.Execute(&buf, data); err != nil {
			done <- result{err: fmt.Errorf("template: %w", err)}
			return
		}
		buf.WriteString(`</div>`)
		done <- result{body: buf.Bytes()}
	}()

	select {
	case r := <-done:
		if r.err == nil {
			return r.body, nil
		}
		var f *Failure
		if errors.As(r.err, &f) {
			return nil, f
		}
		if errors.Is(r.err, context.DeadlineExceeded) {
			return nil, timeoutFailure(name, r.err)
		}
		return nil, &Failure{Island: name, Status: fiber.StatusInternalServerError,
			Message: "This part of the page could not load.", Retry: true, Cause: r.err}
	case <-ctx.Done():
		return nil, timeoutFailure(name, ctx.Err())
	}
}

func timeoutFailure(name string, cause error) *Failure {
	return &Failure{Island: name, Status: fiber.StatusGatewayTimeout,
		Message: "This part of the page took too long.", Retry: true, Cause: cause}
}

// FailureFragment is the error state that replaces an island's
// placeholder: a short message and, where trying again can help, a Retry
// button that fetches the island once more.
func FailureFragment(f *Failure) []byte {
	var b strings.Builder
	if f.Island == "" {
		b.WriteString(`<div class="island island--error" role="alert">`)
	} else {
		fmt.Fprintf(&b, `<div class="island island--%s island--error" data-island="%s" role="alert">`, f.Island, f.Island)
	}
	fmt.Fprintf(&b, `<p class="island-message">%s</p>`, template.HTMLEscapeString(f.Message))
	if f.Retry && f.Island != "" {
		fmt.Fprintf(&b, `<button type="button" class="retry" hx-get="%s" hx-target="closest .island" hx-swap="outerHTML">Retry</button>`, Prefix+f.Island)
	}
	b.WriteString(`</div>`)
	return []byte(b.String())
}
