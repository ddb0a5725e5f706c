package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/internal/compress"
	"github.com/atollhq/atoll/internal/islands"
	"github.com/atollhq/atoll/internal/pages"
)

// EdgeHeader is the request header with which an edge that fills islands
// into the page's own response asks for the page's shell: "ssi" from nginx
// configured as `atoll nginx` prints it. It is believed only from a
// trusted proxy (ATOLL_TRUSTED_PROXIES, the trust X-Forwarded-Host
// needs); from anyone else the page is the ordinary one. Every page
// response names it in Vary, so no cache in front keeps the shell for a
// request without it.
const EdgeHeader = "X-Atoll-Edge"

// EdgeSSI is EdgeHeader's value for nginx's SSI.
const EdgeSSI = "ssi"

// StitchedHeader marks a shell whose islands the edge fills in: the
// configuration `atoll nginx` prints turns the stitched response's
// Cache-Control into "private, no-store" when it sees it, and drops it.
const StitchedHeader = "X-Atoll-Stitched"

// pageVary is the Vary of every page response: its encoding, and whether
// an edge asked for its shell.
const pageVary = "Accept-Encoding, " + EdgeHeader

// fromEdge reports whether a trusted SSI edge asked for the page's shell.
func fromEdge(c *fiber.Ctx) bool {
	return c.Get(EdgeHeader) == EdgeSSI && c.IsProxyTrusted()
}

// sendShell answers an SSI edge with the page's shell: uncompressed, for
// SSI parses only plain HTML (the edge compresses what it sends on), with
// policy and the shell's own strong ETag so the edge keeps it and
// revalidates it as it would the page. It reports false when the page has
// no islands to fill, and the ordinary page should go.
func sendShell(c *fiber.Ctx, p *pages.Page, policy func(etag string) bool) (bool, error) {
	st := p.Stitch
	if st == nil || !st.HasShell() {
		return false, nil
	}
	c.Set(fiber.HeaderVary, EdgeHeader)
	c.Set(StitchedHeader, strconv.Itoa(st.Holes()))
	if policy(st.ETag) {
		return true, c.SendStatus(fiber.StatusNotModified)
	}
	shell, err := st.Shell()
	if err != nil {
		return true, err
	}
	return true, c.Send(shell)
}

// stitch cuts a rendered page where its load-time islands go, for a
// response that carries them (src.Edge says where): the page as served
// directly, with each stitchable island's placeholder turned into a hole
// and the batch element and preload links left for the islands that
// still load on their own. out still holds the preload mark. nil when the
// page carries no island in its response, or when it is static and no
// proxy is trusted (no edge could ask for its shell).
func (s *Server) stitch(src pages.Source, out []byte, placed []*islands.Placement, placeholders []template.HTML, batchEl template.HTML) *islands.Stitch {
	if src.Edge == islands.EdgeNone || len(placed) == 0 {
		return nil
	}
	// A shell goes only to a trusted proxy: a server that trusts none
	// keeps none, and its pages hold what they held before the edge.
	if src.Mode != pages.SSR && len(s.cfg.TrustedProxies) == 0 {
		return nil
	}
	page := bytes.Clone(out)
	var holes []islands.Hole
	var rest []*islands.Placement
	var fills bytes.Buffer
	for i, p := range placed {
		ph := []byte(placeholders[i])
		if !s.islands.Stitchable(p) || bytes.Count(page, ph) != 1 {
			rest = append(rest, p)
			continue
		}
		mark := "<!--atoll:hole:" + p.ID + "-->"
		holes = append(holes, islands.Hole{P: p, Mark: mark})
		if src.Edge == islands.EdgeEnd {
			// The placeholder stays, waiting for the loader (or, should the
			// island never come, fetching itself once the runtime runs).
			q := *p
			q.Batched = true
			waiting, err := s.islands.Placeholder(&q)
			if err != nil {
				return nil
			}
			page = bytes.Replace(page, ph, []byte(waiting), 1)
			fills.WriteString(`<template ` + islands.FillAttr + `="` + template.HTMLEscapeString(p.ID) + `">` + mark + `</template>`)
			continue
		}
		page = bytes.Replace(page, ph, []byte(mark), 1)
	}
	if len(holes) == 0 {
		return nil
	}
	var urls []string
	if batchEl != "" {
		var batched []*islands.Placement
		for _, p := range rest {
			if p.Batched {
				batched = append(batched, p)
			}
		}
		el, u := s.islands.BatchElement(src.Route, batched)
		page = bytes.Replace(page, []byte(batchEl), []byte(el), 1)
		if u != "" {
			urls = append(urls, u)
		}
	}
	for _, p := range rest {
		if u := s.islands.PreloadURL(p); u != "" {
			urls = append(urls, u)
		}
	}
	page = bytes.Replace(page, []byte(preloadMark), []byte(islands.PreloadLinks(urls)), 1)
	if fills.Len() > 0 {
		page = insertBefore(page, "</body>", fills.Bytes(), len(page))
	}
	st, err := s.islands.NewStitch(page, holes, src.Mode != pages.SSR)
	if err != nil {
		s.log.Warn().Err(err).Str("page", src.Route).Msg("the page's islands cannot travel in its response; they load after it")
		return nil
	}
	return st
}

// sendFilled streams a page rendered for this request with its load-time
// islands rendered into it, in one response: the page up to the first
// island goes at once, then each island in page order as it is ready
// (islands.Engine.Fill). gzipped, flushed piece by piece, when the client
// accepts gzip. The renders stop when the client leaves.
func (s *Server) sendFilled(c *fiber.Ctx, st *islands.Stitch) error {
	cookies := st.Cookies(s.islands, func(name string) string { return c.Cookies(name) })
	if s.devPage != nil {
		// Dev mode: the reload script goes where the page ends and reads
		// the request, so the islands are rendered into the page first.
		var buf bytes.Buffer
		if err := s.islands.Fill(c.UserContext(), st, cookies, &buf, func() error { return nil }); err != nil {
			return err
		}
		return sendDynamic(c, s.devPage(c, buf.Bytes()))
	}
	gz := compress.Accepts(c.Get(fiber.HeaderAcceptEncoding), compress.Gzip)
	if gz {
		c.Set(fiber.HeaderContentEncoding, compress.Gzip)
	}
	if c.Method() == fiber.MethodHead {
		return nil
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var out interface{ Write([]byte) (int, error) } = w
		flush := w.Flush
		if gz {
			zw, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
			out = zw
			flush = func() error {
				if err := zw.Flush(); err != nil {
					return err
				}
				return w.Flush()
			}
			defer func() {
				zw.Close()
				w.Flush()
			}()
		}
		if err := s.islands.Fill(ctx, st, cookies, out, flush); err != nil {
			cancel()
		}
	})
	return nil
}
