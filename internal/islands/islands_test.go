package islands

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/island"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

//go:embed testdata/templates/*.html
var templates embed.FS

// The test islands. engine serves those in serving; the others have
// templates that must stop New, so each test asks for them by name.
var serving = []string{"test-clock", "test-greeting", "test-props", "test-exec-error", "test-file-exec-error"}

// Where the test islands with broken inline templates are registered,
// for the errors that must name the Go file and line.
var execErrorAt, parseErrorAt, escapeErrorAt int

type clock struct{ Time, Date string }

// testIslands holds every test island; newEngine serves some of them.
var testIslands = island.NewSet()

func init() {
	testIslands.Register(island.Island{
		Name: "test-clock",
		Fallback: `<dl class="facts"><div class="fact"><dt>Time</dt><dd><span class="skeleton w-8"></span></dd></div>` +
			`<div class="fact"><dt>Date</dt><dd><span class="skeleton w-14"></span></dd></div></dl>`,
		Template: `<dl class="facts"><div class="fact"><dt>Time</dt><dd data-field="time">{{.Time}}</dd></div>` +
			`<div class="fact"><dt>Date</dt><dd data-field="date">{{.Date}}</dd></div></dl>`,
		Render: func(r *island.Request) (any, error) {
			return clock{Time: r.Now().Format("3:04:05 PM"), Date: r.Now().Format("Monday, January 2, 2006")}, nil
		},
	})
	testIslands.Register(island.Island{
		Name:         "test-greeting",
		Fallback:     `<p class="greeting"><span class="skeleton w-12"></span></p>`,
		TemplateFile: "testdata/templates/greeting.html",
		Files:        templates,
		Render:       func(*island.Request) (any, error) { return struct{ Name string }{"Guest"}, nil },
	})
	testIslands.Register(island.Island{
		Name:     "test-props",
		Props:    []island.Prop{{Name: "id", Required: true}, {Name: "text"}},
		Template: `<p>{{.}}</p>`,
		Render:   func(r *island.Request) (any, error) { return r.Prop("id"), nil },
	})
	execErrorAt = line() + 1
	testIslands.Register(island.Island{Name: "test-exec-error", Template: "<p>\n{{.Missing}}</p>", Render: renderEmpty})
	testIslands.Register(island.Island{Name: "test-file-exec-error", TemplateFile: "testdata/templates/exec-error.html", Files: templates, Render: renderEmpty})

	parseErrorAt = line() + 1
	testIslands.Register(island.Island{Name: "test-parse-error", Template: "<p>\n\n{{if}}</p>", Render: renderEmpty})
	escapeErrorAt = line() + 1
	testIslands.Register(island.Island{Name: "test-escape-error", Template: "<p>\n{{if .}}<a href=\"{{end}}x</p>", Render: renderEmpty})
	testIslands.Register(island.Island{Name: "test-file-parse-error", TemplateFile: "testdata/templates/parse-error.html", Files: templates, Render: renderEmpty})
	testIslands.Register(island.Island{Name: "test-file-missing", TemplateFile: "testdata/templates/missing.html", Files: templates, Render: renderEmpty})
}

func renderEmpty(*island.Request) (any, error) { return struct{}{}, nil }

// line returns the line it is called from.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// newEngine provisions the named test islands, from a set holding only
// those.
func newEngine(names ...string) (*Engine, error) {
	keys, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		return nil, err
	}
	set := island.NewSet()
	for _, name := range names {
		i, err := testIslands.Lookup(name)
		if err != nil {
			return nil, err
		}
		set.Register(i) // keeps the place testIslands recorded
	}
	return New(Options{Timeout: time.Second, Log: zerolog.Nop(), Keys: keys, Islands: set,
		Now: func() time.Time { return time.Date(2026, 5, 7, 22, 14, 32, 0, time.UTC) }})
}

