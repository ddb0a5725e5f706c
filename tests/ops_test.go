//go:build !race

package tests

import (
	"context"
	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/config"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/server"
)

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	clk := atolltest.NewClock(time.Now())
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithClock(clk.Now),
		atolltest.WithConfig(func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" }))
	if r := site.Get(t, "/metrics"); r.Status != 404 || strings.Contains(r.Body, "go_goroutines") {
		t.Fatalf("/metrics on the public listener: %d, want the 404 page", r.Status)
	}
	for _, p := range []string{"/livez", "/readyz"} {
		if r := site.Get(t, p); r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d", p, r.Status)
		}
	}
	site.Get(t, "/")
	site.Island(t, "server-info")
	site.Island(t, "fault-error")
	site.Island(t, "fault-panic")
	site.Get(t, "/_islands/latency?page=%2F&p=tampered")
	site.Get(t, "/regenerated")
	clk.Add(time.Minute)
	site.Get(t, "/regenerated") // stale: starts one regeneration
	var m string
	for range 200 { // the regeneration runs in the background; poll the metrics for it
		res, err := site.Client().Get(site.MetricsURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m = string(b)
		if strings.Contains(m, `atoll_page_regenerations_total{page="/regenerated",result="ok"} 1`) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		`atoll_http_requests_total{method="GET",path="/_islands/:name",service="atoll",status_code="200"}`,
		`atoll_http_requests_total{method="GET",path="/*",service="atoll",status_code="200"}`,
		`atoll_http_request_duration_seconds_bucket{`,
		`atoll_island_render_duration_seconds_count{island="server-info",outcome="ok"} 1`,
		`atoll_island_render_duration_seconds_count{island="fault-error",outcome="error"} 1`,
		`atoll_island_render_duration_seconds_count{island="fault-panic",outcome="panic"} 1`,
		`atoll_island_render_duration_seconds_count{island="latency",outcome="bad_props"} 1`,
		`atoll_page_regenerations_total{page="/regenerated",result="ok"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	mine := uuid.NewString()
	r := site.Island(t, "server-info", "X-Request-ID", mine)
	if r.Header.Get("X-Request-ID") != mine {
		t.Fatalf("a well-formed incoming id was not kept: %q", r.Header.Get("X-Request-ID"))
	}
	if line := logLine(t, site, mine); !strings.Contains(line, `"island":"server-info"`) {
		t.Fatalf("the island render's log line lacks the island: %s", line)
	}
	for _, bad := range []string{"not-an-id", `"}{"level":"error`, strings.Repeat("a", 36), "00000000-0000-0000-0000-000000000000"} {
		r := site.Island(t, "server-info", "X-Request-ID", bad)
		if got := r.Header.Get("X-Request-ID"); got == bad || uuid.Validate(got) != nil {
			t.Fatalf("incoming id %q came back as %q, want a fresh uuid", bad, got)
		}
		if strings.Contains(site.Logs.String(), bad) {
			t.Fatalf("a malformed incoming id reached the log: %q", bad)
		}
	}
	// Every log line of a batch stream carries the stream's request id.
	m := batchURL.FindStringSubmatch(site.Get(t, "/many-batched").Body)
	id := uuid.NewString()
	site.Get(t, strings.ReplaceAll(m[1], "&amp;", "&"), "X-Request-ID", id)
	renders := 0
	for _, l := range strings.Split(site.Logs.String(), "\n") {
		if strings.Contains(l, `"request_id":"`+id+`"`) && strings.Contains(l, `"message":"batch island"`) &&
			strings.Contains(l, `"island":"`) && strings.Contains(l, `"render":`) {
			renders++
		}
	}
	if renders != 11 { // ten tiles and the header's cart count
		t.Fatalf("%d batch island renders logged with the stream's request id, want 11", renders)
	}
}

func TestReadyzDrainsOnShutdown(t *testing.T) {
	srv, err := server.New(server.Options{Config: testConfig(), Log: zerolog.Nop(), Store: testStore(t), Site: atoll.Demo()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := srv.App().Test(httptestRequest("/readyz"), 5000)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz while shutting down: %d, want 503", res.StatusCode)
	}
}

func httptestRequest(path string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return req
}
