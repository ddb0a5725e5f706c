// Command loadbench measures Atoll against its floor over real sockets:
// the real server and a bare Fiber handler that writes the same page
// bytes, builds the same island HTML with fmt and sends the same response
// headers, each driven by the same load generator in the same run. It
// prints requests per second, p50 and p99, each server's CPU time per
// request, each ratio of Atoll's throughput to the floor's, and each
// server's resident memory. -only page|island measures one target;
// -cpuprofile profiles the Atoll server over the whole run (make pgo).
//
// Atoll and the floor each run in a process of their own (this binary,
// started again with -serve), so the resident memory read from
// /proc/PID/status is theirs alone: VmRSS right after startup and VmHWM,
// the peak, after the load. The load generator runs in this process, and
// Atoll and the floor take turns in five slices of the duration each, so
// that whatever else runs on the machine weighs on both alike.
// Before measuring, loadbench fetches the page and the island from both
// and fails unless they send the same header names with the same values
// (Date, X-Request-Id, Server-Timing and Content-Length excepted), so the
// ratio cannot drift into comparing different responses.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	atollserver "github.com/atollhq/atoll/server"
	"github.com/atollhq/atoll/tests/internal/floor"
	"github.com/atollhq/atoll/tests/internal/loadgen"
	"github.com/atollhq/atoll/tests/internal/localsite"
)

const (
	// turns is how many turns Atoll and the floor take under load, so
	// that load from elsewhere on the machine falls on both alike.
	turns      = 5
	pagePath   = "/about"
	islandPath = "/_islands/server-info"
)

