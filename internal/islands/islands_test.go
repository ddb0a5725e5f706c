package islands

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func engine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(Options{Timeout: time.Second, Log: zerolog.Nop(),
		Now: func() time.Time { return time.Date(2026, 5, 7, 22, 14, 32, 0, time.UTC) }})
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
		{"the island's own fallback", "placeholder-default.html", Placement{Name: "user-greeting", ID: "island-user-greeting-1"}},
		{"a page's own fallback", "placeholder-fallback.html", Placement{Name: "user-greeting", ID: "island-user-greeting-2", Fallback: `<p class="greeting">…</p>`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Placeholder(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, string(got)+"\n")
		})
	}
	_, err := e.Placeholder(Placement{Name: "nobody-registered-this", ID: "x"})
	if err == nil || !strings.Contains(err.Error(), `"nobody-registered-this"`) || !strings.Contains(err.Error(), "server-info") {
		t.Fatalf("unknown island error = %v, want one naming it and the registered islands", err)
	}
}

func TestRenderAndFailureFragments(t *testing.T) {
	e := engine(t)
	body, err := e.Render(context.Background(), "server-info", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), `<div class="island island--server-info" data-island="server-info">`) ||
		!strings.Contains(string(body), "10:14:32 PM") || !strings.Contains(string(body), "Thursday, May 7, 2026") {
		t.Fatalf("server-info fragment = %s", body)
	}
	_, err = e.Render(context.Background(), "no-such", nil)
	var f *Failure
	if !errors.As(err, &f) || f.Status != 404 {
		t.Fatalf("unknown island: %v, want a 404 Failure", err)
	}
	golden(t, "failure-retry.html", string(FailureFragment(&Failure{Island: "server-info", Status: 500,
		Message: "This part of the page could not load.", Retry: true, Cause: errors.New("secret detail")}))+"\n")
	golden(t, "failure-unknown.html", string(FailureFragment(&Failure{Status: 404, Message: "This island does not exist."}))+"\n")
}
