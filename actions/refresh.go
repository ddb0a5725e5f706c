package actions

import (
	"html/template"

	"github.com/atollhq/atoll/action"
)

// refresh changes nothing: it announces the event every refreshable
// island listens for, so they all fetch again.
func init() {
	action.Register(action.Action{
		Name:      "refresh",
		Announces: []string{Refresh},
		Handle:    func(*action.Request) (template.HTML, error) { return "", nil },
	})
}
