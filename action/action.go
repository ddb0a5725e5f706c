// Package action is the actions registry: each state-changing request a
// site accepts is one file that registers an Action from init, declaring
// the form fields it reads with their limits, the events it announces and
// its handler. Register adds it to Default, the set a site serves unless
// it carries its own (Set, as net/http's DefaultServeMux is to a
// ServeMux).
//
//	func init() {
//		action.Register(action.Action{
//			Name:      "newsletter/subscribe",
//			Fields:    []action.Field{{Name: "email", Required: true, MaxRunes: 254, Message: "Enter your email address."}},
//			Announces: []string{"subscription-changed"},
//			Handle:    subscribe,
//		})
//	}
//
// The engine serves each at POST {base}/actions/{Name}. Before a handler
// runs it refuses other methods (405), cross-site requests (403), bodies
// over the limit (413), unknown actions (404) and fields that break their
// declaration (400), each with a small alert fragment. A handler returns
// the fragment for the form that sent it (or nothing, for 204) or an
// error: a *Problem is shown to the visitor with its status, anything
// else is a 500 whose text only the log sees. On success the response
// carries HX-Trigger with the declared events, which the islands showing
// the changed state listen for. Actions are the only responses that set
// cookies; pages never do.
//
// Each action runs under a deadline (Action.Timeout, or the engine's) in
// one store transaction (store.Store.Tx), which the handler's
// r.Context() carries: whatever it writes, and reads to answer with,
// through the store or store.From, commits when it succeeds and rolls
// back when it returns an error or runs out of time (504, Retry-After).
//
// A request may carry an Idempotency-Key header (the engine's client
// sends one with every action, and the same one again on a retry). The
// answer is recorded under the key, in the same transaction as the
// action's writes, for store.AnswerTTL; a repeat gets the recorded answer,
// marked Idempotent-Replayed: true, and the action does not run again.
// A key is 16 to 128 characters of A-Z, a-z, 0-9 and "-_.:", optionally
// in double quotes; anything else is a 400. A key sent with another
// action or other field values is a 422.
package action

import (
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/atollhq/atoll/internal/registry"
)

// Action is one state-changing request.
type Action struct {
	// Name is the action's registry key and the rest of its URL after
	// /actions/: a-z, 0-9, '-' and inner '/', such as "newsletter/subscribe".
	// Required.
	Name string
	// Fields are the form fields the handler reads; the engine checks
	// each before the handler runs. Fields not declared are ignored.
	Fields []Field
	// Announces are the events sent in HX-Trigger when the action
	// succeeds.
	Announces []string
	// Handle does the work. It returns the fragment to show, "" for a
	// 204, or an error. Required.
	Handle func(r *Request) (template.HTML, error)
	// Timeout is the action's deadline, its store transaction included;
	// 0 means the engine's (Options.Timeout, ATOLL_ACTION_TIMEOUT).
	Timeout time.Duration
}

// Field declares one form field. A value is trimmed of surrounding
// space; it must be valid UTF-8 without control characters and at most
// MaxRunes long. An Int field must hold a whole number from Min to Max.
// A field that is missing or empty gets Default, and is refused when
// Required.
type Field struct {
	Name     string
	Required bool
	// MaxRunes bounds a text field's length; 0 means DefaultMaxRunes.
	MaxRunes int
	// Int makes the field a whole number from Min to Max.
	Int      bool
	Min, Max int
	// Default stands in for a missing or empty value.
	Default string
	// Message is what the visitor reads when the value is refused, such
	// as "Enter a name of 1 to 40 characters."
	Message string
}

// DefaultMaxRunes bounds a text field that declares no MaxRunes.
const DefaultMaxRunes = 200

// Problem is an action refused with a status and a message for the
// visitor. The server's one error handler renders it as an alert
// fragment.
type Problem struct {
	Status  int
	Message string
}

func (p *Problem) Error() string { return p.Message }

