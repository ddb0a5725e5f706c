package fragments

import (
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/store"
)

// The account island shows a sign-in form to guests and a sign-out
// button to a signed-in visitor (the greeting beside it already says
// their name, so this does not say it again; the form carries it in
// data-account-name for scripts and tests). The forms post to
// actions that answer with the session-changed event, which this island,
// like the greeting, listens for; its template is account.html. It reads
// the session cookie and the visitor's session; it takes no props.
func init() {
	island.Register(island.Island{
		Name:         "account",
		Fallback:     `<div class="account"><span class="skeleton w-14"></span><span class="skeleton skeleton--control"></span></div>`,
		TemplateFile: "account.html",
		Files:        templates,
		Render:       renderAccount,
		Cookies:      []string{store.SessionCookie},
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
