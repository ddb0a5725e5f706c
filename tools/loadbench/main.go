// Command loadbench measures Atoll against its floor over real sockets:
// the real server and a bare Fiber handler that writes the same page bytes
// and builds the same island HTML with fmt, each driven by the same load
// generator in the same run. It prints requests per second, p50 and p99,
// and each ratio of Atoll's throughput to the floor's.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"atoll/internal/floor"
	"atoll/internal/loadgen"
	"atoll/internal/localsite"
)

func main() {
	duration := flag.Duration("d", 5*time.Second, "load duration per measurement")
	workers := flag.Int("c", 32, "concurrent connections")
	profile := flag.String("cpuprofile", "", "write a CPU profile of one Atoll run to this file")
	flag.StringVar(&profilePath, "profile-path", "/about", "the path whose Atoll run -cpuprofile profiles")
	flag.Parse()
	cpuProfile = *profile
	uuid.EnableRandPool() // as cmd/server does
	if err := run(*duration, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(d time.Duration, workers int) error {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	// The request log is written, one line per request, to /dev/null: the
	// encoding and the write are paid as in production.
	site, err := localsite.Start(zerolog.New(devnull))
	if err != nil {
		return err
	}
	defer site.Close()
	atoll := site.URL

	page, err := fetch(atoll + "/about")
	if err != nil {
		return err
	}
	floorApp := floor.App("/about", page, "/_islands/server-info")
	floorURL, stopFloor, err := serve(floorApp.Listener, floorApp.Shutdown)
	if err != nil {
		return err
	}
	defer stopFloor()

	fmt.Printf("load: %d connections, %s per measurement, one process, %d CPUs\n\n", workers, d, runtimeCPUs())
	for _, path := range []string{"/about", "/_islands/server-info"} {
		var res [2]*loadgen.Result
		for i, base := range []string{atoll, floorURL} {
			u := base + path
			if path != "/about" && i == 0 {
				u += "?page=%2F"
			}
			name := []string{"atoll", "floor"}[i]
			stopProfile := startProfile(i == 0 && path == profilePath)
			res[i] = loadgen.Run(context.Background(), loadgen.Config{
				Targets: []loadgen.Target{{Name: name, URL: u}}, Concurrency: workers, Duration: d,
			})[0]
			stopProfile()
			if res[i].Errors+res[i].Refused > 0 || len(res[i].Unexpected) > 0 {
				return fmt.Errorf("%s %s: %s (%s)", name, path, res[i], res[i].FirstError)
			}
			fmt.Printf("%-22s %s\n", path, res[i])
		}
		fmt.Printf("%-22s ratio to floor: %.2f\n\n", path, res[0].RPS()/res[1].RPS())
	}
	return nil
}

func serve(serveFn func(net.Listener) error, stop func() error) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = serveFn(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = stop() }, nil
}

func fetch(u string) ([]byte, error) {
	res, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}

func runtimeCPUs() int { return runtime.NumCPU() }

var cpuProfile, profilePath string

// startProfile profiles the Atoll page run when -cpuprofile is set.
func startProfile(on bool) func() {
	if !on || cpuProfile == "" {
		return func() {}
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