func engine(t *testing.T) *Engine {
	t.Helper()
	e, err := newEngine(serving...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs:\n got: %s\nwant: %s", name, got, want)
	}
}

func TestPlaceholder(t *testing.T) {
	e := engine(t)
	cases := []struct {
		name, golden string
		p            Placement
	}{
		{"the island's own fallback", "placeholder-default.html", Placement{Spec: Spec{Name: "test-greeting", Page: "/"}, ID: "island-test-greeting-1"}},
		{"a page's own fallback", "placeholder-fallback.html", Placement{Spec: Spec{Name: "test-greeting", Page: "/about"}, ID: "island-test-greeting-2", Fallback: `<p class="greeting">…</p>`}},
		{"visible, polled and refreshed by an event", "placeholder-refresh.html", Placement{Spec: Spec{Name: "test-clock", Page: "/", Every: 5 * time.Second, On: []string{"saved"}}, ID: "island-test-clock-1", Visible: true}},
		{"batched", "placeholder-batched.html", Placement{Spec: Spec{Name: "test-clock", Page: "/many"}, ID: "island-test-clock-3", Batched: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Placeholder(&tc.p)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, string(got)+"\n")
		})
	}
	_, err := e.Placeholder(&Placement{Spec: Spec{Name: "nobody-registered-this"}, ID: "x"})
	if err == nil || !strings.Contains(err.Error(), `"nobody-registered-this"`) || !strings.Contains(err.Error(), "test-clock") {
		t.Fatalf("unknown island error = %v, want one naming it and the registered islands", err)
	}
}

func TestPlaceholderRefusesAnEventNothingAnnounces(t *testing.T) {
	keys, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		events []string
		on     []string
		want   string // "" for no error
	}{
		{"no events known: nothing is checked", nil, []string{"saved"}, ""},
		{"an announced event", []string{"cart-updated", "saved"}, []string{"saved"}, ""},
		{"no refresh events at all", []string{}, nil, ""},
		{"an event nothing announces", []string{"cart-updated", "saved"}, []string{"saved", "savd"},
			`island "test-clock": (on "savd"): no action announces event "savd", so nothing would refresh the island (announced: cart-updated, saved)`},
		{"an event when nothing is announced", []string{}, []string{"saved"}, `(announced: none)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(Options{Timeout: time.Second, Log: zerolog.Nop(), Keys: keys, Islands: testIslandsNamed(t, "test-clock"), Events: tc.events})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Placeholder(&Placement{Spec: Spec{Name: "test-clock", Page: "/", On: tc.on}, ID: "island-test-clock-1"})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Placeholder: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Site.Events") {
				t.Fatalf("Placeholder error = %v, want one containing %q and naming Site.Events", err, tc.want)
			}
		})
	}
}

// testIslandsNamed is a set holding the named test islands.
func testIslandsNamed(t *testing.T, names ...string) *island.Set {
	t.Helper()
	set := island.NewSet()
	for _, name := range names {
		i, err := testIslands.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		set.Register(i)
	}
	return set
}

func TestRenderAndFailureFragments(t *testing.T) {
	e := engine(t)
	body, err := e.Render(context.Background(), &Spec{Name: "test-clock", Page: "/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), `<div class="island island--test-clock" data-island="test-clock">`) ||
		!strings.Contains(string(body), "10:14:32 PM") || !strings.Contains(string(body), "Thursday, May 7, 2026") {
		t.Fatalf("test-clock fragment = %s", body)
	}
	_, err = e.Render(context.Background(), &Spec{Name: "no-such"}, nil)
	var f *Failure
	if !errors.As(err, &f) || f.Status != 404 {
		t.Fatalf("unknown island: %v, want a 404 Failure", err)
	}
	golden(t, "failure-retry.html", string(e.FailureFragment(&Failure{Spec: &Spec{Name: "test-clock", Page: "/"}, Status: 500,
		Message: "This part of the page could not load.", Retry: true, Cause: errors.New("secret detail")}))+"\n")
	golden(t, "failure-unknown.html", string(e.FailureFragment(&Failure{Status: 404, Message: "This island does not exist."}))+"\n")
}

func TestRefreshingFragmentCarriesItsOwnRequestButNoLoad(t *testing.T) {
	e := engine(t)
	body, err := e.Render(context.Background(), &Spec{Name: "test-clock", Page: "/", Every: 3 * time.Second, On: []string{"tick"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	open := string(body[:bytes.IndexByte(body, '>')+1])
	golden(t, "fragment-refresh-open.html", open+"\n")
}

func TestPropsTravelSealedAndLongOnesByPost(t *testing.T) {
	e := engine(t)
	short := &Spec{Name: "test-props", Page: "/", Props: map[string]string{"id": "A-1"}}
	attrs := e.requestAttrs(short)
	if !strings.HasPrefix(attrs, `hx-get="/_islands/test-props?page=%2F&amp;p=`) || strings.Contains(attrs, "A-1") {
		t.Fatalf("short props: %s", attrs)
	}
	long := &Spec{Name: "test-props", Page: "/", Props: map[string]string{"id": "1", "text": strings.Repeat("x", 3000)}}
	attrs = e.requestAttrs(long)
	if !strings.HasPrefix(attrs, `hx-post="/_islands/test-props?page=%2F" hx-vals="{&#34;p&#34;:&#34;`) {
		t.Fatalf("long props: %.120s", attrs)
	}
	if none := e.requestAttrs(&Spec{Name: "test-clock", Page: "/"}); none != `hx-get="/_islands/test-clock?page=%2F"` {
		t.Fatalf("no props: %s", none)
	}
}

