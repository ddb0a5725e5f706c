package actions

import (
	"html/template"

	"github.com/atollhq/atoll/action"
)

// sign-out deletes the visitor's session, and with it their cart.
func init() {
	action.Register(action.Action{
		Name:      "sign-out",
		Announces: []string{SessionChanged, CartUpdated},
		Handle:    signOut,
	})
}

func signOut(r *action.Request) (template.HTML, error) {
	if err := r.SignOut(); err != nil {
		return "", err
	}
	return action.OK("Signed out."), nil
}
