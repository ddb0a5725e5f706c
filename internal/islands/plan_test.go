package islands

import (
	"bytes"
	"context"
	"html/template"
	"strings"
	"testing"
)

type planData struct {
	A, B string
	H    template.HTML
	N    int
}

func (planData) M() string { return "method" }

// TestPlanWritesWhatHTMLTemplateWrites renders templates both ways, with
// strings full of what html/template escapes, and wants the same bytes
// wherever a plan is made, and no plan where the template does more than
// print string fields into HTML text.
func TestPlanWritesWhatHTMLTemplateWrites(t *testing.T) {
	nasty := []string{"", "plain", `<script>alert("x")</script>`, `a & b + 'c' > d`, "nul\x00byte", "bad \xff\xfe utf-8 é ☃",
		"&amp; already", strings.Repeat("<", 100)}
	cases := []struct {
		name     string
		tmpl     string
		wantPlan bool
	}{
		{"fields in text get a plan", `<p class="x">{{.A}}</p><b>{{.B}}</b>`, true},
		{"a template without actions gets a plan", `<p>static</p>`, true},
		{"a field in an attribute gets none", `<p title="{{.A}}">{{.B}}</p>`, false},
		{"a field in a URL gets none", `<a href="/x?q={{.A}}">x</a>`, false},
		{"template.HTML gets none", `<p>{{.H}}</p>`, false},
		{"an int gets none", `<p>{{.N}}</p>`, false},
		{"a method gets none", `<p>{{.M}}</p>`, false},
		{"a pipeline gets none", `<p>{{.A | printf "%s!"}}</p>`, false},
		{"an if gets none", `<p>{{if .A}}{{.A}}{{end}}</p>`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := template.Must(template.New("t").Parse(tc.tmpl))
			var p *plan
			for _, a := range nasty {
				for _, b := range nasty {
					data := planData{A: a, B: b, H: template.HTML(a), N: 7}
					var want bytes.Buffer
					if err := tmpl.Execute(&want, data); err != nil {
						t.Fatal(err)
					}
					if p == nil {
						p = planFor(tmpl, data)
						if p.fits(data) != tc.wantPlan {
							t.Fatalf("plan made: %v, want %v", p.fits(data), tc.wantPlan)
						}
					}
					if !p.fits(data) {
						continue
					}
					var got bytes.Buffer
					p.execute(&got, data)
					if got.String() != want.String() {
						t.Fatalf("A=%q B=%q:\nplan          %q\nhtml/template %q", a, b, got.String(), want.String())
					}
				}
			}
			if p.fits(struct{ A, B string }{}) {
				t.Fatal("a plan fits data of another type")
			}
		})
	}
}

// TestAPlainIslandRendersThroughItsPlan checks that an island whose
// template prints string fields into HTML text, as the island the load
// benchmark measures does, takes the fast path from its second render on.
func TestAPlainIslandRendersThroughItsPlan(t *testing.T) {
	e := engine(t)
	for range 2 {
		if _, err := e.Render(context.Background(), &Spec{Name: "test-clock", Page: "/"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if p := e.islands["test-clock"].plan.Load(); p == nil || p.typ == nil {
		t.Fatal("test-clock has no plan")
	}
}
