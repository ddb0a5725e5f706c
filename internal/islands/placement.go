package islands

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Placement is how a page places one island.
type Placement struct {
	Spec
	ID       string        // unique within the page
	Fallback template.HTML // empty: the island's own
	Visible  bool          // load once, when scrolled into view
	Batched  bool          // loaded by the page's batch stream
}

var eventName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9:_.-]{0,63}$`)

// Poll bounds: faster would be a self-inflicted load test, slower is not
// a poll.
const (
	MinEvery = time.Second
	MaxEvery = time.Hour
)

func checkRefresh(every time.Duration, on []string) error {
	if every != 0 && (every < MinEvery || every > MaxEvery) {
		return fmt.Errorf("poll interval %s is outside %s to %s", every, MinEvery, MaxEvery)
	}
	if len(on) > 4 {
		return fmt.Errorf("%d refresh events, at most 4", len(on))
	}
	for _, ev := range on {
		if !eventName.MatchString(ev) {
			return fmt.Errorf("event name %q: want a letter, then letters, digits, ':', '_', '.' or '-'", ev)
		}
	}
	return nil
}

// Placeholder writes the element a page carries in place of an island: it
// shows the fallback and asks htmx to swap in the rendered island on load,
// when scrolled into view, or (batched) when the page's stream could not
// deliver it. A placement without a prop the island requires, or with one
// it does not declare, is an error, so the page never starts serving.
func (e *Engine) Placeholder(p *Placement) (template.HTML, error) {
	is, ok := e.islands[p.Name]
	if !ok {
		return "", fmt.Errorf("island %q is not registered (registered: %s)", p.Name, strings.Join(e.names(), ", "))
	}
	if err := is.CheckProps(p.Props); err != nil {
		return "", fmt.Errorf("island %q: %w", p.Name, err)
	}
	if is.disk != nil { // dev mode: a page that places an island whose template file is broken shows why
		if _, err := is.disk.template(); err != nil {
			return "", err
		}
	}
	if err := checkRefresh(p.Every, p.On); err != nil {
		return "", fmt.Errorf("island %q: %w", p.Name, err)
	}
	if err := e.checkAnnounced(p.On); err != nil {
		return "", fmt.Errorf("island %q: %w", p.Name, err)
	}
	fallback := p.Fallback
	if fallback == "" {
		fallback = is.Fallback
	}
	trigger := "load"
	switch {
	case p.Visible:
		trigger = "revealed"
	case p.Batched:
		trigger = fallbackEvent
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<div id="%s" class="island island--%s" data-island="%s" aria-busy="true"`, template.HTMLEscapeString(p.ID), p.Name, p.Name)
	if p.Batched {
		b.WriteString(` data-batched`)
	}
	fmt.Fprintf(&b, ` %s hx-trigger="%s" hx-swap="outerHTML">`, e.requestAttrs(&p.Spec), trigger)
	b.WriteString(string(fallback))
	b.WriteString(`</div>`)
	return template.HTML(b.String()), nil
}

// checkAnnounced reports the first event in on that nothing announces,
// when the engine knows what is announced (Options.Events).
func (e *Engine) checkAnnounced(on []string) error {
	if e.opts.Events == nil {
		return nil
	}
	for _, ev := range on {
		if !slices.Contains(e.opts.Events, ev) {
			announced := "none"
			if len(e.opts.Events) > 0 {
				announced = strings.Join(e.opts.Events, ", ")
			}
			return fmt.Errorf("(on %q): no action announces event %q, so nothing would refresh the island (announced: %s); "+
				"add it to an action's Announces, or to Site.Events when client code sends it", ev, ev, announced)
		}
	}
	return nil
}

// names returns the names of the islands the engine serves, sorted.
func (e *Engine) names() []string {
	names := make([]string, 0, len(e.islands))
	for n := range e.islands {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// fallbackEvent is the event public/js/atoll.js sends to a batched
// placeholder that the page's stream did not deliver, so it fetches itself.
const fallbackEvent = "atoll:fallback"

// batchPurpose binds sealed batch lists to the batch endpoint.
const batchPurpose = "batch"

type batchList struct {
	Page  string      `json:"g"`
	Items []batchItem `json:"s"`
}

type batchItem struct {
	Name  string            `json:"n"`
	ID    string            `json:"i"`
	Props map[string]string `json:"p,omitempty"`
	Every int64             `json:"e,omitempty"` // milliseconds
	On    []string          `json:"o,omitempty"`
}

// BatchElement is the hidden element that fetches every batched island of
// a page in one streamed request, and the URL it fetches when that is a
// GET (what a preload can start early); both "" when the page batches
// none. The element is never replaced, so the stream is not cut short:
// htmx 4 ends an element's SSE stream when the element leaves the page.
func (e *Engine) BatchElement(page string, placements []*Placement) (el template.HTML, getURL string) {
	list := batchList{Page: page}
	for _, p := range placements {
		if p.Batched {
			list.Items = append(list.Items, batchItem{Name: p.Name, ID: p.ID, Props: p.Props, Every: p.Every.Milliseconds(), On: p.On})
		}
	}
	if len(list.Items) == 0 {
		return "", ""
	}
	b, _ := json.Marshal(list)
	token := e.opts.Keys.Seal(batchPurpose, b)
	u := e.opts.Base + Path
	getURL = u + "?b=" + token
	attrs := `hx-get="` + template.HTMLEscapeString(getURL) + `"`
	if len(getURL) > MaxURL {
		vals, _ := json.Marshal(map[string]string{"b": token})
		getURL, attrs = "", `hx-post="`+template.HTMLEscapeString(u)+`" hx-vals="`+template.HTMLEscapeString(string(vals))+`"`
	}
	return template.HTML(`<div id="islands-batch" class="islands-batch" hidden ` + attrs + ` hx-trigger="load" hx-swap="none"></div>`), getURL
}

// PreloadURL is the URL a placement's placeholder fetches as soon as the
// page loads, when that is a GET a preload can start early; "" for lazy
// (visible) and batched placements and for props sent in a POST body.
func (e *Engine) PreloadURL(p *Placement) string {
	if p.Visible || p.Batched {
		return ""
	}
	if u, ok := e.getURL(&p.Spec); ok {
		return u
	}
	return ""
}

// PreloadLinks are the <link rel="preload"> elements for the given GET
// URLs. as="fetch" with crossorigin="anonymous" makes a cors-mode request
// with same-origin credentials, which Atoll's client makes htmx's island
// requests match, so the browser hands over the preloaded response
// instead of asking again.
func PreloadLinks(urls []string) template.HTML {
	var b strings.Builder
	for _, u := range urls {
		b.WriteString(`<link rel="preload" as="fetch" crossorigin="anonymous" href="`)
		b.WriteString(template.HTMLEscapeString(u))
		b.WriteString(`">`)
	}
	return template.HTML(b.String())
}

// SamePath reduces an untrusted page path to a path on this site: no
// scheme, no host, no query, cleaned; "/" when nothing usable is left.
func SamePath(raw string) string {
	if raw == "" || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return "/"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return "/"
	}
	p := path.Clean(u.Path)
	if !strings.HasPrefix(p, "/") || len(p) > 512 {
		return "/"
	}
	return strings.Clone(p)
}
