// Package island is the island registry: each island lives in its own
// file of the site's fragments package and registers itself from init,
// into Default, the set a site serves unless it carries its own (Set,
// as net/http's DefaultServeMux is to a ServeMux).
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
// An island that takes props declares them, and a template may live in a
// file beside the island's Go file:
//
//	//go:embed *.html
//	var templates embed.FS
//
//	island.Register(island.Island{
//		Name:         "latency",
//		Props:        []island.Prop{{Name: "ms", Required: true}, {Name: "n"}},
//		TemplateFile: "latency.html",
//		Files:        templates,
//		Render:       renderLatency,
//	})
//
// Registration only stores the island; the server parses every template
// at startup and refuses to start if one does not parse, or if a page
// places an island without a prop it requires or with one it does not
// take. Template errors name the island, the file and the line.
package island

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atollhq/atoll/internal/registry"
)

// Island is one server island: a name, what to show while it loads, and
// how to render it for one request.
type Island struct {
	// Name is the island's registry key and the last segment of its URL:
	// a-z, 0-9 and '-'. Required.
	Name string
	// Fallback is the skeleton shown until the island arrives. It should
	// take the size of the rendered island so nothing moves when it does.
	// A page may pass its own.
	Fallback template.HTML
	// Template is html/template source; it is executed with what Render
	// returns. Its output is the fragment, with no layout and no doctype.
	// An island sets Template or TemplateFile (one is required), not both.
	Template string
	// TemplateFile is the path in Files of a file holding the template
	// instead, such as "user_greeting.html" beside user_greeting.go.
	// Errors name it by its place in the repository: the directory of the
	// package that registers the island joined with TemplateFile, which
	// is where go:embed reads it from.
	TemplateFile string
	// Files holds TemplateFile: usually an embed.FS of the package that
	// registers the island.
	Files fs.FS
	// Props declares the props the island takes. A page that places the
	// island without a required one, or with one not declared here, stops
	// startup; a request that way gets 400. An island with no Props takes
	// none.
	Props []Prop
	// Render gathers the island's data for one request. Required.
	Render func(r *Request) (any, error)
	// Timeout overrides the server's island deadline when it is not zero.
	// Render runs on the request's goroutine, and its Request's Context
	// ends at the deadline: pass it to whatever may block (queries,
	// outgoing requests) and return when it is done. An island that
	// returns after its deadline answers 504 all the same, its output
	// dropped; in a batch stream its timeout state is sent at the deadline
	// while it still runs.
	Timeout time.Duration
	// Cookies lists the cookies the island reads; Request.Cookie refuses
	// any other.
	Cookies []string
	// CacheControl is the island's Cache-Control header; empty means
	// "no-store". It may be "private, max-age=N", or "public, max-age=N"
	// for an island that reads no cookies; anything else stops startup.
	CacheControl string

	// file and line are where Register was called (see Source).
	file string
	line int
}

// Prop declares one prop an island takes: the key a page passes with
// (props "name" value), and whether every placement must pass it.
type Prop struct {
	Name     string
	Required bool
}

// Source returns the file and line of the Register call that added the
// island, the file named by its place in the main module, such as
// "fragments/account.go" (or by its import path when it is in another
// module); "" and 0 for an island that was never registered.
func (i Island) Source() (file string, line int) { return i.file, i.line }

// CheckProps reports the first required prop, in declaration order, that
// props lack, or else the first prop, by name, that the island does not
// declare; nil when props match the declaration.
func (i Island) CheckProps(props map[string]string) error {
	for _, p := range i.Props {
		if _, ok := props[p.Name]; p.Required && !ok {
			return fmt.Errorf("missing required prop %q", p.Name)
		}
	}
	var undeclared []string
	for k := range props {
		if !i.declares(k) {
			undeclared = append(undeclared, k)
		}
	}
	if len(undeclared) == 0 {
		return nil
	}
	slices.Sort(undeclared) // the same prop is named every time
	if len(i.Props) == 0 {
		return fmt.Errorf("prop %q is not declared: the island takes no props", undeclared[0])
	}
	names := make([]string, len(i.Props))
	for n, p := range i.Props {
		names[n] = p.Name
	}
	return fmt.Errorf("prop %q is not declared: the island takes %s", undeclared[0], strings.Join(names, ", "))
}

