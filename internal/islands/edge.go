package islands

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// EdgePrefix is the path prefix of the island URLs an edge's SSI includes
// name: "/_edge/_islands/x?…" reaches the island at "/_islands/x?…". The
// configuration `atoll nginx` prints serves it from an internal location
// (no visitor can request it) that asks Atoll for an uncompressed fragment,
// which SSI can splice into the page, whatever the visitor accepts.
const EdgePrefix = "/_edge"

// Placement modes of a page's islands in one response (front matter
// "edge:").
const (
	// EdgePosition fills each island where the page places it: a visitor
	// without JavaScript sees it.
	EdgePosition = "position"
	// EdgeEnd keeps each placeholder and its skeleton where it is and
	// sends the islands after the page's content, before </body>, each in
	// a <template data-atoll-fill> that the page's loader swaps in: the
	// whole shell shows before any island has arrived.
	EdgeEnd = "end"
	// EdgeNone leaves the page as it is served directly: islands fetched
	// after load.
	EdgeNone = "none"
)

// FillAttr marks the <template> that carries an island sent at the end of
// the body (EdgeEnd); its value is the id of the placeholder it replaces.
const FillAttr = "data-atoll-fill"

// Stitch is a page cut where its load-time islands go, so that they can
// travel in the same response as the page: filled by an edge's SSI
// subrequests (SSI, a cached shell), or by the server itself for a page
// rendered per request (Fill, on a Stitch made without SSI).
type Stitch struct {
	parts [][]byte // len(holes)+1 pieces of the page around the holes
	holes []*Placement
	// shell is the page with an nginx SSI include in each hole, deflated
	// (an edge asks for it once per cache lifetime, while every page holds
	// it for as long as it is served), nil when it was not asked for.
	shell []byte
	// ETag is the shell's strong ETag, unlike the page's own.
	ETag string
}

// HasShell reports whether the stitch holds a shell for an SSI edge.
func (s *Stitch) HasShell() bool { return s.shell != nil }

// Shell returns the page with an nginx SSI include in each hole.
func (s *Stitch) Shell() ([]byte, error) {
	if s.shell == nil {
		return nil, errors.New("islands: the page holds no shell")
	}
	return io.ReadAll(flate.NewReader(bytes.NewReader(s.shell)))
}

// deflaters compress shells as pages are rendered, many at once at startup.
var deflaters = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&out)
	w.Write(b)
	w.Close()
	deflaters.Put(w)
	return bytes.Clone(out.Bytes())
}

// Holes is how many islands the page carries in its response.
func (s *Stitch) Holes() int { return len(s.holes) }

// Hole is where an island goes in a page, as a page function sees it while
// the page renders.
type Hole struct {
	P    *Placement
	Mark string // unique text standing in the page where the island goes
}

// NewStitch cuts page at each hole's mark (marks that are not in page
// exactly once are an error, and nothing is cut), and, when ssi is set,
// writes the shell an SSI edge fills. Any "<!--#" in the page outside the
// holes is defused first, so no text of the page can become an SSI
// instruction.
func (e *Engine) NewStitch(page []byte, holes []Hole, ssi bool) (*Stitch, error) {
	st := &Stitch{}
	rest := bytes.ReplaceAll(page, []byte(ssiOpen), []byte(ssiDefused))
	for _, h := range holes {
		if bytes.Count(rest, []byte(h.Mark)) != 1 {
			return nil, fmt.Errorf("island %q: its place in the page is not found once", h.P.Name)
		}
		i := bytes.Index(rest, []byte(h.Mark))
		st.parts = append(st.parts, rest[:i:i])
		st.holes = append(st.holes, h.P)
		rest = rest[i+len(h.Mark):]
	}
	st.parts = append(st.parts, rest)
	if ssi {
		shell := e.ssiShell(st)
		sum := sha256.Sum256(shell)
		st.ETag = `"e` + hex.EncodeToString(sum[:16]) + `"`
		st.shell = deflate(shell)
		// A page kept for an edge needs only its shell, deflated: it then
		// holds about a third more than without one, not thrice as much.
		st.parts = nil
	}
	return st, nil
}

const (
	ssiOpen    = "<!--#"
	ssiDefused = "<!--&#35;"
)

