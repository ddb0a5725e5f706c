package devloop

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestClassify(t *testing.T) {
	root := t.TempDir()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	d := &Dev{root: root, Out: io.Discard}
	cases := []struct {
		name string
		op   fsnotify.Op
		want change
	}{
		{"fragments/greeting.go", fsnotify.Write, changeGo},
		{"go.mod", fsnotify.Write, changeGo},
		{"go.sum", fsnotify.Create, changeGo},
		{"client/atoll.js", fsnotify.Write, changeGo}, // Atoll's own client is embedded Go-side
		{"fragments/greeting_test.go", fsnotify.Write, changeNone},
		{"fragments/greeting.go", fsnotify.Chmod, changeNone},
		{"fragments/.greeting.go.swp", fsnotify.Write, changeNone},
		{"fragments/greeting.go~", fsnotify.Write, changeNone},
		{"pages/index.html", fsnotify.Write, changeReload}, // the dev server reads templates from disk: no build
		{"fragments/cart.html", fsnotify.Write, changeReload},
		{"layouts/main.html", fsnotify.Create, changeReload},
		{"public/css/site.css", fsnotify.Write, changeStyle}, // swapped in place
		{"public/css/site.css", fsnotify.Remove, changeReload},
		{"public/js/app.js", fsnotify.Write, changeReload},
	}
	for _, tc := range cases {
		ev := fsnotify.Event{Name: filepath.Join(root, filepath.FromSlash(tc.name)), Op: tc.op}
		if got := d.classify(w, ev); got != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.op, tc.name, got, tc.want)
		}
	}
}

func TestServerEnv(t *testing.T) {
	t.Parallel()
	d := &Dev{root: "/site", Out: io.Discard, Env: []string{"PATH=/bin", "ATOLL_DEV=0", "ATOLL_ROOT=/elsewhere"}}
	env := d.serverEnv()
	for key, want := range map[string]string{"PATH": "/bin", "ATOLL_DEV": "1", "ATOLL_ROOT": "/site", "ATOLL_LOG_LEVEL": "warn"} {
		if got, _ := lookupEnv(env, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	n := 0
	for _, kv := range env {
		if strings.HasPrefix(kv, "ATOLL_DEV=") || strings.HasPrefix(kv, "ATOLL_ROOT=") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("ATOLL_DEV and ATOLL_ROOT are set %d times in all, want once each: %q", n, env)
	}

	cases := []struct {
		name    string
		env     []string
		wantKey string // "made" for a key made for the session
	}{
		{"SQLite without a key: the server keeps one", []string{"ATOLL_DB=data/x.db"}, ""},
		{"the default database without a key", nil, ""},
		{"PostgreSQL without a key", []string{"ATOLL_DB=postgres://u@h/db", "ATOLL_KEYS="}, "made"},
		{"PostgreSQL with a key", []string{"ATOLL_DB=postgresql://u@h/db", "ATOLL_KEYS=mine"}, "mine"},
		{"SQLite with a key", []string{"ATOLL_KEYS=mine"}, "mine"},
	}
	for _, tc := range cases {
		d := &Dev{root: "/site", Out: io.Discard, Env: tc.env}
		got, _ := lookupEnv(d.serverEnv(), "ATOLL_KEYS")
		switch {
		case tc.wantKey == "made" && len(got) < 40,
			tc.wantKey != "made" && got != tc.wantKey:
			t.Errorf("%s: ATOLL_KEYS = %q, want %q", tc.name, got, tc.wantKey)
		}
	}
}

func TestRunRefusesADirectoryWithoutAModule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Dev{Addr: "127.0.0.1:0", Root: dir, Out: io.Discard, Err: io.Discard}
	err := d.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "is not a module's root") {
		t.Fatalf("Run = %v, want it refused", err)
	}
}

func TestLinkTime(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "trace.json")
	trace := `[{"name":"Executing action (build example.com/x)","ph":"B","ts":1000,"tid":1},
{"name":"Executing action (build example.com/x)","ph":"E","ts":2000,"tid":1},
{"name":"Executing action (link example.com/x)","ph":"B","ts":2000.5,"tid":1},
{"name":"Executing action (link example.com/x)","ph":"E","ts":1502000.5,"tid":1}]`
	if err := os.WriteFile(file, []byte(trace), 0o644); err != nil {
		t.Fatal(err)
	}
	if link, ok := linkTime(file); !ok || link != 1500*time.Millisecond {
		t.Errorf("linkTime = %s, %v; want 1.5s", link, ok)
	}
	if _, ok := linkTime(filepath.Join(t.TempDir(), "none.json")); ok {
		t.Error("linkTime found a link in a file that does not exist")
	}
}

// TestBuildFlagsLeaveOutPostgreSQLUnlessTheSiteUsesIt: a dev build carries
// the PostgreSQL driver only when ATOLL_DB names PostgreSQL.
func TestBuildFlagsLeaveOutPostgreSQLUnlessTheSiteUsesIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  []string
		tags string
	}{
		{nil, "atolldev,atollnopostgres"},
		{[]string{"ATOLL_DB=data/x.db"}, "atolldev,atollnopostgres"},
		{[]string{"ATOLL_DB=postgres://u@h/db"}, "atolldev"},
		{[]string{"ATOLL_DB=postgresql://u@h/db"}, "atolldev"},
	} {
		flags := (&Dev{Env: tc.env}).buildFlags()
		if i := slices.Index(flags, "-tags"); i < 0 || i+1 >= len(flags) || flags[i+1] != tc.tags {
			t.Errorf("ATOLL_DB from %q: build flags %q, want -tags %s", tc.env, flags, tc.tags)
		}
	}
}

// TestDevBuildsLeaveOutWhatOnlyProductionNeeds: the demo's server, built
// with a dev build's flags, links neither the PostgreSQL driver nor the
// Prometheus client (with protobuf): each is link time of every Go edit.
func TestDevBuildsLeaveOutWhatOnlyProductionNeeds(t *testing.T) {
	t.Parallel()
	flags := (&Dev{}).buildFlags()
	list := exec.Command("go", append(append([]string{"list", "-deps"}, flags...), "github.com/atollhq/atoll/cmd/server")...)
	list.Dir = filepath.Join("..", "..")
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "modernc.org/sqlite") || !slices.Contains(deps, "github.com/atollhq/atoll/server") {
		t.Fatalf("go list -deps lists no SQLite driver or no server: %q", deps)
	}
	for _, dep := range deps {
		for _, left := range []string{"github.com/jackc/pgx", "github.com/prometheus/", "google.golang.org/protobuf"} {
			if strings.HasPrefix(dep, left) {
				t.Errorf("a dev build of the demo links %s", dep)
			}
		}
	}
}
