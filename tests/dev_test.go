package tests

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
)

// devCopy copies the site's files into a temporary directory, for dev
// mode tests that edit them.
func devCopy(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for path, f := range siteFiles(t) {
		dst := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var inlineStyle = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// TestDevModeServesEditsAtOnce edits the copy a dev server reads: a CSS
// edit is in the next page, inlined, and allowed by the next response's
// policy (the same policy, with the new hash); the stylesheet's own URL is
// never cached; a template error shows in the browser naming the file and
// line.
func TestDevModeServesEditsAtOnce(t *testing.T) {
	t.Parallel()
	root := devCopy(t)
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.Dev = true; c.Root = root }))
	css := filepath.Join(root, "public/css/site.css")
	b, err := os.ReadFile(css)
	if err != nil {
		t.Fatal(err)
	}
	edited := string(b) + "\n.dev-edit-marker { color: rebeccapurple; }\n"
	if err := os.WriteFile(css, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r := site.Get(t, "/about")
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("dev page: %d, Cache-Control %q", r.Status, r.Header.Get("Cache-Control"))
	}
	m := inlineStyle.FindStringSubmatch(r.Body)
	if m == nil || !strings.Contains(m[1], "dev-edit-marker") {
		t.Fatal("the CSS edit is not in the next page")
	}
	sum := sha256.Sum256([]byte(m[1]))
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("the policy does not allow the edited stylesheet by its hash: %s", csp)
	}
	u, err := site.Server.AssetURL("css/site.css")
	if err != nil {
		t.Fatal(err)
	}
	if a := site.Get(t, u); a.Status != 200 || a.Header.Get("Cache-Control") != "no-store" || !strings.Contains(a.Body, "dev-edit-marker") {
		t.Fatalf("the stylesheet in dev: %d, Cache-Control %q", a.Status, a.Header.Get("Cache-Control"))
	}

	about := filepath.Join(root, "pages/about.html")
	page, err := os.ReadFile(about)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(about, []byte(string(page)+"\n{{ .NoSuchField.Deeper }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = site.Get(t, "/about")
	if r.Status != 500 || !strings.Contains(r.Body, "data-dev-error") || !regexp.MustCompile(`pages/about\.html:\d+`).MatchString(r.Body) {
		t.Fatalf("a template error in dev mode: %d %s, want 500 naming pages/about.html and its line", r.Status, r.Body)
	}
}
