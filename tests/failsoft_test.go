package tests

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
)

// A method the server does not route is refused with 501, and logged and
// counted like every other refusal.
func TestUnknownMethodsAreRefusedLoggedAndCounted(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" }))
	for _, m := range []string{"PROPFIND", "FOO"} {
		r := site.Do(t, m, "/", nil)
		if r.Status != http.StatusNotImplemented {
			t.Errorf("%s /: %d, want 501", m, r.Status)
		}
	}
	if n := strings.Count(site.Logs.String(), `"status":501`); n != 2 {
		t.Errorf("%d log lines for two unknown methods, want 2:\n%s", n, site.Logs.String())
	}
	res, err := site.Client().Get(site.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), `atoll_http_refused_total{status_code="501"} 2`) {
		t.Errorf("the metrics do not count the two unknown methods:\n%s", b)
	}
}

// A SQLite file removed or replaced under the running server fails its
// readiness, with one error line: what it wrote from then on would be
// lost.
func TestARemovedOrReplacedDatabaseFileFailsReadiness(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		do   func(path string) error
		want string
	}{
		{"removed", os.Remove, "was removed"},
		{"replaced", func(path string) error {
			other := filepath.Join(filepath.Dir(path), "other.db")
			if err := os.WriteFile(other, nil, 0o644); err != nil {
				return err
			}
			return os.Rename(other, path)
		}, "was replaced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := atolltest.Start(t, atoll.Demo())
			if r := site.Get(t, "/readyz"); r.Status != 200 {
				t.Fatalf("/readyz before: %d %s", r.Status, r.Body)
			}
			if err := tc.do(site.Config.DB); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if r := site.Get(t, "/readyz"); r.Status != 503 || !strings.Contains(r.Body, tc.want) {
					t.Fatalf("/readyz after the file %s: %d %s", tc.name, r.Status, r.Body)
				}
			}
			if n := strings.Count(site.Logs.String(), `"level":"error"`); n != 1 || !strings.Contains(site.Logs.String(), tc.want) {
				t.Fatalf("%d error lines, want one saying the file %s:\n%s", n, tc.want, site.Logs.String())
			}
			if r := site.Get(t, "/about"); r.Status != 200 {
				t.Fatalf("pages still serve: /about %d", r.Status)
			}
		})
	}
}
