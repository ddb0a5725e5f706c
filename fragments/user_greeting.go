package fragments

import (
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/store"
)

// The user-greeting island greets the visitor by name when their session
// cookie names a known user, and as Guest otherwise. It reads the session
// cookie and the Sessions store.
func init() {
	island.Register(island.Island{
		Name:     "user-greeting",
		Fallback: `<p class="greeting"><span class="skeleton w-12"></span></p>`,
		Template: `<p class="greeting">Hello, <span data-field="name">{{.Name}}</span>!</p>`,
		Render:   renderGreeting,
		Cookies:  []string{store.SessionCookie},
	})
}

type greeting struct{ Name string }

func renderGreeting(r *island.Request) (any, error) {
	sess, err := r.Session()
	if err != nil {
		return nil, err
	}
	if sess.Guest() {
		return greeting{Name: "Guest"}, nil
	}
	return greeting{Name: sess.UserName}, nil
}
