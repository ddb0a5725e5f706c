package actions

import (
	"html/template"

	"github.com/atollhq/atoll/action"
)

// sign-in makes a user called by the form's name and signs the visitor
// in; a guest's cart comes along.
func init() {
	action.Register(action.Action{
		Name:      "sign-in",
		Fields:    []action.Field{{Name: "name", Required: true, MaxRunes: 40, Message: "Enter a name of 1 to 40 characters."}},
		Announces: []string{SessionChanged, CartUpdated},
		Handle:    signIn,
	})
}

func signIn(r *action.Request) (template.HTML, error) {
	name := r.Value("name")
	if _, err := r.SignIn(name); err != nil {
		return "", err
	}
	return action.OK("Welcome, " + name + "."), nil
}
