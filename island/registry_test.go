package island

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func render(*Request) (any, error) { return nil, nil }

// registeredAt is the line of the first Register call in init below.
var registeredAt int

func init() {
	registeredAt = line() + 1
	Register(Island{Name: "test-inline", Template: "<p>{{.}}</p>", Render: render})
	Register(Island{Name: "test-file", TemplateFile: "test_file.html", Files: fstest.MapFS{"test_file.html": {Data: []byte("<p>{{.}}</p>")}},
		Props: []Prop{{Name: "id", Required: true}, {Name: "mode"}}, Render: render})
}

// line returns the line it is called from.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

func TestRegisterPanics(t *testing.T) {
	files := fstest.MapFS{"x.html": {Data: []byte("x")}}
	cases := []struct {
		name   string
		island Island
		want   string
	}{
		{"an empty name panics", Island{Template: "x", Render: render}, "empty island name"},
		{"a name with a slash panics", Island{Name: "a/b", Template: "x", Render: render}, "may hold only"},
		{"a missing render function panics", Island{Name: "no-render", Template: "x"}, "without a Render"},
		{"a missing template panics", Island{Name: "no-template", Render: render}, "without a Template or TemplateFile"},
		{"a template and a template file panic", Island{Name: "both", Template: "x", TemplateFile: "x.html", Files: files, Render: render}, "both"},
		{"a template file without files panics", Island{Name: "no-files", TemplateFile: "x.html", Render: render}, `TemplateFile "x.html" but no Files`},
		{"a prop with an empty name panics", Island{Name: "empty-prop", Template: "x", Render: render, Props: []Prop{{Name: "a"}, {Required: true}}}, "prop with an empty name"},
		{"a prop declared twice panics", Island{Name: "dup-prop", Template: "x", Render: render, Props: []Prop{{Name: "a"}, {Name: "b"}, {Name: "a", Required: true}}}, `prop "a" twice`},
		{"a duplicate name panics", Island{Name: "test-inline", Template: "x", Render: render}, "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(p.(string), tc.want) {
					t.Fatalf("panic = %v, want one containing %q", p, tc.want)
				}
				if tc.island.Name != "test-inline" && slices.Contains(Names(), tc.island.Name) && tc.island.Name != "" {
					t.Fatalf("the refused island %q was registered", tc.island.Name)
				}
			}()
			Register(tc.island)
		})
	}
}

func TestLookupAndNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) || !slices.Contains(names, "test-inline") || !slices.Contains(names, "test-file") {
		t.Fatalf("Names() = %v, want a sorted list holding the test islands", names)
	}
	if _, err := Lookup("test-inline"); err != nil {
		t.Fatalf("Lookup(test-inline): %v", err)
	}
	_, err := Lookup("nope")
	if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "fragments") {
		t.Fatalf("Lookup(nope) error = %v, want one naming the island and how to fix it", err)
	}
}

func TestRegisterRecordsItsCaller(t *testing.T) {
	i, err := Lookup("test-inline")
	if err != nil {
		t.Fatal(err)
	}
	if file, line := i.Source(); file != "island/registry_test.go" || line != registeredAt {
		t.Fatalf("Source() = %s:%d, want island/registry_test.go:%d", file, line, registeredAt)
	}
	if file, line := (Island{}).Source(); file != "" || line != 0 {
		t.Fatalf("an unregistered island's Source() = %s:%d, want nothing", file, line)
	}
}

// setRegisteredAt is the line of the Set.Register call in
// TestSetRegisterRecordsItsCaller.
var setRegisteredAt int

func TestSetRegisterRecordsItsCaller(t *testing.T) {
	set := NewSet()
	setRegisteredAt = line() + 1
	set.Register(Island{Name: "set-inline", Template: "<p>{{.}}</p>", Render: render})
	i, err := set.Lookup("set-inline")
	if err != nil {
		t.Fatal(err)
	}
	if file, line := i.Source(); file != "island/registry_test.go" || line != setRegisteredAt {
		t.Fatalf("Source() = %s:%d, want island/registry_test.go:%d", file, line, setRegisteredAt)
	}

	// An island copied into another set keeps naming where it was
	// first registered, not where it was copied.
	copied := NewSet()
	from, err := Lookup("test-inline")
	if err != nil {
		t.Fatal(err)
	}
	copied.Register(from)
	i, err = copied.Lookup("test-inline")
	if err != nil {
		t.Fatal(err)
	}
	if file, line := i.Source(); file != "island/registry_test.go" || line != registeredAt {
		t.Fatalf("a copied island's Source() = %s:%d, want island/registry_test.go:%d", file, line, registeredAt)
	}
}

