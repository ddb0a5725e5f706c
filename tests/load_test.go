//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"flag"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/tests/internal/loadgen"
)

// loadTargets are a page, an island and a batch stream of site.
func loadTargets(t *testing.T, base string, get func(string) string) []loadgen.Target {
	t.Helper()
	m := batchURL.FindStringSubmatch(get("/many-batched"))
	if m == nil {
		t.Fatal("no batch URL on /many-batched")
	}
	return []loadgen.Target{
		{Name: "page", URL: base + "/"},
		{Name: "island", URL: base + "/_islands/server-info?page=%2F"},
		{Name: "batch", URL: base + strings.ReplaceAll(m[1], "&amp;", "&")},
	}
}

// loadFor is how long TestLoadAtSaturation drives its three targets in
// all: three seconds in the suite (thousands of requests each, on two
// CPUs that other tests share); make load asks for ten, for steadier figures.
var loadFor = flag.Duration("load.duration", 3*time.Second, "how long TestLoadAtSaturation drives its targets, in all")

// TestLoadAtSaturation drives a page, an island and the batch stream as
// hard as 32 workers can for -load.duration: every answer must be a 200
// with a full body.
func TestLoadAtSaturation(t *testing.T) {
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithLog(io.Discard))
	targets := loadTargets(t, site.URL, func(p string) string { return site.Get(t, p).Body })
	for _, target := range targets {
		res := loadgen.Run(context.Background(), loadgen.Config{Targets: []loadgen.Target{target}, Concurrency: 32,
			Duration: *loadFor / time.Duration(len(targets)), MaxRequests: 200_000})[0]
		t.Log(res)
		if res.Errors != 0 || len(res.Unexpected) != 0 || res.Refused != 0 || res.Requests == 0 {
			t.Errorf("%s under load: %s (first error: %s)", target.Name, res, res.FirstError)
		}
	}
}

// TestSIGTERMDuringLoad stops the real binary while it is under load:
// requests in flight finish, new connections are refused, nothing fails,
// and the process exits in time.
func TestSIGTERMDuringLoad(t *testing.T) {
	cmd := exec.Command(serverBinary(t), "-addr", "127.0.0.1:0")
	cmd.Env = environ(t, "ATOLL_SHUTDOWN_TIMEOUT=10s")
	url, logs := started(t, cmd)
	go func() {
		for logs.Scan() { // keep the pipe drained
		}
	}()
	get := func(p string) string {
		res, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	targets := loadTargets(t, url, get)
	slow := regexp.MustCompile(`hx-get="(/_islands/latency[^"]+)"`).FindAllStringSubmatch(get("/many"), -1)
	targets = append(targets, loadgen.Target{Name: "slow", URL: url + strings.ReplaceAll(slow[2][1], "&amp;", "&")}) // the 380 ms tile

	done := make(chan []*loadgen.Result, 1)
	go func() {
		done <- loadgen.Run(context.Background(), loadgen.Config{Targets: targets, Concurrency: 16, Duration: 4 * time.Second})
	}()
	time.Sleep(1500 * time.Millisecond) // let the load reach a steady state before the signal
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
		t.Logf("exited %s after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	case <-time.After(12 * time.Second):
		t.Fatal("still running 12s after SIGTERM, past the 10s shutdown deadline")
	}
	refused := 0
	for _, r := range <-done {
		t.Log(r)
		refused += r.Refused
		if r.Errors != 0 || len(r.Unexpected) != 0 || r.Requests == 0 {
			t.Errorf("%s: %s (first error: %s)", r.Target, r, r.FirstError)
		}
	}
	if refused == 0 {
		t.Error("no connection was refused after SIGTERM: the load did not outlast the server")
	}
}
