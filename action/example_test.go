package action_test

import (
	"fmt"
	"html/template"

	"github.com/atollhq/atoll/action"
)

// A site that carries its own actions registers them into a Set and
// hands it to the server as server.Site.Actions.
func ExampleSet() {
	set := action.NewSet()
	set.Register(action.Action{
		Name:      "newsletter/subscribe",
		Fields:    []action.Field{{Name: "email", Required: true, MaxRunes: 254, Message: "Enter your email address."}},
		Announces: []string{"subscription-changed"},
		Handle: func(r *action.Request) (template.HTML, error) {
			return action.OK("Subscribed " + r.Value("email") + "."), nil
		},
	})
	set.Register(action.Action{
		Name:      "newsletter/unsubscribe",
		Announces: []string{"subscription-changed"},
		Handle:    func(*action.Request) (template.HTML, error) { return "", nil },
	})
	fmt.Println(set.Names())
	fmt.Println(set.Events())
	// Output:
	// [newsletter/subscribe newsletter/unsubscribe]
	// [subscription-changed]
}