func (i Island) declares(name string) bool {
	for _, p := range i.Props {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Set is a set of islands a site serves, by name. The zero value is an
// empty set ready to use; NewSet returns one too. A Set is safe for use
// by several goroutines at once.
//
// A site carries its set in server.Site.Islands; Default, which the
// package-level Register fills, serves a site that carries none.
type Set struct {
	islands registry.Set[Island]
}

// NewSet returns an empty set.
func NewSet() *Set { return new(Set) }

// Default is the set that Register, Lookup and Names use: the islands of
// a site that carries no set of its own.
var Default = NewSet()

// Register adds an island to Default. See Set.Register.
func Register(i Island) { Default.register(i) }

// Lookup returns the island registered in Default under name.
func Lookup(name string) (Island, error) { return Default.Lookup(name) }

// Names returns the names of the islands in Default, sorted.
func Names() []string { return Default.Names() }

// Register adds an island to s. Like database/sql.Register it panics on
// an empty name, a missing template or render function, a bad prop
// declaration and a duplicate, so a mistake stops the program at init
// rather than at request time. It records where it was called, so
// template errors can name the island's Go file; an island taken from
// another set with Lookup keeps the place it was first registered.
func (s *Set) Register(i Island) { s.register(i) }

// register is Register for both Set.Register and the package-level
// Register: each calls it directly, so the caller it records is the same
// number of frames up the stack from both.
func (s *Set) register(i Island) {
	switch {
	case i.Name == "":
		panic("island: Register called with an empty island name")
	case !validName(i.Name):
		panic(fmt.Sprintf("island: island name %q may hold only a-z, 0-9 and '-'", i.Name))
	case i.Render == nil:
		panic(fmt.Sprintf("island: island %q registered without a Render function", i.Name))
	case i.Template == "" && i.TemplateFile == "":
		panic(fmt.Sprintf("island: island %q registered without a Template or TemplateFile", i.Name))
	case i.Template != "" && i.TemplateFile != "":
		panic(fmt.Sprintf("island: island %q registered with both a Template and a TemplateFile", i.Name))
	case i.TemplateFile != "" && i.Files == nil:
		panic(fmt.Sprintf("island: island %q registered with TemplateFile %q but no Files to read it from", i.Name, i.TemplateFile))
	}
	for n, p := range i.Props {
		switch {
		case p.Name == "":
			panic(fmt.Sprintf("island: island %q declares a prop with an empty name", i.Name))
		case slices.ContainsFunc(i.Props[:n], func(q Prop) bool { return q.Name == p.Name }):
			panic(fmt.Sprintf("island: island %q declares prop %q twice", i.Name, p.Name))
		}
	}
	i.Props = slices.Clone(i.Props) // the caller's slice may change; the set's may not
	if i.file == "" {
		// caller(3): register's caller (Register or Set.Register), and
		// the code that called that.
		i.file, i.line = caller(3)
	}
	if !s.islands.Add(i.Name, i) {
		panic(fmt.Sprintf("island: Register called twice for island %q", i.Name))
	}
}

// caller returns the source file and line skip frames up the stack, the
// file named by its package's place in the main module.
func caller(skip int) (string, int) {
	pc, file, line, ok := runtime.Caller(skip)
	if !ok {
		return "", 0
	}
	fn := runtime.FuncForPC(pc)
	if fn == nil {
		return file, line
	}
	return modulePath(packageOf(fn.Name()), file), line
}

// packageOf returns the import path of the package a function, named as
// runtime.Func names it ("example.com/site/fragments.init.0"), is in.
func packageOf(funcName string) string {
	slash := strings.LastIndexByte(funcName, '/')
	dot := strings.IndexByte(funcName[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return strings.TrimSuffix(funcName[:slash+1+dot], "_test")
}

// modulePath names file, of package pkg, by its path from the main
// module's root: "fragments/account.go". A file of another module is
// named by its package's import path; the file as the runtime knows it
// when the package is unknown.
func modulePath(pkg, file string) string {
	name := path.Base(strings.ReplaceAll(file, "\\", "/"))
	main := mainModule()
	switch {
	case pkg == "":
		return file
	case pkg == "main" && main.path != "":
		pkg = main.pkg
	}
	switch {
	case main.path == "":
	case pkg == main.path:
		return name
	case strings.HasPrefix(pkg, main.path+"/"):
		return strings.TrimPrefix(pkg, main.path+"/") + "/" + name
	}
	return pkg + "/" + name
}

// mainModule is the main module's path and the main package's import
// path, from the binary's build information.
var mainModule = sync.OnceValue(func() (m struct{ path, pkg string }) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		m.path, m.pkg = bi.Main.Path, bi.Path
	}
	return m
})

// Lookup returns the island registered in s under name.
func (s *Set) Lookup(name string) (Island, error) {
	i, ok := s.islands.Get(name)
	if !ok {
		return Island{}, fmt.Errorf("island: unknown island %q (add a file to the site's fragments package that registers it)", name)
	}
	return i, nil
}

// Names returns the names of the islands in s, sorted.
func (s *Set) Names() []string { return s.islands.Names() }

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
