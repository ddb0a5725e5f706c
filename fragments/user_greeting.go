package fragments

import "fmt"

// SessionCookie is the name of the cookie that carries a visitor's
// session id.
const SessionCookie = "atoll_session"

// The user-greeting island greets the visitor by name when their session
// cookie names a known user, and as Guest otherwise. It reads the session
// cookie and the Sessions store.
func init() {
	Register(Island{
		Name:     "user-greeting",
		Fallback: `<p class="greeting"><span class="skeleton w-12"></span></p>`,
		Template: `<p class="greeting">Hello, <span data-field="name">{{.Name}}</span>!</p>`,
		Render:   renderGreeting,
		Cookies:  []string{SessionCookie},
	})
}

type greeting struct{ Name string }

func renderGreeting(r *Request) (any, error) {
	id := r.Cookie(SessionCookie)
	if id == "" || r.Sessions == nil {
		return greeting{Name: "Guest"}, nil
	}
	name, ok, err := r.Sessions.UserName(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	if !ok {
		return greeting{Name: "Guest"}, nil
	}
	return greeting{Name: name}, nil
}