func main() {
	duration := flag.Duration("d", 5*time.Second, "load duration per measurement")
	workers := flag.Int("c", 32, "concurrent connections")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the Atoll server, over all its load runs, to this file")
	serve := flag.String("serve", "", "internal: serve `atoll` or `floor` until stdin closes")
	atollURL := flag.String("atoll", "", "internal: the Atoll server the floor copies its page from")
	only := flag.String("only", "", "measure only `page` or `island`")
	flag.Parse()
	switch *only {
	case "page":
		targets = targets[:1]
	case "island":
		targets = targets[1:]
	}
	var err error
	if *serve != "" {
		err = child(*serve, *atollURL, *profile)
	} else {
		err = run(*duration, *workers, *profile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// targets are the paths measured: a page and an island.
var targets = []string{pagePath, islandPath + "?page=%2F"}

func run(d time.Duration, workers int, profile string) error {
	atoll, err := startServer("atoll", "-cpuprofile", profile)
	if err != nil {
		return err
	}
	defer atoll.stop()
	fl, err := startServer("floor", "-atoll", atoll.url)
	if err != nil {
		return err
	}
	defer fl.stop()
	for _, path := range targets {
		if err := sameHeaders(atoll.url+path, fl.url+path); err != nil {
			return err
		}
	}

	fmt.Printf("load: %d connections, %s per target, in %d alternating turns, servers in their own processes, %d CPUs\n\n",
		workers, d, turns, runtime.NumCPU())
	for _, path := range targets {
		var res [2]*loadgen.Result
		var cpu [2]time.Duration
		for range turns {
			for i, s := range []*server{atoll, fl} {
				before := cpuTime(s.cmd.Process.Pid)
				r := loadgen.Run(context.Background(), loadgen.Config{
					Targets: []loadgen.Target{{Name: s.name, URL: s.url + path}}, Concurrency: workers, Duration: d / turns,
				})[0]
				cpu[i] += cpuTime(s.cmd.Process.Pid) - before
				if res[i] == nil {
					res[i] = r
				} else {
					res[i].Merge(r)
				}
			}
		}
		name := strings.TrimSuffix(path, "?page=%2F")
		for i, s := range []*server{atoll, fl} {
			if res[i].Errors+res[i].Refused > 0 || len(res[i].Unexpected) > 0 {
				return fmt.Errorf("%s %s: %s (%s)", s.name, path, res[i], res[i].FirstError)
			}
			fmt.Printf("%-22s %s  server CPU %.1f µs/req\n", name, res[i], perRequest(cpu[i], res[i].Requests))
		}
		fmt.Printf("%-22s ratio to floor: %.2f (server CPU per request: %.2f)\n\n", name, res[0].RPS()/res[1].RPS(),
			perRequest(cpu[1], res[1].Requests)/perRequest(cpu[0], res[0].Requests))
	}
	for _, s := range []*server{atoll, fl} {
		rss, peak := memory(s.cmd.Process.Pid)
		fmt.Printf("%-6s resident: %5.1f MiB after startup, %5.1f MiB now, %5.1f MiB peak\n", s.name, mib(s.startRSS), mib(rss), mib(peak))
	}
	return nil
}

// server is a child process serving Atoll or the floor.
type server struct {
	name     string
	url      string
	cmd      *exec.Cmd
	stdin    io.Closer
	startRSS int64 // bytes, read as soon as it listens
}

// startServer runs this binary with -serve name and waits, at most a
// minute, for the line with its URL.
func startServer(name string, args ...string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{"-serve", name}, args...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		s.url, _ = strings.CutPrefix(l, "listening ")
	case <-time.After(time.Minute):
	}
	if !strings.HasPrefix(s.url, "http://") {
		s.stop()
		return nil, fmt.Errorf("%s server did not start", name)
	}
	s.startRSS, _ = memory(cmd.Process.Pid)
	return s, nil
}

// stop closes the child's stdin, which makes it shut down, and waits up
// to ten seconds before killing it.
func (s *server) stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// memory returns a process's resident memory and its peak, in bytes.
func memory(pid int) (rss, peak int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return rss, peak
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// cpuTime is the user and system CPU time a process has used, from
// /proc/PID/stat, in clock ticks of 10 ms.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func perRequest(cpu time.Duration, requests int) float64 {
	return float64(cpu.Microseconds()) / float64(max(requests, 1))
}

// child serves Atoll (as cmd/server does: one JSON line per request,
// written in batches, here to /dev/null) or the floor, prints "listening URL", and serves
// until stdin closes.
func child(name, atollURL, profile string) error {
	var stop func()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	switch name {
	case "atoll":
		ln.Close() // localsite listens itself
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer devnull.Close()
		uuid.EnableRandPool()                                          // as cmd/server does
		out := atollserver.NewLogBuffer(devnull, 100*time.Millisecond) // as cmd/server does
		site, err := localsite.Start(zerolog.New(out).With().Timestamp().Logger())
		if err != nil {
			return err
		}
		stop = func() { site.Close(); out.Close() }
		fmt.Println("listening", site.URL)
	case "floor":
		page, err := floorPage(atollURL)
		if err != nil {
			return err
		}
		app := floor.App(page, islandPath)
		go func() { _ = app.Listener(ln) }()
		stop = func() { _ = app.Shutdown() }
		fmt.Println("listening http://" + ln.Addr().String())
	default:
		return fmt.Errorf("-serve %q: want atoll or floor", name)
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
	return nil
}

// floorPage fetches Atoll's page: the floor serves its bytes with its
// caching headers.
func floorPage(atollURL string) (floor.Page, error) {
	res, err := plain.Get(atollURL + pagePath)
	if err != nil {
		return floor.Page{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return floor.Page{Path: pagePath, Body: body, ETag: res.Header.Get("ETag"), CacheControl: res.Header.Get("Cache-Control"), CSP: res.Header.Get("Content-Security-Policy")}, err
}

// plain sends no Accept-Encoding, as the load generator does.
var plain = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}

// varying are the headers whose values differ per response; only their
// presence is compared.
var varying = []string{"Date", "X-Request-Id", "Server-Timing", "Content-Length"}

// sameHeaders fails unless both URLs answer 200 with the same header
// names and, varying headers aside, the same values.
func sameHeaders(atollURL, floorURL string) error {
	var hs [2]http.Header
	for i, u := range []string{atollURL, floorURL} {
		res, err := plain.Get(u)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", u, res.StatusCode)
		}
		hs[i] = res.Header
	}
	var diffs []string
	for _, k := range union(hs[0], hs[1]) {
		a, f := hs[0].Values(k), hs[1].Values(k)
		switch {
		case len(a) == 0 || len(f) == 0:
			diffs = append(diffs, fmt.Sprintf("%s: atoll %q, floor %q", k, a, f))
		case !slices.Contains(varying, k) && !slices.Equal(a, f):
			diffs = append(diffs, fmt.Sprintf("%s: atoll %q, floor %q", k, a, f))
		}
	}
	if len(diffs) > 0 {
		return errors.New("the floor does not send Atoll's headers for " + strings.TrimPrefix(floorURL, "http://") +
			" (change internal/floor to match):\n  " + strings.Join(diffs, "\n  "))
	}
	return nil
}

func union(a, b http.Header) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
