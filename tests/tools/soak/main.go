// Command soak runs a bounded mixed load (pages, islands, the batch
// stream, actions' reads) against the real server in this process and
// reports resident memory and goroutine counts at the start and at the
// end. It exits non-zero when either grew by more than the allowance:
// a leak, not noise.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/tests/internal/loadgen"
	"github.com/atollhq/atoll/tests/internal/localsite"
)

func main() {
	d := flag.Duration("d", 60*time.Second, "soak duration")
	c := flag.Int("c", 16, "concurrent connections")
	flag.Parse()
	if err := run(*d, *c); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(d time.Duration, workers int) error {
	uuid.EnableRandPool()
	site, err := localsite.Start(zerolog.New(io.Discard))
	if err != nil {
		return err
	}
	defer site.Close()
	base := site.URL

	body, err := get(base + "/many-batched")
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`id="islands-batch"[^>]*hx-get="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		return fmt.Errorf("no batch URL on /many-batched")
	}
	targets := []loadgen.Target{
		{Name: "page", URL: base + "/"},
		{Name: "products", URL: base + "/products", Header: http.Header{"Accept-Encoding": {"br"}}},
		{Name: "island", URL: base + "/_islands/server-info?page=%2F"},
		{Name: "greeting", URL: base + "/_islands/user-greeting?page=%2F"},
		{Name: "ticker", URL: base + "/_islands/ticker?page=%2F&every=3s"},
		{Name: "batch", URL: base + strings.ReplaceAll(m[1], "&amp;", "&")},
		{Name: "dashboard", URL: base + "/dashboard"},
	}
	// Warm up, then take the baseline.
	loadgen.Run(context.Background(), loadgen.Config{Targets: targets, Concurrency: workers, Duration: 5 * time.Second})
	rss0, g0 := measure()
	fmt.Printf("start: resident %d KiB, goroutines %d\n", rss0, g0)
	results := loadgen.Run(context.Background(), loadgen.Config{Targets: targets, Concurrency: workers, Duration: d})
	failed := false
	for _, r := range results {
		fmt.Println(r)
		if r.Errors+r.Refused > 0 || len(r.Unexpected) > 0 {
			failed = true
		}
	}
	rss1, g1 := measure()
	fmt.Printf("end:   resident %d KiB, goroutines %d\n", rss1, g1)
	if failed {
		return fmt.Errorf("requests failed during the soak")
	}
	if g1 > g0+10 || float64(rss1) > float64(rss0)*1.25+8192 {
		return fmt.Errorf("not flat: goroutines %d -> %d, resident %d -> %d KiB", g0, g1, rss0, rss1)
	}
	fmt.Println("flat: memory and goroutines held steady")
	return nil
}

// measure settles the heap and returns resident memory (KiB) and the
// goroutine count, once the load generator's connections are closed.
func measure() (rssKiB int, goroutines int) {
	for range 3 {
		runtime.GC()
		time.Sleep(200 * time.Millisecond) // idle connections close and their goroutines exit
	}
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return rssKiB, runtime.NumGoroutine()
}

func get(u string) (string, error) {
	res, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}
