package fragments

import (
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/store"
)

// The user-greeting island greets the visitor by name when their session
// cookie names a known user, and as Guest otherwise; its template is
// user_greeting.html. It reads the session cookie and the Sessions store;
// it takes no props.
func init() {
	island.Register(island.Island{
		Name:         "user-greeting",
		Fallback:     `<p class="greeting"><span class="skeleton w-12"></span></p>`,
		TemplateFile: "user_greeting.html",
		Files:        templates,
		Render:       renderGreeting,
		Cookies:      []string{store.SessionCookie},
	})
}

type greeting struct{ Name string }

func renderGreeting(r *island.Request) (any, error) {
	// No session cookie: a visitor who never signed in.
	if r.Cookie(store.SessionCookie) == "" {
		return greeting{Name: "Guest"}, nil
	}
	// The session the cookie names, looked up in the store.
	sess, err := r.Session()
	if err != nil {
		return nil, err
	}
	// Signed out, expired or forged: still a guest.
	if sess.Guest() {
		return greeting{Name: "Guest"}, nil
	}
	return greeting{Name: sess.UserName}, nil
}
