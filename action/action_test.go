package action_test

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"testing"

	"github.com/atollhq/atoll/action"
)

// Each test registers into a set of its own; only
// TestPackageLevelRegisterFillsDefault touches Default.

func nothing(*action.Request) (template.HTML, error) { return "", nil }

// registerPanic calls set.Register and returns what it panicked with, ""
// if it did not.
func registerPanic(set *action.Set, a action.Action) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if msg == "" {
				msg = "(empty panic)"
			}
		}
	}()
	set.Register(a)
	return ""
}

func TestRegisterRefusesBadActions(t *testing.T) {
	field := func(f action.Field) action.Action {
		return action.Action{Name: "zz-test-field/" + strings.ToLower(strings.ReplaceAll(f.Name+f.Message, " ", "-")), Fields: []action.Field{f}, Handle: nothing}
	}
	cases := []struct {
		name string
		a    action.Action
		says string // the panic names what is wrong
	}{
		{"an empty name", action.Action{Handle: nothing}, "empty action name"},
		{"a leading slash", action.Action{Name: "/zz-test-lead", Handle: nothing}, `"/zz-test-lead"`},
		{"a trailing slash", action.Action{Name: "zz-test-trail/", Handle: nothing}, `"zz-test-trail/"`},
		{"a double slash", action.Action{Name: "zz-test-a//b", Handle: nothing}, `"zz-test-a//b"`},
		{"upper case", action.Action{Name: "zz-test-Upper", Handle: nothing}, `"zz-test-Upper"`},
		{"a space", action.Action{Name: "zz-test space", Handle: nothing}, `"zz-test space"`},
		{"a dot", action.Action{Name: "zz-test-../up", Handle: nothing}, `"zz-test-../up"`},
		{"a query", action.Action{Name: "zz-test?x=1", Handle: nothing}, `"zz-test?x=1"`},
		{"a non-ASCII letter", action.Action{Name: "zz-test-é", Handle: nothing}, `"zz-test-é"`},
		{"a name over 64 bytes", action.Action{Name: "zz-test-" + strings.Repeat("a", 57), Handle: nothing}, "zz-test-aaa"},
		{"no Handle", action.Action{Name: "zz-test-no-handle"}, "without a Handle"},
		{"a field without a name", field(action.Field{Message: "Nameless"}), "field with no name"},
		{"a field without a Message", field(action.Field{Name: "quiet"}), `"quiet" has no Message`},
		{"a field with Min over Max", field(action.Field{Name: "n", Int: true, Min: 5, Max: 4, Message: "Pick"}), "Min 5 is over Max 4"},
		{"a field with a negative MaxRunes", field(action.Field{Name: "neg", MaxRunes: -1, Message: "No"}), "negative MaxRunes"},
		{"a field declared twice", action.Action{Name: "zz-test-twice", Handle: nothing, Fields: []action.Field{
			{Name: "q", Message: "One."}, {Name: "q", Message: "Two."}}}, `"q" twice`},
		{"an empty event", action.Action{Name: "zz-test-event-empty", Handle: nothing, Announces: []string{""}}, "an event is one word"},
		{"an event with a comma", action.Action{Name: "zz-test-event-comma", Handle: nothing, Announces: []string{"a,b"}}, `"a,b"`},
		{"an event with a space", action.Action{Name: "zz-test-event-space", Handle: nothing, Announces: []string{"cart updated"}}, `"cart updated"`},
		{"an event with a newline", action.Action{Name: "zz-test-event-newline", Handle: nothing, Announces: []string{"a\r\nX-Evil: 1"}}, "an event is one word"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var set action.Set // the zero value is ready to use
			msg := registerPanic(&set, tc.a)
			if msg == "" {
				t.Fatalf("Register(%+v) did not panic", tc.a)
			}
			if !strings.HasPrefix(msg, "action: ") || !strings.Contains(msg, tc.says) {
				t.Fatalf("panic %q, want it to start with \"action: \" and say %q", msg, tc.says)
			}
			if tc.a.Name != "" {
				if _, err := set.Lookup(tc.a.Name); err == nil {
					t.Fatalf("a refused action %q was registered anyway", tc.a.Name)
				}
			}
		})
	}
}

