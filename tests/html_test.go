package tests

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/store"
)

// parse reads an HTML document or fragment into a node tree.
func parse(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// findAll returns every element under n for which match is true.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

// text returns the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// field returns the text of the element carrying data-field=name.
func field(t *testing.T, doc *html.Node, name string) string {
	t.Helper()
	els := findAll(doc, func(n *html.Node) bool { v, _ := attr(n, "data-field"); return v == name })
	if len(els) != 1 {
		t.Fatalf("want one element with data-field=%q, found %d", name, len(els))
	}
	return strings.TrimSpace(text(els[0]))
}

// placeholders returns the island placeholders of a page: an island that
// fetches itself and carries its placement's id (an island rendered into
// the page that refreshes itself fetches too, but has no id).
func placeholders(doc *html.Node) []*html.Node {
	return findAll(doc, func(n *html.Node) bool {
		_, ok := attr(n, "hx-get")
		id, _ := attr(n, "id")
		return ok && hasClass(n, "island") && strings.HasPrefix(id, "island-")
	})
}

// sessionCookie returns the atoll_session Set-Cookie of a response, "" if none.
func sessionCookie(r *atolltest.Response) *http.Cookie {
	for _, line := range r.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == store.SessionCookie {
			return c
		}
	}
	return nil
}
