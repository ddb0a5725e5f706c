package nginxconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atollhq/atoll/internal/islands"
	"github.com/atollhq/atoll/server"
)

func TestWriteHoldsWhatARollingRestartNeeds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	err := Write(&b, Config{Listen: "127.0.0.1:8080", Upstreams: []string{"127.0.0.1:9001", "10.0.0.2:9002"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"listen 127.0.0.1:8080;",
		"server 127.0.0.1:9001 max_fails=1 fail_timeout=2s;",
		"server 10.0.0.2:9002 max_fails=1 fail_timeout=2s;",
		"server 127.0.0.1:9001 backup max_fails=0;",
		"server 10.0.0.2:9002 backup max_fails=0;",
		"keepalive_timeout 4s;",
		"proxy_next_upstream error timeout http_502;",
		"proxy_buffering on;",
		"proxy_cache atoll;",
		"proxy_cache_revalidate on;",
		"pid " + dir + "/nginx.pid;",
		"error_log " + dir + "/error.log warn;",
		"proxy_cache_path " + dir + "/cache ",
		"proxy_temp_path " + dir + "/proxy_temp;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the configuration lacks %q:\n%s", want, got)
		}
	}
	// The batch stream must flow: nothing here may switch off nginx's
	// reading of the upstream's X-Accel-Buffering header.
	if strings.Contains(got, "proxy_ignore_headers") || strings.Contains(got, "X-Accel-Buffering off") {
		t.Errorf("the configuration ignores X-Accel-Buffering:\n%s", got)
	}
	// A POST that reached a replica is sent to another only when it
	// carries an Idempotency-Key: non_idempotent appears once, in the
	// named location that only keyed action requests reach.
	keyed := regexp.MustCompile(`(?s)location @keyed_action \{[^}]*\}`).FindString(got)
	if strings.Count(got, "non_idempotent") != 1 || !strings.Contains(keyed, "proxy_next_upstream error timeout http_502 non_idempotent;") {
		t.Errorf("non_idempotent must be in @keyed_action only:\n%s", got)
	}
	actions := regexp.MustCompile(`(?s)location ~ /actions/\S+ \{.*?\n        \}`).FindString(got)
	for _, want := range []string{"error_page 418 = @keyed_action;", "if ($http_idempotency_key) {\n                return 418;\n            }",
		"proxy_next_upstream error timeout http_502;"} {
		if !strings.Contains(actions, want) {
			t.Errorf("the actions location lacks %q:\n%s", want, actions)
		}
	}
	// Every primary comes before every backup, and each replica is listed
	// exactly twice.
	servers := regexp.MustCompile(`(?m)^\s*server (\S+) (.*);$`).FindAllStringSubmatch(got, -1)
	if len(servers) != 4 || strings.Contains(servers[0][2], "backup") || strings.Contains(servers[1][2], "backup") ||
		!strings.Contains(servers[2][2], "backup") || !strings.Contains(servers[3][2], "backup") {
		t.Errorf("upstream servers = %q, want two primaries then two backups", servers)
	}
	// Every absolute path nginx writes is under the prefix.
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+) (/\S+)`).FindAllStringSubmatch(got, -1) {
		if !strings.HasPrefix(m[2], dir+"/") {
			t.Errorf("%s writes to %s, outside %s", m[1], m[2], dir)
		}
	}
}

// TestWriteStitchesIslandsIntoPages wants the edge of issue 19: pages ask
// for the shell with the header Atoll believes, under a cache key of their
// own; SSI fills the islands from an internal location that asks for
// plain fragments and passes the visitor's request on; a stitched page
// leaves private, its marker dropped.
func TestWriteStitchesIslandsIntoPages(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := Write(&b, Config{Listen: "127.0.0.1:8080", Upstreams: []string{"127.0.0.1:9001"}, Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"proxy_set_header " + server.EdgeHeader + " " + server.EdgeSSI + ";",
		`proxy_cache_key "$scheme$proxy_host$request_uri ` + server.EdgeSSI + `";`,
		"ssi on;",
		"location ^~ " + islands.EdgePrefix + "/ {",
		"rewrite ^" + islands.EdgePrefix + "(/.*)$ $1 break;",
		"internal;",
		`proxy_set_header Accept-Encoding "";`,
		"proxy_hide_header " + server.StitchedHeader + ";",
		"map $upstream_http_" + strings.ReplaceAll(strings.ToLower(server.StitchedHeader), "-", "_") + " $atoll_cache_control {",
		`default "private, no-store";`,
		"add_header Cache-Control $atoll_cache_control always;",
		"error_page 502 503 504 = @edge_unanswered;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the configuration lacks %q", want)
		}
	}
	// The edge location passes the visitor's cookies on: nothing there
	// may clear them.
	edge := got[strings.Index(got, "location ^~ "+islands.EdgePrefix):]
	edge = edge[:strings.Index(edge, "}")]
	if strings.Contains(edge, "Cookie") || strings.Contains(edge, "proxy_cache atoll") {
		t.Errorf("the edge location drops cookies or caches islands:\n%s", edge)
	}
}

func TestWriteRefusesWhatNginxCouldNotUse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		c    Config
		want string
	}{
		{"no listen address", Config{Upstreams: []string{"127.0.0.1:1"}, Dir: "/x"}, "listen"},
		{"a listen address without a port", Config{Listen: "127.0.0.1", Upstreams: []string{"127.0.0.1:1"}, Dir: "/x"}, "listen"},
		{"no upstreams", Config{Listen: ":80", Dir: "/x"}, "upstreams"},
		{"an upstream that ends the directive", Config{Listen: ":80", Upstreams: []string{"127.0.0.1:1;"}, Dir: "/x"}, "upstream"},
		{"no directory", Config{Listen: ":80", Upstreams: []string{"127.0.0.1:1"}}, "dir"},
		{"a directory with a space", Config{Listen: ":80", Upstreams: []string{"127.0.0.1:1"}, Dir: "/my dir"}, "dir"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			err := Write(&b, tc.c)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Write = %v, want an error starting %q", err, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("a refused configuration was written: %q", b.String())
			}
		})
	}
}

// TestNginxAcceptsTheConfiguration runs nginx -t on the output, as a
// deployment would start it. It needs nginx and fails without it.
func TestNginxAcceptsTheConfiguration(t *testing.T) {
	t.Parallel()
	nginx, err := Path()
	if err != nil {
		t.Fatalf("this test runs nginx -t: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "nginx.conf")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	err = Write(f, Config{Listen: "127.0.0.1:8080", Upstreams: []string{"127.0.0.1:9001", "127.0.0.1:9002"}, Dir: dir})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nginx, "-t", "-p", dir, "-c", file, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t -p %s -c %s: %v\n%s", dir, file, err, out)
	}
}
