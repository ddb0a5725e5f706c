package server

import (
	"fmt"
	"testing"
)

// TestActionAttrsMatchesTheRegularExpression checks that the fast scan
// finds exactly what actionAttr finds over a whole body.
func TestActionAttrsMatchesTheRegularExpression(t *testing.T) {
	t.Parallel()
	bodies := []string{
		``,
		`<form action="/actions/cart-add">`,
		`<form ACTION = '/actions/x?y=1'><button hx-post="/actions/y">`,
		"<form\naction=\"/a\"\thx-post='/b' action=/c>",
		`<p>action="/not-an-attribute"</p> <p>no space before</p>x action`,
		` action="unclosed`,
		` hx-post="/a" action="/b"action="/c" Hx-Post="/d"`,
		` actionx="/a"  action  =  "/b"`,
	}
	for _, b := range bodies {
		want := fmt.Sprintf("%q", actionAttr.FindAllSubmatch([]byte(b), -1))
		if got := fmt.Sprintf("%q", actionAttrs([]byte(b))); got != want {
			t.Errorf("actionAttrs(%q) = %s, want %s", b, got, want)
		}
	}
}
