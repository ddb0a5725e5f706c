package fragments

import (
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/store"
)

// The account island shows a sign-in form to guests and the signed-in
// user's name with a sign-out button to everyone else. The forms post to
// actions that answer with the session-changed event, which this island,
// like the greeting, listens for. It reads the session cookie and the
// visitor's session.
func init() {
	island.Register(island.Island{
		Name:     "account",
		Fallback: `<div class="account"><span class="skeleton w-14"></span><span class="skeleton skeleton--control"></span></div>`,
		Template: `<div class="account">{{if .Name}}` +
			`<form class="account-form account-form--signed-in" hx-post="{{.Base}}/actions/sign-out" hx-target="find .form-message" hx-swap="innerHTML">` +
			`<span class="account-name">Signed in as <strong data-field="account-name">{{.Name}}</strong></span> ` +
			`<button type="submit" class="button button--quiet">Sign out</button><span class="form-message" aria-live="polite"></span></form>` +
			`{{else}}` +
			`<form class="account-form" hx-post="{{.Base}}/actions/sign-in" hx-target="find .form-message" hx-swap="innerHTML">` +
			`<label for="sign-in-name">Your name</label> ` +
			`<input id="sign-in-name" name="name" required maxlength="40" autocomplete="nickname"> ` +
			`<button type="submit" class="button">Sign in</button><span class="form-message" aria-live="polite"></span></form>` +
			`{{end}}</div>`,
		Render:  renderAccount,
		Cookies: []string{store.SessionCookie},
	})
}

type account struct{ Base, Name string }

func renderAccount(r *island.Request) (any, error) {
	sess, err := r.Session()
	if err != nil {
		return nil, err
	}
	return account{Base: r.Base(), Name: sess.UserName}, nil
}
