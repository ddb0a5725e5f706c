package islands

import (
	"fmt"
	"html/template"
	"strings"
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
	if f.Spec == nil {
		b.WriteString(`<div class="island island--error" role="alert">`)
	} else {
		fmt.Fprintf(&b, `<div class="island island--%s island--error" data-island="%s" role="alert">`, f.Spec.Name, f.Spec.Name)
	}
	fmt.Fprintf(&b, `<p class="island-message">%s</p>`, template.HTMLEscapeString(f.Message))
	if f.Retry && f.Spec != nil {
		fmt.Fprintf(&b, `<button type="button" class="retry" %s hx-target="closest .island" hx-swap="outerHTML">Retry</button>`, e.requestAttrs(f.Spec))
	}
	b.WriteString(`</div>`)
	return []byte(b.String())
}
