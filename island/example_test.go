package island_test

import (
	"fmt"

	"github.com/atollhq/atoll/island"
)

// A site that carries its own islands registers them into a Set and
// hands it to the server as server.Site.Islands.
func ExampleSet() {
	set := island.NewSet()
	set.Register(island.Island{
		Name:     "user-greeting",
		Fallback: `<p class="greeting"><span class="skeleton w-12"></span></p>`,
		Template: `<p class="greeting">Hello, {{.}}!</p>`,
		Render:   func(*island.Request) (any, error) { return "Guest", nil },
	})
	set.Register(island.Island{
		Name:     "clock",
		Template: `<time>{{.}}</time>`,
		Render:   func(r *island.Request) (any, error) { return r.Now().Format("15:04"), nil },
	})
	fmt.Println(set.Names())
	_, err := set.Lookup("cart")
	fmt.Println(err)
	// Output:
	// [clock user-greeting]
	// island: unknown island "cart" (add a file to the site's fragments package that registers it)
}