func TestRegisterRefusesADuplicate(t *testing.T) {
	set := action.NewSet()
	first := action.Action{Name: "zz-test-dup/once", Handle: nothing, Announces: []string{"one"}}
	if msg := registerPanic(set, first); msg != "" {
		t.Fatalf("the first registration panicked: %s", msg)
	}
	second := action.Action{Name: "zz-test-dup/once", Handle: nothing, Announces: []string{"two"}}
	if msg := registerPanic(set, second); !strings.Contains(msg, `twice for action "zz-test-dup/once"`) {
		t.Fatalf("a duplicate: panic %q", msg)
	}
	if a, _ := set.Lookup("zz-test-dup/once"); !slices.Equal(a.Announces, []string{"one"}) {
		t.Fatalf("the duplicate replaced the first: %+v", a)
	}
}

func TestRegisterLookupAndNames(t *testing.T) {
	set := action.NewSet()
	good := []action.Action{
		{Name: "zz-test-names/b", Handle: nothing},
		{Name: "zz-test-names/a-1", Handle: nothing, Announces: []string{"cart-updated", "session-changed"},
			Fields: []action.Field{{Name: "n", Int: true, Min: 1, Max: 1, Message: "One only."}, {Name: "text", Message: "Say it."}}},
		{Name: "zz-test-names", Handle: nothing},
	}
	for _, a := range good {
		if msg := registerPanic(set, a); msg != "" {
			t.Fatalf("Register(%q) panicked: %s", a.Name, msg)
		}
	}
	a, err := set.Lookup("zz-test-names/a-1")
	if err != nil || len(a.Fields) != 2 || a.Fields[0].Max != 1 || a.Handle == nil {
		t.Fatalf("Lookup = %+v, %v", a, err)
	}
	_, err = set.Lookup("zz-test-names/none")
	if err == nil || !strings.Contains(err.Error(), `"zz-test-names/none"`) || !strings.Contains(err.Error(), "actions package") {
		t.Fatalf("Lookup of an action nobody registered: error %v, want one naming it and how to fix it", err)
	}
	names := set.Names()
	if !slices.IsSorted(names) {
		t.Fatalf("Names are not sorted: %q", names)
	}
	var ours []string
	for _, n := range names {
		if strings.HasPrefix(n, "zz-test-names") {
			ours = append(ours, n)
		}
	}
	if want := []string{"zz-test-names", "zz-test-names/a-1", "zz-test-names/b"}; !slices.Equal(ours, want) {
		t.Fatalf("Names hold %q, want %q", ours, want)
	}
}

func TestSetEvents(t *testing.T) {
	set := action.NewSet()
	if ev := set.Events(); len(ev) != 0 {
		t.Fatalf("an empty set announces %q", ev)
	}
	set.Register(action.Action{Name: "b", Handle: nothing, Announces: []string{"session-changed", "cart-updated"}})
	set.Register(action.Action{Name: "a", Handle: nothing, Announces: []string{"cart-updated"}})
	set.Register(action.Action{Name: "c", Handle: nothing})
	if got, want := set.Events(), []string{"cart-updated", "session-changed"}; !slices.Equal(got, want) {
		t.Fatalf("Events() = %q, want %q", got, want)
	}
}

func TestSetsAreSeparate(t *testing.T) {
	one, two := action.NewSet(), action.NewSet()
	one.Register(action.Action{Name: "only-in-one", Handle: nothing})
	if _, err := two.Lookup("only-in-one"); err == nil {
		t.Fatal("an action registered in one set is found in another")
	}
	two.Register(action.Action{Name: "only-in-one", Handle: nothing}) // no duplicate across sets
	if _, err := action.Lookup("only-in-one"); err == nil {
		t.Fatal("an action registered in a set of its own is found in Default")
	}
}

func TestPackageLevelRegisterFillsDefault(t *testing.T) {
	action.Register(action.Action{Name: "zz-test-default", Handle: nothing})
	if _, err := action.Default.Lookup("zz-test-default"); err != nil {
		t.Fatalf("action.Register did not fill Default: %v", err)
	}
	if !slices.Contains(action.Names(), "zz-test-default") {
		t.Fatalf("action.Names() = %q, want it to hold zz-test-default", action.Names())
	}
	if msg := registerPanic(action.Default, action.Action{Name: "zz-test-default", Handle: nothing}); !strings.Contains(msg, "twice") {
		t.Fatalf("a duplicate in Default: panic %q", msg)
	}
}
