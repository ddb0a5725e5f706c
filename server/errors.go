package server

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/internal/httpcache"
	"github.com/atollhq/atoll/internal/islands"
	"github.com/atollhq/atoll/store"
)

// handleError is the one place that turns an error into a response, by
// the error's type: an island's *islands.Failure becomes its error-state
// fragment, an action's *actionFailure or *action.Problem an alert
// fragment, anything else a page. The routes make sure their errors have
// their type (islandFailures, actionFailures), so the URL is never
// consulted. The visitor never sees the error's text; the request log
// records it once.
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
	var f *islands.Failure
	var af *actionFailure
	var prob *action.Problem
	switch {
	case errors.As(err, &f):
		c.Set("X-Robots-Tag", "noindex")
		if f.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(f.RetryAfter))
		}
		if f.Outcome != "" {
			c.Locals(islands.LocalOutcome, f.Outcome)
		}
		return c.Status(f.Status).Send(s.islands.FailureFragment(f))
	case errors.As(err, &af):
		if af.retryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(af.retryAfter))
		}
		return c.Status(af.status).SendString(actionAlert(af.message))
	case errors.As(err, &prob):
		return c.Status(prob.Status).SendString(actionAlert(prob.Message))
	case status == fiber.StatusNotFound:
		return c.Status(status).Send(s.site.NotFound.Body)
	case s.cfg.Dev && status >= 500:
		// Dev mode only: the error itself, with the template file and
		// line it names, where the developer is looking.
		return c.Status(status).Send(s.devErrorPage(status, err))
	}
	return c.Status(status).Send(s.errorPage(status))
}

func actionAlert(msg string) string {
	return `<span class="action-error" role="alert">` + html.EscapeString(msg) + `</span>`
}

// actionFailure is an action that failed for a reason other than its own
// refusal (*action.Problem): a refusal before its handler ran, a store
// that could not be reached, a deadline, a bug. Its message is the
// visitor's; its cause only the log's.
type actionFailure struct {
	status     int
	message    string
	retryAfter int
	cause      error
}

func (a *actionFailure) Error() string { return a.cause.Error() }
func (a *actionFailure) Unwrap() error { return a.cause }

// actionFailures gives every error an action route ends with its type:
// a *action.Problem stays as it is, anything else becomes an
// *actionFailure with the status and message that fit it. A store that
// could not be reached is 503 with Retry-After, counted in the store's
// health rather than logged as an error.
func (s *Server) actionFailures(c *fiber.Ctx) error {
	began := time.Now()
	err := c.Next()
	if err == nil {
		return nil
	}
	var prob *action.Problem
	if errors.As(err, &prob) {
		return err
	}
	af := &actionFailure{status: fiber.StatusInternalServerError, message: "Something went wrong. Please try again.", cause: err}
	var fe *fiber.Error
	switch {
	case store.Unavailable(err):
		af.status, af.message, af.retryAfter = fiber.StatusServiceUnavailable, "This is temporarily unavailable. Please try again in a moment.", retryAfterStore
		s.health.unavailable(s.now(), began, err)
	case errors.Is(err, context.DeadlineExceeded):
		af.status, af.message = fiber.StatusGatewayTimeout, "That took too long. Please try again."
	case errors.As(err, &fe):
		af.status = fe.Code
		switch fe.Code {
		case fiber.StatusForbidden:
			af.message = "This request came from another site and was refused."
		case fiber.StatusRequestEntityTooLarge:
			af.message = "That was too much to send."
		default:
			af.message = http.StatusText(fe.Code) + "."
		}
	}
	return af
}

// islandFailures gives every error an island route ends with its type,
// *islands.Failure: the handlers return one already; what middleware
// returns before them (a body too large) is classified the same way.
func islandFailures(c *fiber.Ctx) error {
	err := c.Next()
	if err == nil {
		return nil
	}
	var f *islands.Failure
	if errors.As(err, &f) {
		return err
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return &islands.Failure{Status: fe.Code, Outcome: islands.OutcomeRejected, Message: "This part of the page could not load.", Cause: err}
	}
	return islands.Fail(nil, err)
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
