package server

import (
	"fmt"
	"html"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/internal/pages"
)

// announced returns the events something announces: those of the
// actions in set and those the site lists as announced outside actions,
// sorted, each once. It is never nil, so the islands engine checks every
// placement's (on "event") against it.
func announced(set *action.Set, outside []string) []string {
	events := append(set.Events(), outside...)
	slices.Sort(events)
	return append([]string{}, slices.Compact(events)...)
}

// actionAttr matches an action or hx-post attribute in rendered HTML and
// captures its value, double- or single-quoted.
var actionAttr = regexp.MustCompile(`(?i)\s(?:action|hx-post)\s*=\s*(?:"([^"]*)"|'([^']*)')`)

// actionAttrAt is actionAttr anchored at the start of its input.
var actionAttrAt = regexp.MustCompile(`^` + actionAttr.String())

// actionAttrs returns what actionAttr.FindAllSubmatch(body, -1) returns,
// faster: that regular expression has no literal to search for, so
// running it over a whole page tries to match at every byte, which took
// most of the startup of a site of a thousand pages. This tries it only
// where whitespace is followed by "action" or "hx-post", in any case.
func actionAttrs(body []byte) [][][]byte {
	var out [][][]byte
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case ' ', '\t', '\n', '\f', '\r':
		default:
			continue
		}
		rest := body[i+1:]
		if !hasPrefixFold(rest, "action") && !hasPrefixFold(rest, "hx-post") {
			continue
		}
		if m := actionAttrAt.FindSubmatch(body[i:]); m != nil {
			out = append(out, m)
			i += len(m[0]) - 1
		}
	}
	return out
}

// hasPrefixFold reports whether b starts with the ASCII text prefix,
// ignoring case.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// checkActionLinks finds, in every page as rendered, each form action="…"
// and hx-post="…" whose value is a path under base/actions/ (after
// HTML unescaping, without its query or fragment), and fails when it
// names an action set does not hold: the form would only ever get a 404.
//
// A value written with an origin (https://…), a relative path or one
// built by client code is not recognised, nor are forms inside islands,
// which are rendered per request. The error names the template file and
// line where the action's path is written, found by searching the page's
// file and then the layouts and other pages (partials) for the text
// "/actions/NAME"; only the page's file when the path was assembled in a
// way that search cannot find.
func checkActionLinks(files fs.FS, site *pages.Site, base string, set *action.Set) error {
	prefix := base + "/actions/"
	check := func(p *pages.Page) error {
		for _, m := range actionAttrs(p.Body) {
			v := html.UnescapeString(string(m[1]) + string(m[2]))
			name, ok := strings.CutPrefix(v, prefix)
			if !ok {
				continue
			}
			if i := strings.IndexAny(name, "?#"); i >= 0 {
				name = name[:i]
			}
			if _, err := set.Lookup(name); err == nil {
				continue
			}
			known := "none"
			if names := set.Names(); len(names) > 0 {
				known = strings.Join(names, ", ")
			}
			return fmt.Errorf("%s: the page sends action %q (%s), which the site does not serve (actions: %s)",
				whereWritten(files, p.File, name), name, v, known)
		}
		return nil
	}
	if err := check(site.NotFound); err != nil {
		return err
	}
	for _, route := range site.Routes() {
		p, _ := site.Lookup(route)
		if err := check(p); err != nil {
			return err
		}
	}
	return nil
}

// whereWritten returns "file:line" of the first line that writes the path
// of action name, looking in page first, then in layouts/ and pages/;
// page alone when no line does.
func whereWritten(files fs.FS, page, name string) string {
	written := regexp.MustCompile(`/actions/` + regexp.QuoteMeta(name) + `(?:[^a-z0-9/-]|$)`)
	candidates := []string{page}
	for _, dir := range []string{"layouts", "pages"} {
		fs.WalkDir(files, dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && path.Ext(p) == ".html" && p != page {
				candidates = append(candidates, p)
			}
			return nil
		})
	}
	for _, file := range candidates {
		b, err := fs.ReadFile(files, file)
		if err != nil {
			continue
		}
		for n, line := range strings.Split(string(b), "\n") {
			if written.MatchString(line) {
				if file != page {
					return fmt.Sprintf("%s:%d (rendering %s)", file, n+1, page)
				}
				return fmt.Sprintf("%s:%d", file, n+1)
			}
		}
	}
	return page
}