func TestSetsAreSeparate(t *testing.T) {
	var one Set // the zero value is ready to use
	two := NewSet()
	one.Register(Island{Name: "only-in-one", Template: "x", Render: render})
	if _, err := two.Lookup("only-in-one"); err == nil {
		t.Fatal("an island registered in one set is found in another")
	}
	if _, err := Lookup("only-in-one"); err == nil {
		t.Fatal("an island registered in a set of its own is found in Default")
	}
	two.Register(Island{Name: "only-in-one", Template: "y", Render: render}) // no duplicate across sets
	if got := one.Names(); !slices.Equal(got, []string{"only-in-one"}) {
		t.Fatalf("Names() = %q, want [only-in-one]", got)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), `twice for island "only-in-one"`) {
			t.Fatalf("a duplicate in one set: panic %v", p)
		}
	}()
	one.Register(Island{Name: "only-in-one", Template: "z", Render: render})
}

type services struct{ name string }

func TestServicesOf(t *testing.T) {
	i, err := Lookup("test-inline")
	if err != nil {
		t.Fatal(err)
	}
	r := NewRequest(context.Background(), RequestInit{Island: i, Services: &services{name: "shop"}})
	if got := ServicesOf[*services](r); got.name != "shop" {
		t.Fatalf("ServicesOf = %+v", got)
	}
	if got := ServicesOf[any](r); got == nil {
		t.Fatal("ServicesOf[any] = nil")
	}
	cases := []struct {
		name string
		get  func()
		want string
	}{
		{"another pointer type names both", func() { ServicesOf[*strings.Builder](r) }, `island "test-inline": services are *island.services, not *strings.Builder`},
		{"a value type for a pointer names both", func() { ServicesOf[services](r) }, `services are *island.services, not island.services`},
		{"an interface names itself", func() { ServicesOf[fmt.Stringer](r) }, `not fmt.Stringer`},
		{"no services at all say nil", func() {
			ServicesOf[*services](NewRequest(context.Background(), RequestInit{Island: i}))
		}, `services are <nil>, not *island.services`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if msg, _ := p.(string); !strings.Contains(msg, tc.want) {
					t.Fatalf("panic = %v, want one containing %q", p, tc.want)
				}
			}()
			tc.get()
		})
	}
}

func TestCheckProps(t *testing.T) {
	takes, err := Lookup("test-file") // takes id (required) and mode
	if err != nil {
		t.Fatal(err)
	}
	none, err := Lookup("test-inline") // takes no props
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		island Island
		props  map[string]string
		want   string // "" for no error
	}{
		{"every required prop is there", takes, map[string]string{"id": "1"}, ""},
		{"required and optional props are there", takes, map[string]string{"id": "1", "mode": "x"}, ""},
		{"an empty value still counts as passed", takes, map[string]string{"id": ""}, ""},
		{"no props for an island that takes none", none, nil, ""},
		{"a missing required prop is named", takes, map[string]string{"mode": "x"}, `missing required prop "id"`},
		{"no props at all lack the required one", takes, nil, `missing required prop "id"`},
		{"an undeclared prop is named with the declared ones", takes, map[string]string{"id": "1", "zz": "x", "colour": "red"}, `prop "colour" is not declared: the island takes id, mode`},
		{"a prop for an island that takes none is named", none, map[string]string{"n": "1"}, `prop "n" is not declared: the island takes no props`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.island.CheckProps(tc.props)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckProps(%v) = %v, want nil", tc.props, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("CheckProps(%v) = %v, want %q", tc.props, err, tc.want)
			}
		})
	}
}

func TestPackageOf(t *testing.T) {
	cases := map[string]string{
		"example.com/site/fragments.init.0":        "example.com/site/fragments",
		"example.com/site/fragments.renderX.func1": "example.com/site/fragments",
		"example.com/site/tests_test.init.0":       "example.com/site/tests",
		"main.init.0":                              "main",
		"example.com/site.init.0":                  "example.com/site",
		"nodot":                                    "",
	}
	for in, want := range cases {
		if got := packageOf(in); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", in, got, want)
		}
	}
}
