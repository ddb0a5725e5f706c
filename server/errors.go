package server

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/internal/httpcache"
	"github.com/atollhq/atoll/internal/islands"
)

// handleError is the one place that turns an error into a response. Island
// requests get an error-state fragment; everything else gets a page. The
// visitor never sees the error's text; the request log records it once.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	c.Locals(localError, err)
	httpcache.NoStore(c)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)

	status := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status = fe.Code
	}
	if len(c.Route().Handlers) == 0 { // refused by the HTTP layer: no middleware logged it
		s.refused.record(c, status, err)
	}
	var prob *action.Problem
	if errors.As(err, &prob) || strings.HasPrefix(c.Path(), s.cfg.BasePath+"/actions/") {
		msg := "Something went wrong. Please try again."
		switch {
		case prob != nil:
			status, msg = prob.Status, prob.Message
		case status == fiber.StatusForbidden:
			msg = "This request came from another site and was refused."
		case status == fiber.StatusRequestEntityTooLarge:
			msg = "That was too much to send."
		}
		return c.Status(status).SendString(`<span class="action-error" role="alert">` + html.EscapeString(msg) + `</span>`)
	}
	var f *islands.Failure
	if errors.As(err, &f) || strings.HasPrefix(c.Path(), s.cfg.BasePath+islands.Path) {
		if f == nil {
			f = &islands.Failure{Status: status, Outcome: islands.OutcomeRejected, Message: "This part of the page could not load."}
		}
		c.Set("X-Robots-Tag", "noindex")
		if f.Outcome != "" {
			c.Locals(islands.LocalOutcome, f.Outcome)
		}
		return c.Status(f.Status).Send(s.islands.FailureFragment(f))
	}
	if status == fiber.StatusNotFound {
		return c.Status(status).Send(s.site.NotFound.Body)
	}
	if s.cfg.Dev && status >= 500 {
		// Dev mode only: the error itself, with the template file and
		// line it names, where the developer is looking.
		return c.Status(status).Send(s.devErrorPage(status, err))
	}
	return c.Status(status).Send(s.errorPage(status))
}

// devErrorPage shows err in the browser, for dev mode.
func (s *Server) devErrorPage(status int, err error) []byte {
	return fmt.Appendf(nil, `<!doctype html><html lang="en"><head><meta charset="utf-8">`+
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>%d · dev error · Atoll</title></head>`+
		`<body><main class="container error-page" data-dev-error><h1>%d %s</h1><p>Dev mode shows the error; production shows a plain page.</p>`+
		`<pre style="white-space:pre-wrap">%s</pre></main></body></html>`,
		status, status, html.EscapeString(http.StatusText(status)), html.EscapeString(err.Error()))
}

// errorPage is a plain page for statuses other than 404, which has a page
// of its own in the site layout.
func (s *Server) errorPage(status int) []byte {
	css, _ := s.asset().URL("css/site.css")
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	message := "Something went wrong on our side. Please try again in a moment."
	if status < 500 {
		message = "The request could not be handled."
	}
	return fmt.Appendf(nil, `<!doctype html><html lang="en"><head><meta charset="utf-8">`+
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>%d %s · Atoll</title>`+
		`<link rel="stylesheet" href="%s"></head><body><main class="container error-page"><h1>%s</h1><p>%s</p>`+
		`<p><a href="%s/">Back to the home page</a></p></main></body></html>`,
		status, html.EscapeString(text), css, html.EscapeString(text), message, s.cfg.BasePath)
}
