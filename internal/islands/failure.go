package islands

import (
	"errors"
	"fmt"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/store"
)

// Outcome names how an island render ended, for logs and metrics.
type Outcome string

// Outcomes of an island render.
const (
	OutcomeOK       Outcome = "ok"
	OutcomeError    Outcome = "error"
	OutcomeTimeout  Outcome = "timeout"
	OutcomePanic    Outcome = "panic"
	OutcomeBadProps Outcome = "bad_props"
	OutcomeRejected Outcome = "rejected" // unknown island, wrong method, oversize
	OutcomeCanceled Outcome = "canceled" // the client left before the render finished
	// OutcomeUnavailable is an island whose store could not be reached
	// (store.Unavailable): 503 with Retry-After, logged once per outage.
	OutcomeUnavailable Outcome = "unavailable"
	// OutcomeSaturated is an island refused because too many renders
	// were running: 503 with Retry-After.
	OutcomeSaturated Outcome = "saturated"
)

// Failure is an island that could not be shown. The server's error
// handler turns it into an error-state fragment with the given status.
type Failure struct {
	Spec    *Spec // the island as requested; nil when unknown
	Status  int
	Outcome Outcome
	Message string // shown to the visitor
	Retry   bool   // offer a Retry control
	Cause   error  // logged, never shown
	Stack   []byte // set for panics; logged, never shown
	// RetryAfter, when not zero, is sent as the Retry-After header, in
	// seconds.
	RetryAfter int
}

// Level is the level of the log line for this failure: a visitor who
// left is debug; a store outage info (the outage itself is logged once,
// with a count, where it is noticed); a refusal, a bad link or a
// saturated server a warning; any other server-side failure an error.
func (f *Failure) Level() zerolog.Level {
	switch {
	case f.Outcome == OutcomeCanceled:
		return zerolog.DebugLevel
	case f.Outcome == OutcomeUnavailable:
		return zerolog.InfoLevel
	case f.Status < 500 || f.Outcome == OutcomeSaturated:
		return zerolog.WarnLevel
	}
	return zerolog.ErrorLevel
}

// Annotate adds the failure's island, outcome, cause and (for a panic)
// stack to a log line.
func (f *Failure) Annotate(ev *zerolog.Event) *zerolog.Event {
	if f.Spec != nil {
		ev = ev.Str("island", f.Spec.Name)
	}
	ev = ev.Str("outcome", string(f.Outcome))
	if f.Cause != nil {
		ev = ev.AnErr("error", f)
	}
	if f.Stack != nil {
		ev = ev.Bytes("stack", f.Stack)
	}
	return ev
}

// Fail turns whatever error an island request ended with into its
// *Failure: the one way island failures are classified, for single
// island requests and batch streams alike. A *Failure stays as it is; a
// store that cannot be reached is 503 with Retry-After; anything else is
// a 500 whose cause only the log sees.
func Fail(s *Spec, err error) *Failure {
	var f *Failure
	switch {
	case errors.As(err, &f):
		return f
	case store.Unavailable(err):
		return &Failure{Spec: s, Status: fiber.StatusServiceUnavailable, Outcome: OutcomeUnavailable,
			Message: "This is temporarily unavailable. Please try again in a moment.", Retry: true, Cause: err, RetryAfter: 5}
	}
	return &Failure{Spec: s, Status: fiber.StatusInternalServerError, Outcome: OutcomeError,
		Message: "This part of the page could not load.", Retry: true, Cause: err}
}

func (f *Failure) Error() string {
	name := ""
	if f.Spec != nil {
		name = f.Spec.Name
	}
	if f.Cause == nil {
		return fmt.Sprintf("island %q: %s", name, f.Message)
	}
	return fmt.Sprintf("island %q: %v", name, f.Cause)
}

func (f *Failure) Unwrap() error { return f.Cause }

// FailureFragment is the error state that replaces an island's
// placeholder: role="alert", a short message and, where trying again can
// help, a Retry button that fetches the island once more with the same
// page, props and refresh settings.
func (e *Engine) FailureFragment(f *Failure) []byte {
	var b strings.Builder
	state := "island--error"
	if f.Outcome == OutcomeUnavailable || f.Outcome == OutcomeSaturated {
		state += " island--unavailable"
	}
	if f.Spec == nil {
		fmt.Fprintf(&b, `<div class="island %s" role="alert">`, state)
	} else {
		fmt.Fprintf(&b, `<div class="island island--%s %s" data-island="%s" role="alert">`, f.Spec.Name, state, f.Spec.Name)
	}
	fmt.Fprintf(&b, `<p class="island-message">%s</p>`, template.HTMLEscapeString(f.Message))
	if f.Retry && f.Spec != nil {
		fmt.Fprintf(&b, `<button type="button" class="retry" %s hx-target="closest .island" hx-swap="outerHTML">Retry</button>`, e.requestAttrs(f.Spec))
	}
	b.WriteString(`</div>`)
	return []byte(b.String())
}