// ssiShell writes the page with, in each hole, the island's error state as
// an SSI block and an include of the island that falls back to it (stub)
// when the subrequest yields nothing: the edge's answer when the island
// cannot be reached or answers too late.
func (e *Engine) ssiShell(st *Stitch) []byte {
	var b bytes.Buffer
	for i, p := range st.holes {
		b.Write(st.parts[i])
		u, _ := e.getURL(&p.Spec)
		name := "atoll" + strconv.Itoa(i+1)
		b.WriteString(`<!--# block name="` + name + `" -->`)
		b.Write(e.FailureFragment(unreachable(&p.Spec)))
		b.WriteString(`<!--# endblock --><!--# include virtual="` + EdgePrefix + u + `" stub="` + name + `" -->`)
	}
	b.Write(st.parts[len(st.parts)-1])
	return b.Bytes()
}

// Stitchable reports whether a placement can travel in the page's own
// response: it loads with the page, and its URL fits a GET.
func (e *Engine) Stitchable(p *Placement) bool {
	if p.Visible {
		return false
	}
	_, ok := e.getURL(&p.Spec)
	return ok
}

func unreachable(s *Spec) *Failure {
	return &Failure{Spec: s, Status: 502, Outcome: OutcomeError, Message: "This part of the page could not load.", Retry: true}
}

// Cookies are the cookies the stitched islands declare, read with get and
// copied (Fiber reuses request buffers).
func (s *Stitch) Cookies(e *Engine, get func(string) string) map[string]string {
	cookies := map[string]string{}
	for _, p := range s.holes {
		if is, ok := e.islands[p.Name]; ok {
			for _, name := range is.Cookies {
				if v := get(name); v != "" {
					cookies[name] = string([]byte(v))
				}
			}
		}
	}
	return cookies
}

// Fill writes the page with its islands rendered in their holes (st made
// by NewStitch without ssi): the page
// up to the first hole at once, then each island in page order as soon as
// it and those before it are ready, all rendered concurrently. flush is
// called after each piece, so the browser parses the page while islands
// render. An island that fails writes its error state; one that has not
// returned shortly after its deadline writes its timeout state and is not
// waited for. The renders end when ctx does (the client left).
func (e *Engine) Fill(ctx context.Context, st *Stitch, cookies map[string]string, w interface{ Write([]byte) (int, error) }, flush func() error) error {
	if len(st.parts) != len(st.holes)+1 {
		return errors.New("islands: fill a page kept for an edge")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan []byte, len(st.holes))
	start := time.Now()
	for i, p := range st.holes {
		results[i] = make(chan []byte, 1)
		go func() {
			t0 := time.Now()
			body, err := e.Render(ctx, &p.Spec, cookies)
			if err != nil {
				var f *Failure
				if !errors.As(err, &f) {
					f = &Failure{Spec: &p.Spec, Status: 500, Outcome: OutcomeError, Message: "This part of the page could not load.", Retry: true, Cause: err}
				}
				if f.Outcome != OutcomeCanceled {
					ev := e.opts.Log.Error()
					if f.Status < 500 {
						ev = e.opts.Log.Warn()
					}
					ev.Str("island", p.Name).Str("outcome", string(f.Outcome)).Dur("render", time.Since(t0)).AnErr("error", err).Msg("page island")
				}
				body = e.FailureFragment(f)
			}
			results[i] <- body
		}()
	}
	write := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		return flush()
	}
	if err := write(st.parts[0]); err != nil {
		return err
	}
	for i, p := range st.holes {
		due := lateGrace + e.opts.Timeout
		if is, ok := e.islands[p.Name]; ok {
			due = lateGrace + is.timeout
		}
		late := time.NewTimer(time.Until(start.Add(due)))
		var body []byte
		select {
		case body = <-results[i]:
		case <-late.C:
			e.opts.Log.Error().Str("island", p.Name).Str("outcome", string(OutcomeTimeout)).Msg("page island did not return by its deadline")
			body = e.FailureFragment(timeoutFailure(&p.Spec, context.DeadlineExceeded))
		case <-ctx.Done():
			late.Stop()
			return ctx.Err()
		}
		late.Stop()
		if _, err := w.Write(body); err != nil {
			return err
		}
		if err := write(st.parts[i+1]); err != nil {
			return err
		}
	}
	return nil
}
