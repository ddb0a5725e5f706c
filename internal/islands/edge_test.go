package islands

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestStitchCutsThePageAtItsHoles(t *testing.T) {
	t.Parallel()
	e := engine(t)
	clock := &Placement{Spec: Spec{Name: "test-clock", Page: "/p"}, ID: "island-test-clock-1"}
	props := &Placement{Spec: Spec{Name: "test-props", Page: "/p", Props: map[string]string{"id": "7"}}, ID: "island-test-props-1"}
	holes := []Hole{{P: clock, Mark: "<!--atoll:hole:1-->"}, {P: props, Mark: "<!--atoll:hole:2-->"}}
	page := []byte(`<p>a <!--# include virtual="/secret" --></p><!--atoll:hole:1--><p>b</p><!--atoll:hole:2--><p>c</p>`)

	st, err := e.NewStitch(page, holes, true)
	if err != nil {
		t.Fatal(err)
	}
	shell, err := st.Shell()
	if err != nil {
		t.Fatal(err)
	}
	ssi := string(shell)
	if strings.Count(ssi, "<!--#") != 2*3 {
		t.Fatalf("want a block, its end and an include per island and nothing else for SSI; got:\n%s", ssi)
	}
	for _, want := range []string{
		`<!--&#35; include virtual="/secret" -->`,
		`<!--# block name="atoll1" --><div class="island island--test-clock island--error" data-island="test-clock" role="alert">`,
		`<!--# endblock --><!--# include virtual="/_edge/_islands/test-clock?page=%2Fp" stub="atoll1" -->`,
		`<!--# include virtual="/_edge/_islands/test-props?page=%2Fp&p=`,
		`stub="atoll2" --><p>c</p>`,
	} {
		if !strings.Contains(ssi, want) {
			t.Errorf("the shell lacks %q:\n%s", want, ssi)
		}
	}
	if !strings.HasPrefix(st.ETag, `"`) || st.Holes() != 2 {
		t.Errorf("ETag %s, %d holes", st.ETag, st.Holes())
	}

	var out bytes.Buffer
	if e.Fill(context.Background(), st, nil, &out, func() error { return nil }) == nil {
		t.Fatal("a page kept for an edge was filled")
	}
	if st, err = e.NewStitch(page, holes, false); err != nil || st.HasShell() {
		t.Fatalf("a page for the server to fill: %v, with a shell", err)
	}
	flushes := 0
	if err := e.Fill(context.Background(), st, nil, &out, func() error { flushes++; return nil }); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	clockAt, propsAt := strings.Index(got, `data-island="test-clock"`), strings.Index(got, `<p>7</p>`)
	if clockAt < 0 || propsAt < clockAt || !strings.HasSuffix(got, "<p>c</p>") || strings.Contains(got, "<!--atoll") || flushes != 3 {
		t.Fatalf("filled page (%d flushes):\n%s", flushes, got)
	}

	if _, err := e.NewStitch([]byte("<p>no marks</p>"), holes, false); err == nil {
		t.Error("a page without its marks was cut")
	}
	twice := []byte("<!--atoll:hole:1--><!--atoll:hole:1--><!--atoll:hole:2-->")
	if _, err := e.NewStitch(twice, holes, false); err == nil {
		t.Error("a page with a mark twice was cut")
	}
}