// Refuse returns a Problem: the request is answered with status and the
// visitor reads message.
func Refuse(status int, message string) *Problem { return &Problem{Status: status, Message: message} }

// OK is a success message for the form that sent the action, escaped.
func OK(message string) template.HTML {
	return template.HTML(`<span class="ok">` + template.HTMLEscapeString(message) + `</span>`)
}

// Set is a set of actions a site serves, by name. The zero value is an
// empty set ready to use; NewSet returns one too. A Set is safe for use
// by several goroutines at once.
//
// A site carries its set in server.Site.Actions; Default, which the
// package-level Register fills, serves a site that carries none.
type Set struct {
	actions registry.Set[Action]
}

// NewSet returns an empty set.
func NewSet() *Set { return new(Set) }

// Default is the set that Register, Lookup and Names use: the actions of
// a site that carries no set of its own.
var Default = NewSet()

// Register adds an action to Default. See Set.Register.
func Register(a Action) { Default.Register(a) }

// Lookup returns the action registered in Default under name.
func Lookup(name string) (Action, error) { return Default.Lookup(name) }

// Names returns the names of the actions in Default, sorted.
func Names() []string { return Default.Names() }

// Register adds an action to s. Like database/sql.Register it panics on
// a bad name, a missing handler, a field declared badly and a duplicate,
// so a mistake stops the program at init rather than at request time.
func (s *Set) Register(a Action) {
	if err := check(a); err != nil {
		panic("action: " + err.Error())
	}
	// The caller's slices may change; the set's may not.
	a.Fields, a.Announces = slices.Clone(a.Fields), slices.Clone(a.Announces)
	if !s.actions.Add(a.Name, a) {
		panic(fmt.Sprintf("action: Register called twice for action %q", a.Name))
	}
}

func check(a Action) error {
	switch {
	case a.Name == "":
		return errors.New("Register called with an empty action name")
	case !validName(a.Name):
		return fmt.Errorf("action name %q may hold only a-z, 0-9, '-' and inner '/'", a.Name)
	case a.Handle == nil:
		return fmt.Errorf("action %q registered without a Handle function", a.Name)
	case a.Timeout < 0:
		return fmt.Errorf("action %q has a negative Timeout", a.Name)
	}
	seen := map[string]bool{}
	for _, f := range a.Fields {
		switch {
		case f.Name == "":
			return fmt.Errorf("action %q declares a field with no name", a.Name)
		case seen[f.Name]:
			return fmt.Errorf("action %q declares field %q twice", a.Name, f.Name)
		case f.Message == "":
			return fmt.Errorf("action %q field %q has no Message for the visitor", a.Name, f.Name)
		case f.Int && f.Min > f.Max:
			return fmt.Errorf("action %q field %q: Min %d is over Max %d", a.Name, f.Name, f.Min, f.Max)
		case f.MaxRunes < 0:
			return fmt.Errorf("action %q field %q: negative MaxRunes", a.Name, f.Name)
		}
		seen[f.Name] = true
	}
	for _, ev := range a.Announces {
		if ev == "" || strings.ContainsAny(ev, ", \t\r\n") {
			return fmt.Errorf("action %q announces %q: an event is one word", a.Name, ev)
		}
	}
	return nil
}

// Lookup returns the action registered in s under name.
func (s *Set) Lookup(name string) (Action, error) {
	a, ok := s.actions.Get(name)
	if !ok {
		return Action{}, fmt.Errorf("action: unknown action %q (add a file to the site's actions package that registers it)", name)
	}
	return a, nil
}

// Names returns the names of the actions in s, sorted.
func (s *Set) Names() []string { return s.actions.Names() }

// Events returns the events the actions in s announce, sorted, each once.
func (s *Set) Events() []string {
	var events []string
	for _, a := range s.actions.Values() {
		events = append(events, a.Announces...)
	}
	slices.Sort(events)
	return slices.Compact(events)
}

func validName(s string) bool {
	if len(s) > 64 || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '/') {
			return false
		}
	}
	return true
}
