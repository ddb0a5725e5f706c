// Package island is the island registry: each island lives in its own
// file of the site's fragments package and registers itself from init.
//
//	func init() {
//		island.Register(island.Island{
//			Name:     "user-greeting",
//			Fallback: `<p class="greeting"><span class="skeleton w-12"></span></p>`,
//			Template: `<p class="greeting">Hello, {{.Name}}!</p>`,
//			Render:   renderGreeting,
//		})
//	}
//
// Registration only stores the island; the server parses every template
// at startup and refuses to start if one does not parse.
package island

import (
	"fmt"
	"html/template"
	"slices"
	"sync"
	"time"
)

// Island is one server island: a name, what to show while it loads, and
// how to render it for one request.
type Island struct {
	// Name is the island's registry key and the last segment of its URL.
	Name string
	// Fallback is the skeleton shown until the island arrives. It should
	// take the size of the rendered island so nothing moves when it does.
	// A page may pass its own.
	Fallback template.HTML
	// Template is html/template source; it is executed with what Render
	// returns. Its output is the fragment, with no layout and no doctype.
	Template string
	// Render gathers the island's data for one request.
	Render func(r *Request) (any, error)
	// Timeout overrides the server's island deadline when it is not zero.
	Timeout time.Duration
	// Cookies lists the cookies the island reads; Request.Cookie refuses
	// any other.
	Cookies []string
	// CacheControl is the island's Cache-Control header; empty means
	// "no-store". It may be "private, max-age=N", or "public, max-age=N"
	// for an island that reads no cookies; anything else stops startup.
	CacheControl string
}

var (
	mu      sync.RWMutex
	islands = map[string]Island{}
)

// Register adds an island. Like database/sql.Register it panics on an
// empty name, a missing template or render function, and a duplicate, so
// a mistake stops the program at init rather than at request time.
func Register(i Island) {
	mu.Lock()
	defer mu.Unlock()
	switch {
	case i.Name == "":
		panic("island: Register called with an empty island name")
	case !validName(i.Name):
		panic(fmt.Sprintf("island: island name %q may hold only a-z, 0-9 and '-'", i.Name))
	case i.Render == nil:
		panic(fmt.Sprintf("island: island %q registered without a Render function", i.Name))
	case i.Template == "":
		panic(fmt.Sprintf("island: island %q registered without a Template", i.Name))
	}
	if _, dup := islands[i.Name]; dup {
		panic(fmt.Sprintf("island: Register called twice for island %q", i.Name))
	}
	islands[i.Name] = i
}

// Lookup returns the island registered under name.
func Lookup(name string) (Island, error) {
	mu.RLock()
	defer mu.RUnlock()
	i, ok := islands[name]
	if !ok {
		return Island{}, fmt.Errorf("island: unknown island %q (add a file to the site's fragments package that registers it)", name)
	}
	return i, nil
}

// Names returns the names of all registered islands, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(islands))
	for n := range islands {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// validName keeps island names safe to put in URLs, ids and class names
// without escaping.
func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return len(s) <= 64
}
