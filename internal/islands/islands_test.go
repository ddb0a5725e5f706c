package islands

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/internal/seal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func engine(t *testing.T) *Engine {
	t.Helper()
	keys, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Timeout: time.Second, Log: zerolog.Nop(), Keys: keys,
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
		{"the island's own fallback", "placeholder-default.html", Placement{Spec: Spec{Name: "user-greeting", Page: "/"}, ID: "island-user-greeting-1"}},
		{"a page's own fallback", "placeholder-fallback.html", Placement{Spec: Spec{Name: "user-greeting", Page: "/about"}, ID: "island-user-greeting-2", Fallback: `<p class="greeting">…</p>`}},
		{"visible, polled and refreshed by an event", "placeholder-refresh.html", Placement{Spec: Spec{Name: "server-info", Page: "/", Every: 5 * time.Second, On: []string{"cart-updated"}}, ID: "island-server-info-1", Visible: true}},
		{"batched", "placeholder-batched.html", Placement{Spec: Spec{Name: "server-info", Page: "/many"}, ID: "island-server-info-3", Batched: true}},
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
	if err == nil || !strings.Contains(err.Error(), `"nobody-registered-this"`) || !strings.Contains(err.Error(), "server-info") {
		t.Fatalf("unknown island error = %v, want one naming it and the registered islands", err)
	}
}

func TestRenderAndFailureFragments(t *testing.T) {
	e := engine(t)
	body, err := e.Render(context.Background(), &Spec{Name: "server-info", Page: "/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), `<div class="island island--server-info" data-island="server-info">`) ||
		!strings.Contains(string(body), "10:14:32 PM") || !strings.Contains(string(body), "Thursday, May 7, 2026") {
		t.Fatalf("server-info fragment = %s", body)
	}
	_, err = e.Render(context.Background(), &Spec{Name: "no-such"}, nil)
	var f *Failure
	if !errors.As(err, &f) || f.Status != 404 {
		t.Fatalf("unknown island: %v, want a 404 Failure", err)
	}
	golden(t, "failure-retry.html", string(e.FailureFragment(&Failure{Spec: &Spec{Name: "server-info", Page: "/"}, Status: 500,
		Message: "This part of the page could not load.", Retry: true, Cause: errors.New("secret detail")}))+"\n")
	golden(t, "failure-unknown.html", string(e.FailureFragment(&Failure{Status: 404, Message: "This island does not exist."}))+"\n")
}

func TestRefreshingFragmentCarriesItsOwnRequestButNoLoad(t *testing.T) {
	e := engine(t)
	body, err := e.Render(context.Background(), &Spec{Name: "server-info", Page: "/", Every: 3 * time.Second, On: []string{"tick"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	open := string(body[:bytes.IndexByte(body, '>')+1])
	golden(t, "fragment-refresh-open.html", open+"\n")
}

func TestPropsTravelSealedAndLongOnesByPost(t *testing.T) {
	e := engine(t)
	short := &Spec{Name: "server-info", Page: "/", Props: map[string]string{"sku": "A-1"}}
	attrs := e.requestAttrs(short)
	if !strings.HasPrefix(attrs, `hx-get="/_islands/server-info?page=%2F&amp;p=`) || strings.Contains(attrs, "A-1") {
		t.Fatalf("short props: %s", attrs)
	}
	long := &Spec{Name: "server-info", Page: "/", Props: map[string]string{"text": strings.Repeat("x", 3000)}}
	attrs = e.requestAttrs(long)
	if !strings.HasPrefix(attrs, `hx-post="/_islands/server-info?page=%2F" hx-vals="{&#34;p&#34;:&#34;`) {
		t.Fatalf("long props: %.120s", attrs)
	}
	if none := e.requestAttrs(&Spec{Name: "server-info", Page: "/"}); none != `hx-get="/_islands/server-info?page=%2F"` {
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