func TestSamePath(t *testing.T) {
	cases := map[string]string{
		"/about":                 "/about",
		"/blog/../about":         "/about",
		"/about?x=1#top":         "/about",
		"":                       "/",
		"about":                  "/",
		"//evil.example/x":       "/",
		"https://evil.example/x": "/",
		"/\\evil.example":        "/",
		"javascript:alert(1)":    "/",
		"/a\nb":                  "/",
	}
	for in, want := range cases {
		if got := SamePath(in); got != want {
			t.Errorf("SamePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCacheControlDeclarations(t *testing.T) {
	cases := []struct {
		name    string
		island  island.Island
		want    string
		wantErr string
	}{
		{"no declaration is no-store", island.Island{Name: "a"}, "no-store", ""},
		{"a private lifetime is kept", island.Island{Name: "a", CacheControl: "private, max-age=60", Cookies: []string{"s"}}, "private, max-age=60", ""},
		{"a public lifetime without cookies is kept", island.Island{Name: "a", CacheControl: "public, max-age=60"}, "public, max-age=60", ""},
		{"a public lifetime with cookies stops startup", island.Island{Name: "a", CacheControl: "public, max-age=60", Cookies: []string{"s"}}, "", "reads cookies"},
		{"anything else stops startup", island.Island{Name: "a", CacheControl: "max-age=60, public"}, "", "want empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cacheControl(tc.island)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `"a"`) {
					t.Fatalf("err = %v, want one naming the island and %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestTemplateErrorsNameIslandFileAndLine wants every template error, at
// startup and at request time, to say which island, which file and which
// line: the template file's path in the repository, or for an inline
// template the Register call's file and line and the template's own line.
func TestTemplateErrorsNameIslandFileAndLine(t *testing.T) {
	here := func(line int) string { return "internal/islands/islands_test.go:" + strconv.Itoa(line) }
	startup := []struct {
		name, island string
		want         []string
	}{
		{"an inline template that does not parse", "test-parse-error",
			[]string{`island "test-parse-error": ` + here(parseErrorAt) + `: template line 3: missing value for if`}},
		{"an inline template that cannot be escaped", "test-escape-error",
			[]string{`island "test-escape-error": ` + here(escapeErrorAt) + `: template line 2: `, "branches end in different contexts"}},
		{"a template file that does not parse", "test-file-parse-error",
			[]string{`island "test-file-parse-error": internal/islands/testdata/templates/parse-error.html:4: bad character U+007D '}'`}},
		{"a template file that is missing", "test-file-missing",
			[]string{`island "test-file-missing": internal/islands/testdata/templates/missing.html: `, "file does not exist"}},
	}
	for _, tc := range startup {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newEngine("test-clock", tc.island)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not hold %q", err, w)
				}
			}
		})
	}

	e := engine(t)
	request := []struct {
		name, island, want string
	}{
		{"an inline template that fails to execute", "test-exec-error",
			`island "test-exec-error": ` + here(execErrorAt) + `: template line 2: at <.Missing>: can't evaluate field Missing in type struct {}`},
		{"a template file that fails to execute", "test-file-exec-error",
			`island "test-file-exec-error": internal/islands/testdata/templates/exec-error.html:3: at <.Missing>: can't evaluate field Missing in type struct {}`},
	}
	for _, tc := range request {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Render(context.Background(), &Spec{Name: tc.island, Page: "/"}, nil)
			var f *Failure
			if !errors.As(err, &f) || f.Status != 500 || f.Outcome != OutcomeError {
				t.Fatalf("err = %#v, want a 500 Failure", err)
			}
			if err.Error() != tc.want {
				t.Fatalf("error %q\n    want %q", err, tc.want)
			}
		})
	}
}

func TestATemplateFileRenders(t *testing.T) {
	body, err := engine(t).Render(context.Background(), &Spec{Name: "test-greeting", Page: "/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `<div class="island island--test-greeting" data-island="test-greeting"><p class="greeting">Hello, <span data-field="name">Guest</span>!</p></div>`
	if string(body) != want {
		t.Fatalf("fragment = %q, want %q", body, want)
	}
}

// TestPropsMustMatchTheDeclaration places and requests islands with
// props that do and do not match what the island declares.
func TestPropsMustMatchTheDeclaration(t *testing.T) {
	e := engine(t)
	cases := []struct {
		name   string
		island string
		props  map[string]string
		want   string // "" when the props are fine
	}{
		{"the required prop", "test-props", map[string]string{"id": "7"}, ""},
		{"the required and the optional prop", "test-props", map[string]string{"id": "7", "text": "x"}, ""},
		{"no props for an island that takes none", "test-clock", nil, ""},
		{"no props for an island that requires one", "test-props", nil, `island "test-props": missing required prop "id"`},
		{"only the optional prop", "test-props", map[string]string{"text": "x"}, `island "test-props": missing required prop "id"`},
		{"an undeclared prop", "test-props", map[string]string{"id": "7", "colour": "red"}, `island "test-props": prop "colour" is not declared: the island takes id, text`},
		{"a prop for an island that takes none", "test-clock", map[string]string{"n": "1"}, `island "test-clock": prop "n" is not declared: the island takes no props`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, perr := e.Placeholder(&Placement{Spec: Spec{Name: tc.island, Page: "/", Props: tc.props}, ID: "x"})
			_, rerr := e.Render(context.Background(), &Spec{Name: tc.island, Page: "/", Props: tc.props}, nil)
			if tc.want == "" {
				if perr != nil || rerr != nil {
					t.Fatalf("placement: %v; request: %v; want both fine", perr, rerr)
				}
				return
			}
			if perr == nil || perr.Error() != tc.want {
				t.Errorf("placement error = %v, want %q", perr, tc.want)
			}
			var f *Failure
			if !errors.As(rerr, &f) || f.Status != 400 || f.Outcome != OutcomeBadProps || f.Retry || rerr.Error() != tc.want {
				t.Errorf("request error = %#v (%v), want a 400 bad_props Failure without Retry saying %q", rerr, rerr, tc.want)
			}
		})
	}
}
