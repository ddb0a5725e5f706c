package island

import (
	"slices"
	"strings"
	"testing"
)

func TestRegisterPanics(t *testing.T) {
	render := func(*Request) (any, error) { return nil, nil }
	cases := []struct {
		name   string
		island Island
		want   string
	}{
		{"an empty name panics", Island{Template: "x", Render: render}, "empty island name"},
		{"a name with a slash panics", Island{Name: "a/b", Template: "x", Render: render}, "may hold only"},
		{"a missing render function panics", Island{Name: "no-render", Template: "x"}, "without a Render"},
		{"a missing template panics", Island{Name: "no-template", Render: render}, "without a Template"},
		{"a duplicate name panics", Island{Name: "server-info", Template: "x", Render: render}, "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(p.(string), tc.want) {
					t.Fatalf("panic = %v, want one containing %q", p, tc.want)
				}
			}()
			Register(tc.island)
		})
	}
}

func TestLookupAndNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) || !slices.Contains(names, "server-info") || !slices.Contains(names, "user-greeting") {
		t.Fatalf("Names() = %v, want a sorted list holding the demo islands", names)
	}
	if _, err := Lookup("server-info"); err != nil {
		t.Fatalf("Lookup(server-info): %v", err)
	}
	_, err := Lookup("nope")
	if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "fragments/") {
		t.Fatalf("Lookup(nope) error = %v, want one naming the island and how to fix it", err)
	}
}

func TestGroupThousands(t *testing.T) {
	for n, want := range map[int]string{7: "7", 999: "999", 1000: "1,000", 498891: "498,891", 1234567: "1,234,567"} {
		if got := groupThousands(n); got != want {
			t.Errorf("groupThousands(%d) = %q, want %q", n, got, want)
		}
	}
}
