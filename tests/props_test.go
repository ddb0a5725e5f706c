package tests

import (
	"github.com/atollhq/atoll"

	"embed"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/island"
)

//go:embed testdata/island-exec-error.html
var testTemplates embed.FS

// execErrorAt is the line of the Register call of test-exec-error.
var execErrorAt int

// Test islands whose templates fail to execute, one inline and one from
// a file, but only when the "fail" prop is passed: without it they render,
// as TestEveryRegisteredIslandRenders wants of every island.
func init() {
	render := func(r *island.Request) (any, error) { return struct{ Fail string }{r.Prop("fail")}, nil }
	execErrorAt = callerLine() + 1
	testIslands.Register(island.Island{
		Name:     "test-exec-error",
		Fallback: `<p class="line"></p>`,
		Template: "<p class=\"line\">\n{{if .Fail}}{{.Fail.Missing}}{{else}}fine{{end}}</p>",
		Props:    []island.Prop{{Name: "fail"}},
		Render:   render,
	})
	testIslands.Register(island.Island{
		Name:         "test-file-exec-error",
		Fallback:     `<p class="line"></p>`,
		TemplateFile: "testdata/island-exec-error.html",
		Files:        testTemplates,
		Props:        []island.Prop{{Name: "fail"}},
		Render:       render,
	})
}

// callerLine returns the line it is called from.
func callerLine() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

// TestARequestWithoutItsPropsIsABadLink requests islands with props that
// do not match their declaration, as a hand-made or stale link would:
// each is a 400 with the island's error state, logged as a warning that
// says which prop, never a 500.
func TestARequestWithoutItsPropsIsABadLink(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	cases := []struct {
		name, path, island, log string
	}{
		{"no p at all", "/_islands/latency?page=%2F", "latency", `missing required prop \"ms\"`},
		{"an empty p", "/_islands/latency?page=%2F&p=", "latency", `missing required prop \"ms\"`},
		{"sealed props without the required one", site.IslandURL(t, "latency", map[string]string{"n": "1"}), "latency", `missing required prop \"ms\"`},
		{"sealed props with one not declared", site.IslandURL(t, "latency", map[string]string{"ms": "1", "colour": "red"}), "latency", `prop \"colour\" is not declared`},
		{"sealed props for an island that takes none", site.IslandURL(t, "user-greeting", map[string]string{"n": "1"}), "user-greeting", `the island takes no props`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := site.Get(t, tc.path, "HX-Request", "true")
			atolltest.ExpectIsland(t, r, http.StatusBadRequest)
			for _, want := range []string{`role="alert"`, "invalid link", `data-island="` + tc.island + `"`} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("body lacks %q: %q", want, r.Body)
				}
			}
			for _, bad := range []string{`class="retry"`, "prop", "colour"} {
				if strings.Contains(r.Body, bad) {
					t.Errorf("body holds %q: %q", bad, r.Body)
				}
			}
			line := logLine(t, site, r.Header.Get("X-Request-ID"))
			for _, want := range []string{`"level":"warn"`, `"status":400`, `"outcome":"bad_props"`, `"island":"` + tc.island + `"`, tc.log} {
				if !strings.Contains(line, want) {
					t.Errorf("log line lacks %s: %s", want, line)
				}
			}
		})
	}
	if r := site.IslandWith(t, "latency", map[string]string{"ms": "0", "n": "3"}); r.Status != http.StatusOK {
		t.Fatalf("with its props the island answers %d", r.Status)
	}
}

// TestABatchedIslandWithoutItsPropsFailsAlone sends a batch list holding
// one island without its required prop and one with everything it needs:
// the first gets its error state, logged as a warning, the second arrives.
func TestABatchedIslandWithoutItsPropsFailsAlone(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	list := map[string]any{"g": "/many", "s": []map[string]any{
		{"n": "latency", "i": "island-latency-1", "p": map[string]string{"n": "1"}},
		{"n": "latency", "i": "island-latency-2", "p": map[string]string{"n": "2", "ms": "0"}},
	}}
	r := site.Get(t, "/_islands?b="+sealWith(t, site.Config.Keys[0], "batch", list))
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200 for the stream", r.Status)
	}
	messages := map[string]string{} // by placement id
	for _, m := range strings.Split(r.Body, "\n\n") {
		for _, id := range []string{"island-latency-1", "island-latency-2"} {
			if strings.Contains(m, `hx-target="#`+id+`"`) {
				messages[id] = m
			}
		}
	}
	if m := messages["island-latency-1"]; !strings.Contains(m, `role="alert"`) || !strings.Contains(m, "invalid link") {
		t.Errorf("the island without its prop: %q, want its error state", m)
	}
	if m := messages["island-latency-2"]; !strings.Contains(m, `<strong data-field="n">#2</strong>`) || strings.Contains(m, `role="alert"`) {
		t.Errorf("the island with its props: %q, want it rendered", m)
	}
	var warned bool
	for _, l := range strings.Split(site.Logs.String(), "\n") {
		if strings.Contains(l, `"message":"batch island"`) && strings.Contains(l, `"outcome":"bad_props"`) {
			warned = strings.Contains(l, `"level":"warn"`) && strings.Contains(l, `missing required prop \"ms\"`)
		}
	}
	if !warned {
		t.Fatalf("no warning for the batched island without its prop:\n%s", site.Logs.String())
	}
}

// TestTemplateExecErrorsNameIslandFileAndLine makes the test islands'
// templates fail at request time: the visitor gets the error state, the
// log says which island, which file and which line.
func TestTemplateExecErrorsNameIslandFileAndLine(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, testSite())
	cases := []struct{ island, want string }{
		{"test-exec-error", `island \"test-exec-error\": props_test.go:` + strconv.Itoa(execErrorAt) +
			`: template line 2: at <.Fail.Missing>: can't evaluate field Missing in type string`},
		{"test-file-exec-error", `island \"test-file-exec-error\": testdata/island-exec-error.html:4: at <.Fail.Missing>: can't evaluate field Missing in type string`},
	}
	for _, tc := range cases {
		t.Run(tc.island, func(t *testing.T) {
			if r := site.IslandWith(t, tc.island, map[string]string{}); r.Status != http.StatusOK || !strings.Contains(r.Body, "fine") {
				t.Fatalf("without the fail prop: %d %q", r.Status, r.Body)
			}
			r := site.IslandWith(t, tc.island, map[string]string{"fail": "yes"})
			atolltest.ExpectIsland(t, r, http.StatusInternalServerError)
			if !strings.Contains(r.Body, `role="alert"`) || strings.Contains(r.Body, "evaluate") || strings.Contains(r.Body, ".go") || strings.Contains(r.Body, ".html") {
				t.Errorf("body %q, want the error state and nothing of the error", r.Body)
			}
			line := logLine(t, site, r.Header.Get("X-Request-ID"))
			for _, want := range []string{`"level":"error"`, `"outcome":"error"`, tc.want} {
				if !strings.Contains(line, want) {
					t.Errorf("log line lacks %s:\n%s", want, line)
				}
			}
		})
	}
}
